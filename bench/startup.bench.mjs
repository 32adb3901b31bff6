/**
 * How exact is `procprobe run` on one-shot commands: its total_startup against hyperfine -N
 * (a dedicated runner: no shell, no sampler, posix_spawn and wait4) on the same commands in the
 * same run, and against itself with child_process.spawn (`--keep` makes the CLI use it), the way
 * every run was timed before the native spawn, in alternating blocks. Each table's baseline is
 * hyperfine's median.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { machine, noteRow, row, summarize } from './harness.mjs';

export const name = 'startup';
export const question = 'How close is procprobe run to hyperfine -N on one-shot commands, with the native spawn and with child_process?';

const CLI = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
const BASELINE = 'hyperfine -N (baseline)';

function commands() {
  const list = [['/bin/true'], [process.execPath, '-e', '0']];
  if (spawnSync('/usr/bin/python3', ['-c', '0']).status === 0) list.splice(1, 0, ['/usr/bin/python3', '-c', 'import json']);
  return list;
}

/** hyperfine -N's per-run times (ms), or null without hyperfine. */
function hyperfine(cmd, runs, dir) {
  const out = join(dir, 'hyperfine.json');
  // hyperfine -N splits a command string like a shell: a word with a space is quoted.
  const line = cmd.map((w) => (/\s/.test(w) ? `'${w}'` : w)).join(' ');
  const r = spawnSync('hyperfine', ['-N', '--runs', String(runs), '--warmup', '3', '--export-json', out, '--style', 'none', line], { encoding: 'utf8' });
  if (r.error) return null;
  if (r.status !== 0) throw new Error(`hyperfine failed on ${line}: ${r.stderr.slice(-300)}`);
  return JSON.parse(readFileSync(out, 'utf8')).results[0].times.map((s) => s * 1e3);
}

/** procprobe run --runs N: each run's total_startup (ms) and how many runs had resources. */
function procprobe(cmd, runs, dir, extra) {
  const r = spawnSync(process.execPath, [CLI, 'run', '--json', '--runs', String(runs), '--warmup', '2', ...extra, '--data-dir', join(dir, 'data'), '--', ...cmd], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`procprobe run failed (${r.status}): ${r.stderr.slice(-400)}`);
  const measured = JSON.parse(r.stdout).runs.filter((x) => !x.warmup);
  // Counted, not assumed: how many runs have the command's CPU (wait4's totals at least), and how
  // many were also seen by a sample (a 1 ms command often ends before the first one lands).
  const startup = measured.map((x) => x.phases.find((p) => p.name === 'process_startup')?.resources);
  const withCpu = startup.filter((d) => Number.isFinite(d?.cpuMs)).length;
  const sampled = startup.filter((d) => d?.samples > 0).length;
  return { ms: measured.map((x) => x.totalStartupMs), sampled, withCpu };
}

const stats = (ms) => {
  const s = summarize(ms.map((x) => x * 1e6));
  return { nsPerOp: s.median, rme: s.rme, samples: s.samples };
};

export async function run({ quick }) {
  // Alternating blocks, so that a load change on a shared machine hits all three alike: the
  // ratio is taken within one run, block by block, not across minutes of different load.
  const [blocks, per] = quick ? [1, 5] : [4, 5];
  const runs = blocks * per;
  const tables = [];
  for (const cmd of commands()) {
    const dir = mkdtempSync(join(tmpdir(), 'procprobe-bench-startup-'));
    const hf = [], native = { ms: [], sampled: 0, withCpu: 0 }, node = { ms: [], sampled: 0, withCpu: 0 };
    try {
      for (let b = 0; b < blocks; b++) {
        const h = hyperfine(cmd, per, dir);
        if (!h) throw new Error('hyperfine is not installed (apt-get install hyperfine): no baseline, no result');
        hf.push(...h);
        for (const [into, extra] of [[native, []], [node, ['--keep']]]) {
          const r = procprobe(cmd, per, dir, extra);
          into.ms.push(...r.ms);
          into.sampled += r.sampled;
          into.withCpu += r.withCpu;
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const floor = summarize(hf).median;
    const over = (ms) => {
      const m = summarize(ms).median;
      return `${m >= floor ? '+' : ''}${(m - floor).toFixed(2)} ms over hyperfine's median; target ≤ 1.05x + 0.5 ms: ${m <= floor * 1.05 + 0.5 ? 'met' : 'MISSED'}`;
    };
    const rows = [
      row(BASELINE, stats(hf), `median of ${hf.length}`, true),
      row('procprobe run (native spawn, wait4)', stats(native.ms), `${over(native.ms)}; ${native.withCpu}/${runs} runs with CPU, ${native.sampled}/${runs} sampled`),
      row('procprobe run --keep (child_process)', stats(node.ms), `${over(node.ms)}; ${node.withCpu}/${runs} runs with CPU, ${node.sampled}/${runs} sampled`),
    ];
    tables.push({ title: `total_startup of \`${cmd.map((w) => (w === process.execPath ? 'node' : w)).join(' ')}\`, ${runs} runs each in ${blocks} alternating blocks`, baselineName: BASELINE, rows });
  }
  if (tables.length === 0) tables.push({ title: 'no command', baselineName: BASELINE, rows: [noteRow(BASELINE, 'nothing to run')] });
  return { baselineName: BASELINE, rows: tables[0].rows, tables, machine: machine() };
}
