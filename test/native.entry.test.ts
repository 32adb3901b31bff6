/**
 * The addon's entry points check everything JavaScript hands them. Every function (open,
 * sampleInto, close, baseline, baselineThread, nowInto, tick, runLoop, forkWatchDrain,
 * forkWatchClose) is called with bad handles, offsets and layouts, arrays too short or of the
 * wrong type, and negative, huge and NaN numbers (test/fixtures/native-hostile.mjs, 240 cases, in
 * the main thread and again in a worker). Each must throw a TypeError or RangeError with code
 * ERR_PROCPROBE_INVALID_OPTION that is an InvalidOptionError, leave the caller's arrays untouched,
 * return at once (no call may block), and the process must survive. The calls run in a child
 * process: a segfault there is a failed test naming the signal and the last case, not a crashed
 * runner.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURES } from './helpers/readers.js';
import { need } from './helpers/optional-readers.js';

interface CaseLine {
  where: 'main' | 'worker';
  name: string;
  threw: boolean;
  kind?: string;
  expected: 'type' | 'range';
  code?: string;
  option?: string;
  message?: string;
  typed?: boolean;
  ms: number;
  canaryKept: boolean;
}

interface DoneLine {
  where: 'main' | 'worker';
  done: true;
  cases: number;
  threw: number;
  validLoopExit: number;
  validStatus: number;
  pid: number;
  crossed: { name: string; typed: boolean; option: string; value: number } | null;
}

function runHostile(): { lines: (CaseLine | DoneLine)[]; status: number | null; signal: string | null; stderr: string } {
  const r = spawnSync(process.execPath, [join(FIXTURES, 'native-hostile.mjs')], { encoding: 'utf8', timeout: 60_000 });
  const lines = r.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as CaseLine | DoneLine);
  return { lines, status: r.status, signal: r.signal, stderr: r.stderr };
}

describe('native entry points with hostile arguments', () => {
  it('each bad call throws a typed error with its code, touches nothing, and the process survives', (ctx) => {
    need(ctx, 'addon');
    const { lines, status, signal, stderr } = runHostile();
    const last = lines.at(-1);
    const lastName = last && 'name' in last ? `${last.where}: ${last.name}` : JSON.stringify(last);
    // The first assertion a crash fails: which signal, after which case (the next one crashed).
    expect({ status, signal }, `the child died after case "${lastName}"\n${stderr.slice(-2000)}`).toEqual({ status: 0, signal: null });

    const done = lines.filter((l): l is DoneLine => 'done' in l);
    expect(done.map((d) => d.where).sort()).toEqual(['main', 'worker']);
    const cases = lines.filter((l): l is CaseLine => 'name' in l);
    for (const d of done) {
      expect(d.cases).toBeGreaterThanOrEqual(200);
      expect(cases.filter((c) => c.where === d.where)).toHaveLength(d.cases);
    }
    const wrong = cases
      .filter((c) => !(c.threw && c.kind === c.expected && c.code === 'ERR_PROCPROBE_INVALID_OPTION' && c.typed && c.canaryKept))
      .map((c) => `${c.where}: ${c.name} -> ${c.threw ? `${c.kind} ${c.code} typed=${c.typed} canary=${c.canaryKept}: ${c.message}` : 'no error'}`);
    expect(wrong).toEqual([]);
    // "No call may block": a deadline an hour ahead, 10^9 reads, a 10 min baseline are refused
    // before anything runs (the slowest rejection took 0.12 ms when this was written).
    expect(Math.max(...cases.map((c) => c.ms))).toBeLessThan(50);
    // Every message names the function and the argument, in InvalidOptionError's words.
    for (const c of cases) {
      expect(c.message, c.name).toMatch(/^[a-zA-Z]+: .+ must be .+, got .+/);
      expect(c.message!.startsWith(`${c.option} must be`), c.name).toBe(true);
    }
  });

  it('refuses nothing that is right: the real ring layout runs, the probe still samples, and the error crosses threads in its class', (ctx) => {
    need(ctx, 'addon');
    const { lines, status } = runHostile();
    expect(status).toBe(0);
    for (const d of lines.filter((l): l is DoneLine => 'done' in l)) {
      expect(d.validLoopExit, `${d.where}: runLoop with loopLayout(ringGeometry(8, 2)) and the stop word set`).toBe(0);
      expect(d.validStatus, d.where).toBe(0);
      expect(d.pid, d.where).toBeGreaterThan(0);
      expect(d.crossed).toEqual({ name: 'InvalidOptionError', typed: true, option: 'open: pid', value: -1 });
    }
  });
});
