/**
 * What a PSS reading costs the sampler's thread (src/probe/pss.ts: /proc/PID/smaps_rollup, which
 * walks the process's page tables) against an RSS reading of the same process (/proc/PID/statm,
 * what every sample reads: the baseline), for a process with 50 MiB and with 1 GiB touched.
 * CPU time of this thread per read (process.cpuUsage, µs): on a loaded machine wall time is
 * mostly the time it waited for a core. One table per size; the two reads are interleaved.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readPssBytes } from '../dist/probe/pss.js';
import { machine, row, summarize } from './harness.mjs';

export const name = 'pss';
export const question = 'What does one PSS reading (smaps_rollup) cost against one RSS reading (statm), as the process grows?';

const BASELINE = 'RSS: read /proc/PID/statm (baseline)';
const PSS = 'PSS: readPssBytes, /proc/PID/smaps_rollup';

/** A python process that touched `mib` MiB (every page written), up before this resolves. */
async function holder(mib) {
  const code = `b = bytearray(${mib} << 20)\nfor i in range(0, len(b), 4096): b[i] = 1\nprint('ready', flush=True)\nimport sys; sys.stdin.read()`;
  const c = spawn('/usr/bin/python3', ['-c', code], { stdio: ['pipe', 'pipe', 'inherit'] });
  await new Promise((resolve, reject) => {
    c.stdout.once('data', resolve);
    c.once('error', reject);
  });
  return c;
}

/** µs of this thread's CPU per call of fn, `batch` calls per sample. */
function cpuPerCall(fn, batch) {
  const c0 = process.cpuUsage();
  for (let i = 0; i < batch; i++) fn();
  const c = process.cpuUsage(c0);
  return ((c.user + c.system) / batch) * 1e3; // ns, as the runner's rows are
}

async function table(mib, quick) {
  const c = await holder(mib);
  try {
    const statm = () => readFileSync(`/proc/${c.pid}/statm`, 'latin1');
    const pss = () => readPssBytes(c.pid);
    const a = [];
    const b = [];
    const samples = quick ? 8 : 30;
    for (let i = 0; i < samples; i++) {
      a.push(cpuPerCall(statm, 200));
      b.push(cpuPerCall(pss, mib > 100 ? 5 : 50));
    }
    const stats = (v) => {
      const s = summarize(v);
      return { nsPerOp: s.median, rme: s.rme, samples: s.samples };
    };
    const resident = `${(readPssBytes(c.pid) / 2 ** 20).toFixed(0)} MiB PSS`;
    return {
      title: `${mib} MiB touched (${resident})`,
      baselineName: BASELINE,
      rows: [row(BASELINE, stats(a), 'CPU µs per read, median', true), row(PSS, stats(b), 'CPU µs per read, median')],
    };
  } finally {
    c.stdin.end();
  }
}

export async function run({ quick }) {
  const tables = [await table(50, quick), await table(1024, quick)];
  return { rows: tables[0].rows, baselineName: BASELINE, machine: machine(), tables };
}
