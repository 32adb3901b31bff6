/**
 * What starting a command costs the CLI's main thread, and how late its exit becomes known:
 * child_process.spawn (libuv: fork + exec, exit via SIGCHLD and the event loop) against the
 * addon's spawnNative (posix_spawn with CLONE_VFORK, exit stamped by a thread in wait4), both
 * from this process grown to ~90 MB RSS like the CLI, both running /bin/true.
 *
 * Two tables, each against child_process.spawn measured in the same run (the baseline):
 *  1. main-thread block: the time inside the spawn call itself;
 *  2. spawn -> exit known: from just before the call to the exit as each reports it
 *     (child_process: performance.now() in the 'exit' listener; native: exitedAtMs, stamped on
 *     the waiter thread, and the promise's resolution on the main thread). hyperfine -N's mean
 *     for /bin/true, when installed, is the floor a dedicated runner reaches.
 */
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { spawnNative } from '../dist/index.js';
import { machine, noteRow, row, summarize } from './harness.mjs';

export const name = 'spawn';
export const question = 'How long does starting /bin/true block the main thread, and how soon is its exit known, child_process vs native?';

const BASELINE = 'child_process.spawn (baseline)';
const TRUE = '/bin/true';

/** ~90 MB of touched heap, so that fork has the page tables the CLI has to copy. */
function ballast() {
  const want = 90 * 2 ** 20 - process.memoryUsage.rss();
  const chunks = [];
  for (let got = 0; got < want; got += 2 ** 20) chunks.push(Buffer.alloc(2 ** 20, 1));
  return chunks;
}

async function viaChildProcess() {
  const t0 = performance.now();
  const c = spawn(TRUE, [], { stdio: 'ignore' });
  const t1 = performance.now();
  await once(c, 'exit');
  return { blockMs: t1 - t0, exitMs: performance.now() - t0 };
}

async function viaNative() {
  const t0 = performance.now();
  const wall0 = performance.timeOrigin + t0;
  const c = spawnNative({ command: TRUE, stdio: 'ignore' });
  const t1 = performance.now();
  const e = await c.exited;
  return { blockMs: t1 - t0, posixSpawnMs: c.spawnReturnedAtMonoMs - c.spawnedAtMonoMs, exitMs: e.exitedAtMs - wall0, resolvedMs: performance.now() - t0 };
}

function hyperfine(runs) {
  const probe = spawnSync('hyperfine', ['--version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) return null;
  const out = `/tmp/procprobe-bench-hyperfine-${process.pid}.json`;
  const r = spawnSync('hyperfine', ['-N', '--runs', String(runs), '--warmup', '3', '--export-json', out, '--style', 'none', TRUE], { encoding: 'utf8' });
  if (r.status !== 0) return null;
  const doc = JSON.parse(spawnSync('cat', [out], { encoding: 'utf8' }).stdout);
  spawnSync('rm', ['-f', out]);
  return doc.results[0];
}

const stats = (ms) => {
  const s = summarize(ms.map((x) => x * 1e6));
  return { nsPerOp: s.median, rme: s.rme, samples: s.samples };
};

export async function run({ quick }) {
  const keep = ballast();
  const n = quick ? 30 : 300;
  if (spawnNative({ command: TRUE, stdio: 'ignore' }) === null) throw new Error('no native spawn on this platform/build: no result');
  const cp = [], nat = [];
  for (let i = 0; i < 5; i++) await viaChildProcess(), await viaNative();
  // Interleaved, so that load and frequency changes hit both alike.
  for (let i = 0; i < n; i++) {
    cp.push(await viaChildProcess());
    nat.push(await viaNative());
  }
  const rss = `RSS ${(process.memoryUsage.rss() / 2 ** 20).toFixed(0)} MiB`;
  const block = [
    row(BASELINE, stats(cp.map((r) => r.blockMs)), `${rss}; median`, true),
    row('spawnNative', stats(nat.map((r) => r.blockMs)), 'median; the whole call (PATH, env, checks, sockets)'),
    row('spawnNative: posix_spawn alone', stats(nat.map((r) => r.posixSpawnMs)), 'median; spawnReturnedAt - spawnedAt (monotonic)'),
  ];
  const hf = hyperfine(quick ? 10 : 30);
  const exit = [
    row(BASELINE, stats(cp.map((r) => r.exitMs)), "'exit' listener; median", true),
    row('spawnNative (exitedAtMs, waiter thread)', stats(nat.map((r) => r.exitMs)), 'median'),
    row('spawnNative (exited resolved, main thread)', stats(nat.map((r) => r.resolvedMs)), 'median'),
    hf
      ? row('hyperfine -N /bin/true (floor)', { nsPerOp: hf.median * 1e9, rme: (hf.stddev / hf.mean) * 100, samples: hf.times.length }, `mean ${(hf.mean * 1e3).toFixed(3)} ms`)
      : noteRow('hyperfine -N /bin/true (floor)', 'hyperfine not installed (apt-get install hyperfine)'),
  ];
  keep.length = 0;
  return {
    baselineName: BASELINE,
    rows: block,
    tables: [
      { title: 'main-thread block of the spawn call', baselineName: BASELINE, rows: block },
      { title: 'spawn -> exit known, /bin/true', baselineName: BASELINE, rows: exit },
    ],
    machine: machine(),
  };
}
