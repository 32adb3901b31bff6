#!/usr/bin/env node
/**
 * How often does the regression gate get it right? One baseline of `sleep A`, then the gate
 * (`run --baseline`) repeated: against `sleep A` again (the right answer is exit 0) and against
 * `sleep B` (exit 3 when B/A − 1 is above the threshold). Prints the share of each exit status.
 * A standalone measurement, not a *.bench.mjs: it runs for minutes (the 40 repetitions
 * of each take about 4 min on a 2-core machine). `sleep`, not a busy loop: the machine is shared.
 *
 *   node bench/gate-repeat.mjs [--reps 40] [--runs 6] [--a 0.1] [--b 0.14] [--max-regression 5%]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: { reps: { type: 'string', default: '40' }, runs: { type: 'string', default: '6' }, a: { type: 'string', default: '0.1' }, b: { type: 'string', default: '0.14' }, 'max-regression': { type: 'string', default: '5%' } },
});
const CLI = new URL('../dist/cli/main.js', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'procprobe-gate-repeat-'));
const baseline = join(dir, 'baseline.json');

function procprobe(args) {
  const r = spawnSync(process.execPath, [CLI, 'run', '--quiet', '--runs', values.runs, '--data-dir', join(dir, 'data'), ...args], { encoding: 'utf8' });
  return r.status;
}

try {
  const load0 = loadavg()[0];
  if (procprobe(['--save-baseline', baseline, '--', 'sleep', values.a]) !== 0) throw new Error('the baseline run failed');
  const tally = { same: new Map(), slower: new Map() };
  for (let i = 0; i < Number(values.reps); i++) {
    for (const [kind, secs] of [['same', values.a], ['slower', values.b]]) {
      const code = procprobe(['--baseline', baseline, '--max-regression', values['max-regression'], '--', 'sleep', secs]);
      tally[kind].set(code, (tally[kind].get(code) ?? 0) + 1);
    }
  }
  const share = (m, code) => `${(((m.get(code) ?? 0) / Number(values.reps)) * 100).toFixed(1)} %`;
  const out = {
    reps: Number(values.reps), runs: Number(values.runs), a: values.a, b: values.b, maxRegression: values['max-regression'],
    sameExit0: share(tally.same, 0), slowerExit3: share(tally.slower, 3),
    same: Object.fromEntries(tally.same), slower: Object.fromEntries(tally.slower),
    loadAverage: { start: load0, end: loadavg()[0] },
  };
  process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
