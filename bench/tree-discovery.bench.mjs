/**
 * What finding a tree's new descendants costs, per call, for a tree of a shell and 10 `sleep`s,
 * with the machine as it is, then with 500 and 2000 more idle processes (`sleep 600`, started here
 * outside the tree and killed after):
 * - the full scan (TreeSource.rescan over Descendants('scan'): every /proc/PID/stat on the
 *   machine), the baseline and the fallback;
 * - the children files (TreeSource.rescan over Descendants('children'): every member's
 *   /proc/PID/task/TID/children), what a rescan uses where the kernel has them;
 * - draining fork events (TreeSource.adoptBorn over the proc connector, every tick). The drain
 *   reads what the whole machine forked since the last call, so other jobs' forks are in its figure.
 *
 * One table per process count, each against the scan measured in the same run (the baseline):
 * samples of the three are interleaved so that load changes hit them alike.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { childrenOf, Descendants } from '../dist/sampler/descendants.js';
import { openForkEvents } from '../dist/sampler/fork-events.js';
import { TreeSource } from '../dist/sampler/tree.js';
import { machine, noteRow, row, summarize } from './harness.mjs';

export const name = 'tree-discovery';
export const question = "What does finding new descendants cost a tree sampler: a full /proc scan against the members' children files and draining fork events, as the machine gains idle processes?";

const BASELINE = 'full scan: TreeSource.rescan() over every /proc/PID/stat (baseline)';
const CHILDREN = "children files: TreeSource.rescan() over each member's /proc/PID/task/TID/children";
const TREE = 11; // a shell and its 10 sleeps
const DRAIN = 'fork events: TreeSource.adoptBorn(), nothing of the tree pending';

const processCount = () => readdirSync('/proc').filter((n) => n.charCodeAt(0) >= 48 && n.charCodeAt(0) <= 57).length;

/** `n` idle processes in a process group of their own, up before this resolves; kill() ends them all. */
async function idle(n) {
  if (n === 0) return { kill: async () => {} };
  const sh = spawn('/bin/sh', ['-c', `i=0; while [ $i -lt ${n} ]; do sleep 600 & i=$((i+1)); done; wait`], { stdio: 'ignore', detached: true });
  // Counted as the shell's children, not as the machine's processes: other jobs come and go.
  const deadline = Date.now() + 180_000;
  let kids = [];
  while ((kids = childrenOf(sh.pid)).length < n) {
    if (Date.now() > deadline) {
      process.kill(-sh.pid, 'SIGKILL'); // none left behind for the next table or the next job
      throw new Error(`only ${kids.length} of ${n} idle processes started`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    async kill() {
      process.kill(-sh.pid, 'SIGKILL');
      // Gone (reaped by init) before the next table counts the machine's processes.
      const end = Date.now() + 60_000;
      while (kids.some((pid) => existsSync(`/proc/${pid}`)) && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    },
  };
}

/** ns per call of each fn (fns: [fn, calls per sample]), one sample each in turn, `samples` times. */
function timeEach(fns, samples) {
  const times = fns.map(() => []);
  for (let i = 0; i < samples; i++) {
    fns.forEach(([fn, batch], k) => {
      const t = process.hrtime.bigint();
      for (let j = 0; j < batch; j++) fn();
      times[k].push(Number(process.hrtime.bigint() - t) / batch);
    });
  }
  return times.map((v) => {
    const s = summarize(v);
    return { nsPerOp: s.median, rme: s.rme, samples: s.samples };
  });
}

/** A tree of a shell and its sleeps in a process group of their own; kill() ends them all. */
async function sleepTree() {
  const root = spawn('/bin/sh', ['-c', `for i in ${'x '.repeat(TREE - 1)}; do sleep 600 & done; wait`], { stdio: 'ignore', detached: true });
  await new Promise((r) => root.once('spawn', r));
  return { pid: root.pid, kill: () => process.kill(-root.pid, 'SIGKILL') };
}

async function table(extra, quick) {
  const crowd = await idle(extra);
  const root = await sleepTree();
  const trees = [];
  try {
    const open = async (mode) => {
      const tree = new TreeSource(root.pid, 'auto', false, new Descendants(mode));
      trees.push(tree);
      for (let i = 0; i < 200 && tree.processes < TREE; i++) tree.rescan(), await new Promise((r) => setTimeout(r, 20));
      if (tree.processes !== TREE) throw new Error(`${mode}: ${tree.processes} of ${TREE} processes in the tree`);
      return tree;
    };
    const scanned = await open('scan');
    const walked = await open('children');
    const births = openForkEvents();
    const machineNow = processCount();
    const scan = () => scanned.rescan();
    const walk = () => walked.rescan();
    const drain = births.events ? () => walked.adoptBorn(births.events) : () => {};
    for (let i = 0; i < 5; i++) scan(), walk(), drain(); // warm-up
    const [s, w, d] = timeEach([[scan, 1], [walk, 1], [drain, 1000]], quick ? 15 : 60);
    births.events?.close();
    const rows = [
      row(BASELINE, s, `median of ${s.samples}; ${machineNow} processes on the machine`, true),
      row(CHILDREN, w, `median of ${w.samples}; ${TREE} members`),
      births.events
        ? row(DRAIN, d, `median of ${d.samples} × 1000 calls; one recvfrom per call when nothing came`)
        : noteRow(DRAIN, births.reason),
    ];
    return { title: `${extra === 0 ? 'the tree alone' : `+${extra} idle processes`} (${machineNow} processes on the machine)`, baselineName: BASELINE, rows };
  } finally {
    for (const t of trees) t.close();
    root.kill();
    await crowd.kill();
  }
}

export async function run({ quick }) {
  const tables = [];
  for (const extra of [0, 500, 2000]) tables.push(await table(extra, quick));
  return { rows: tables[0].rows, baselineName: BASELINE, machine: machine(), tables };
}
