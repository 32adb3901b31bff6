/**
 * What the per-process outputs of a tree session cost: the Chrome trace and the HTML report of a
 * session with 2,000 processes (the bound on ended ones the tree keeps), against the same session
 * without a process list, and filling in exit statuses at finishSession (one stat read per ended
 * entry) against the stat reads it avoids where a process was reaped already.
 */
import { existsSync } from 'node:fs';
import { exportSession, renderHtmlReport } from '../dist/index.js';
import { fillExits } from '../dist/sampler/processes.js';
import { R } from '../dist/ring/layout.js';
import { F } from '../dist/probe/layout.js';
import { machine, row, runSuite, withRatios } from './harness.mjs';

export const name = 'process-outputs';
export const question =
  'What do the Chrome trace, the HTML report and the exit statuses cost for a tree of 2,000 processes, against the same session without its process list?';

const START = Date.UTC(2026, 0, 2, 3, 4, 5);
const PROCESSES = 2000;

/** 2,000 samples at 1 ms and 4 phases: the session the outputs are about, without its tree. */
function session() {
  const stride = R.ROW + F.startTime + 1;
  const records = new Float64Array(PROCESSES * stride);
  for (let i = 0; i < PROCESSES; i++) {
    const at = i * stride;
    records[at + R.SEQ] = i;
    records[at + R.PROCESSES] = 1;
    records[at + R.ROW + F.pid] = 4242;
    records[at + R.ROW + F.timestamp] = START + i;
    records[at + R.ROW + F.cpuUserUs] = i * 500;
    records[at + R.ROW + F.rssBytes] = (40 + (i % 50)) * 2 ** 20;
    records[at + R.ROW + F.threads] = 7;
  }
  const phases = [['total_startup', 0, 1990], ['environment_validation', 2, 300], ['process_startup', 302, 1600], ['health_verification', 1500, 400]]
    .map(([n, at, d]) => ({ name: n, startOffsetMs: at, durationMs: d, success: true }));
  const summary = { id: 'bench', startTime: START, endTime: START + 2000, durationMs: 2000, success: true, incomplete: false, metadata: {}, phases, errors: [] };
  return { summary, samples: { records, stride, count: PROCESSES, gaugeNames: [] } };
}

/** A build-tool tree: one long-lived command and 1,999 short compiler runs, 1 ms apart. */
function tree() {
  return Array.from({ length: PROCESSES }, (_, i) => ({
    pid: 3_000_000 + i, ppid: i === 0 ? 1 : 3_000_000, command: i === 0 ? 'make -j2' : `/usr/bin/cc -c src/file${i}.c -o obj/file${i}.o`,
    startTime: START + i, adoptedAt: START + i + 0.5, endTime: i === 0 ? null : START + i + 3, cpuMs: i === 0 ? 50 : 1 + (i % 7),
    peakRssBytes: 8 * 2 ** 20, peakThreads: 1, exitCode: null, signal: null,
  }));
}

export async function run({ quick }) {
  const suite = quick ? { minSamples: 5, maxTime: 0.5 } : { minSamples: 20, maxTime: 3 };
  const bare = session();
  const withTree = { ...bare, summary: { ...bare.summary, processes: tree(), processesDropped: 0 } };
  const trace = (input) => () => exportSession(input, 'chrome-trace');
  const html = (input) => () => renderHtmlReport(input);
  const [t0, t1, h0, h1] = await runSuite(
    [
      { name: 'chrome-trace, no process list', fn: trace(bare) },
      { name: 'chrome-trace, 2,000 processes', fn: trace(withTree) },
      { name: 'HTML report, no process list', fn: html(bare) },
      { name: 'HTML report, 2,000 processes', fn: html(withTree) },
    ],
    suite,
  );
  const kb = (s) => `${Math.round(s.length / 1024)} KiB`;
  const traceRows = withRatios([
    row(t0.name, t0, `${kb(trace(bare)())}: phases and 6 counters of 2,000 samples`, true),
    row(t1.name, t1, `${kb(trace(withTree)())}: + 50 process tracks, the other 1,950 on one track with a running counter`),
  ]);
  const htmlRows = withRatios([
    row(h0.name, h0, `${kb(html(bare)())}`, true),
    row(h1.name, h1, `${kb(html(withTree)())}: + a Gantt of 30 rows and one for the other 1,970`),
  ]);
  // Exit statuses: entries whose pids are gone (the common case: reaped long ago), against the
  // same number of bare existence checks.
  const gone = () => tree().map((p) => ({ ...p, endTime: p.endTime ?? START + 5 }));
  const lists = Array.from({ length: 64 }, gone);
  let k = 0;
  const [e0, e1] = await runSuite(
    [
      { name: '2,000 existsSync(/proc/PID/stat) of gone pids', fn: () => { for (const p of lists[0]) existsSync(`/proc/${p.pid}/stat`); } },
      { name: 'fillExits of 2,000 ended entries, pids gone', fn: () => fillExits(lists[k++ % lists.length]) },
    ],
    suite,
  );
  const exitRows = withRatios([
    row(e0.name, e0, 'the syscalls alone', true),
    row(e1.name, e1, 'once per session, at finishSession; a zombie (an orphan procprobe adopted) costs one stat read more'),
  ]);
  return {
    rows: traceRows,
    baselineName: t0.name,
    machine: machine(),
    tables: [
      { title: 'Chrome trace of a session (exportSession)', baselineName: t0.name, rows: traceRows },
      { title: 'HTML report of a session (renderHtmlReport)', baselineName: h0.name, rows: htmlRows },
      { title: 'exit statuses at finishSession (fillExits)', baselineName: e0.name, rows: exitRows },
    ],
  };
}
