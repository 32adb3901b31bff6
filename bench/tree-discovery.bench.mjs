/**
 * What finding a tree's new descendants costs, per call: the full scan (TreeSource.rescan: every
 * /proc/PID/stat on the machine, at rescanIntervalMs) against draining fork events
 * (TreeSource.adoptBorn over the proc connector, every tick), for a tree of one `sleep` with the
 * machine as it is, then with 500 and 2000 more idle processes (`sleep 600`, started here outside
 * the tree and killed after). The event drain reads what the whole machine forked since the last
 * call, so other jobs' forks are in its figure too.
 *
 * One table per process count, each against the scan measured in the same run (the baseline):
 * samples of the two are interleaved so that load changes hit both alike.
 */
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { openForkEvents } from '../dist/sampler/fork-events.js';
import { TreeSource } from '../dist/sampler/tree.js';
import { machine, noteRow, row, summarize } from './harness.mjs';

export const name = 'tree-discovery';
export const question = 'What does finding new descendants cost a tree sampler: a full /proc scan against draining fork events, as the machine gains idle processes?';

const BASELINE = 'full scan: TreeSource.rescan() (baseline)';
const DRAIN = 'fork events: TreeSource.adoptBorn(), nothing of the tree pending';

const processCount = () => readdirSync('/proc').filter((n) => n.charCodeAt(0) >= 48 && n.charCodeAt(0) <= 57).length;

/** `n` idle processes in a process group of their own, up before this resolves; kill() ends them all. */
async function idle(n) {
  if (n === 0) return { kill: async () => {} };
  const before = processCount();
  const sh = spawn('/bin/sh', ['-c', `i=0; while [ $i -lt ${n} ]; do sleep 600 & i=$((i+1)); done; wait`], { stdio: 'ignore', detached: true });
  const deadline = Date.now() + 120_000;
  while (processCount() < before + n) {
    if (Date.now() > deadline) throw new Error(`only ${processCount() - before} of ${n} idle processes started`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    async kill() {
      process.kill(-sh.pid, 'SIGKILL');
      // Gone (reaped by init) before the next table counts the machine's processes.
      while (processCount() > before + 5 && Date.now() < deadline + 60_000) await new Promise((r) => setTimeout(r, 50));
    },
  };
}

/** ns per call of fn, one sample per `batch` calls, `samples` times, alternating with the other. */
function timeBoth(scan, drain, samples, drainBatch) {
  const a = [];
  const b = [];
  for (let i = 0; i < samples; i++) {
    let t = process.hrtime.bigint();
    scan();
    a.push(Number(process.hrtime.bigint() - t));
    t = process.hrtime.bigint();
    for (let k = 0; k < drainBatch; k++) drain();
    b.push(Number(process.hrtime.bigint() - t) / drainBatch);
  }
  const stats = (v) => {
    const s = summarize(v);
    return { nsPerOp: s.median, rme: s.rme, samples: s.samples };
  };
  return { scan: stats(a), drain: stats(b) };
}

async function table(extra, quick) {
  const crowd = await idle(extra);
  const root = spawn('/bin/sleep', ['600'], { stdio: 'ignore' });
  try {
    await new Promise((r) => root.once('spawn', r));
    const tree = new TreeSource(root.pid, 'auto');
    const births = openForkEvents();
    tree.rescan();
    const machineNow = processCount();
    const scan = () => tree.rescan();
    const drain = births.events ? () => tree.adoptBorn(births.events) : () => {};
    for (let i = 0; i < 5; i++) scan(), drain(); // warm-up
    const t = timeBoth(scan, drain, quick ? 15 : 60, 1000);
    births.events?.close();
    tree.close();
    const rows = [
      row(BASELINE, t.scan, `median of ${t.scan.samples}; ${machineNow} processes on the machine`, true),
      births.events
        ? row(DRAIN, t.drain, `median of ${t.drain.samples} × 1000 calls; one recvfrom per call when nothing came`)
        : noteRow(DRAIN, births.reason),
    ];
    return { title: `${extra === 0 ? 'the tree alone' : `+${extra} idle processes`} (${machineNow} processes on the machine)`, baselineName: BASELINE, rows };
  } finally {
    root.kill('SIGKILL');
    await crowd.kill();
  }
}

export async function run({ quick }) {
  const tables = [];
  for (const extra of [0, 500, 2000]) tables.push(await table(extra, quick));
  return { rows: tables[0].rows, baselineName: BASELINE, machine: machine(), tables };
}
