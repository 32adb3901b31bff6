/**
 * What one sample costs on each tier of procprobe, and on the peers people would use instead.
 *
 * The baseline is the addon's own C loop (pp_baseline_loop): the same system calls on the same open
 * files with no N-API, no row and no JS. Its ratio says what the binding and the JS around it add;
 * the peers' ratios say what choosing them costs. Two tables: this process, and another pid (a
 * `sleep 60` child), because the kernel paths differ (getrusage vs /proc/PID/stat + CPU clock).
 */
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import pidusage from 'pidusage';
import si from 'systeminformation';
import { createProbe, FIELD_COUNT, nativeBaselineNs, ProbeStatus } from '../dist/index.js';
import { machine, noteRow, pythonWithPsutil, row, runSuite, summarize, withRatios } from './harness.mjs';

export const name = 'probe';
export const question = 'What does one sample of this process cost, per tier and against the peers?';

const BASELINE = 'C loop (baseline)';

function settings(quick) {
  return quick
    ? {
        // A few samples of ~50 ms each: enough for a ratio to the same-run baseline, not for a ±1%.
        suite: { minSamples: 5, maxTime: 0.3 },
        baseline: { seconds: 0.04, perPoint: 1 },
        asyncBatch: 32,
        si: { minSamples: 2, maxTime: 0 },
        psutil: { n: 2_000, reps: 3 },
      }
    : {
        suite: { minSamples: 30, maxTime: 1.5 },
        // Two 0.2 s C runs at every interleave point: ~8-16 runs for the median, ~5 s in all.
        baseline: { seconds: 0.2, perPoint: 2 },
        asyncBatch: 64,
        si: { minSamples: 5, maxTime: 3 },
        psutil: { n: 20_000, reps: 7 },
      };
}

/** The C loop, measured repeatedly between the JS benchmarks; the median is the baseline. */
class Baseline {
  constructor(probe, { seconds, perPoint }) {
    this.probe = probe;
    this.perPoint = perPoint;
    this.perOp = [];
    // Two discarded warm-up runs (page cache, branch predictors, CPU frequency); the second, warm
    // one sizes N so one run lasts `seconds` (a cold run overestimates per-op cost and picks N too
    // small). A self read is ~4 µs but another pid's is ~4x that (task status): a fixed N would
    // make one of them noisy or slow. N >= 10k, so the N-API call and two clock reads are noise.
    this.#once(5_000);
    const perOp = this.#once(20_000) / 20_000;
    this.iterations = Math.min(1_000_000, Math.max(10_000, Math.round((seconds * 1e9) / perOp)));
    this.measure(); // then before the suite, and after every benchmark (runSuite's onCycle)
  }

  #once(iterations) {
    const ns = nativeBaselineNs(this.probe, iterations);
    if (ns === null) throw new Error('native probe unavailable: no C baseline, so no result');
    if (!(ns > 0)) throw new Error(`C baseline failed for pid ${this.probe.pid} (status ${-ns})`);
    return ns;
  }

  measure() {
    for (let i = 0; i < this.perPoint; i++) this.perOp.push(this.#once(this.iterations) / this.iterations);
  }

  row(note) {
    // Median, not mean: a baseline run that shared the CPU with a concurrent job should not move
    // every ratio in the table.
    const s = summarize(this.perOp);
    const stats = { nsPerOp: s.median, rme: s.rme, samples: s.samples };
    const r = row(BASELINE, stats, `${note}; median of ${s.samples} runs × ${this.iterations} reads, interleaved`, true);
    r.runsNsPerOp = this.perOp.map((x) => Math.round(x));
    return r;
  }
}

/**
 * A benchmark.js deferred function doing `batch` awaited operations. Batching matters for the µs
 * rows: benchmark.js's Deferred.resolve costs about as much as the sample itself, so one await per
 * timed call would mostly measure the harness. Errors are collected instead of hanging the suite.
 */
function deferred(op, batch, errors) {
  return function (deferred) {
    (async () => {
      for (let i = 0; i < batch; i++) await op();
    })().then(
      () => deferred.resolve(),
      (err) => {
        errors.push(err);
        deferred.resolve();
      },
    );
  };
}

function checkOk(status, what) {
  if (status !== ProbeStatus.OK) throw new Error(`${what}: status ${status}, refusing to time an error path`);
}

const PSUTIL_SCRIPT = `
import json, sys, time
import psutil
n, reps = int(sys.argv[1]), int(sys.argv[2])
p = psutil.Process()
def one():
    with p.oneshot():
        p.cpu_times(); p.memory_info(); p.num_fds(); p.num_threads(); p.num_ctx_switches()
for _ in range(min(n, 1000)):
    one()
out = []
for _ in range(reps):
    t = time.perf_counter_ns()
    for _ in range(n):
        one()
    out.append((time.perf_counter_ns() - t) / n)
print(json.dumps({"version": psutil.__version__, "perOp": out}))
`;

/** psutil's one-shot read, timed inside python3 (its own process: psutil reads itself here). */
function psutilRow({ n, reps }) {
  const label = 'psutil oneshot (python3)';
  const python = pythonWithPsutil();
  if (!python) return noteRow(label, 'psutil not installed (apt-get install python3-psutil)');
  const res = spawnSync(python, ['-c', PSUTIL_SCRIPT, String(n), String(reps)], { encoding: 'utf8' });
  if (res.status !== 0) return noteRow(label, `psutil run failed: ${res.stderr.trim().split('\n').pop()}`);
  const { version, perOp } = JSON.parse(res.stdout);
  const s = summarize(perOp);
  return row(
    label,
    { nsPerOp: s.median, rme: s.rme, samples: s.samples },
    `psutil ${version}: cpu_times+memory_info+num_fds+num_threads+num_ctx_switches of python's own ` +
      `process, perf_counter_ns in python, median of ${reps}×${n}`,
  );
}

async function selfTable(cfg) {
  const native = createProbe({ backend: 'native' });
  const builtin = createProbe({ backend: 'builtin' });
  try {
    const buf = new Float64Array(FIELD_COUNT);
    checkOk(native.sampleInto(buf, 0), 'native sampleInto');
    checkOk(builtin.sampleInto(buf, 0), 'builtin sampleInto');
    const base = new Baseline(native, cfg.baseline);
    const errors = [];
    const pid = process.pid;
    let siProcs = 0;
    const defs = [
      { name: 'native sampleInto', fn: () => native.sampleInto(buf, 0) },
      { name: 'native sampleSync', fn: () => native.sampleSync() },
      {
        name: 'native await sample()',
        fn: deferred(() => native.sample(), cfg.asyncBatch, errors),
        defer: true,
        batch: cfg.asyncBatch,
      },
      { name: 'builtin sampleInto', fn: () => builtin.sampleInto(buf, 0) },
      { name: 'builtin sampleSync', fn: () => builtin.sampleSync() },
      { name: 'pidusage(pid)', fn: deferred(() => pidusage(pid), 1, errors), defer: true },
      {
        name: 'systeminformation processes()',
        fn: deferred(
          async () => {
            const { list } = await si.processes();
            siProcs = list.length;
            if (!list.some((p) => p.pid === pid)) throw new Error('systeminformation: own pid not listed');
          },
          1,
          errors,
        ),
        defer: true,
        // si.processes() returns its previous result for 500 ms after a read. One call per cycle
        // (minTime ~0), 0.6 s between cycles: every timed call is a real read (two spawns).
        options: { ...cfg.si, minTime: 1e-9, delay: 0.6 },
      },
    ];
    const measured = await runSuite(defs, cfg.suite, () => base.measure());
    if (errors.length) throw errors[0];
    checkOk(native.sampleInto(buf, 0), 'native sampleInto (after)');
    const psutil = psutilRow(cfg.psutil);
    if (Number.isFinite(psutil.nsPerOp)) base.measure();

    const notes = {
      'native sampleInto': 'one reused Float64Array, nothing allocated',
      'native sampleSync': 'sampleInto + one object per sample',
      'native await sample()': `sampleSync behind a promise; ${cfg.asyncBatch} awaits per timed call`,
      'builtin sampleInto': 'no addon: process.resourceUsage + pread of kept-open /proc files from JS',
      'builtin sampleSync': 'builtin sampleInto + one object per sample',
      'pidusage(pid)': 'async fs read of /proc/PID/stat (libuv pool); CPU in 10 ms ticks; cpu%+memory only',
      'systeminformation processes()':
        `spawns ps + sh (cat /proc/*/stat of all ${siProcs} processes) per read; few iterations, 0.6 s apart`,
    };
    const rows = [
      base.row('getrusage + pread statm + 2 fstat + 3 clock_gettime, no N-API'),
      ...measured.map((m) => row(m.name, m, notes[m.name])),
      psutil,
    ];
    return { title: `this process (pid ${pid})`, baselineName: BASELINE, rows: withRatios(rows) };
  } finally {
    native.close();
    builtin.close();
  }
}

async function otherTable(cfg) {
  const child = spawn('sleep', ['60'], { stdio: 'ignore' });
  const kill = () => child.kill('SIGKILL');
  process.once('exit', kill); // if anything below throws past the finally, do not leave it behind
  let native;
  let builtin;
  try {
    await once(child, 'spawn');
    const pid = child.pid;
    native = createProbe({ pid, backend: 'native' });
    builtin = createProbe({ pid, backend: 'builtin' });
    const buf = new Float64Array(FIELD_COUNT);
    checkOk(native.sampleInto(buf, 0), 'native sampleInto (child)');
    checkOk(builtin.sampleInto(buf, 0), 'builtin sampleInto (child)');
    const base = new Baseline(native, cfg.baseline);
    const errors = [];
    const defs = [
      { name: 'native sampleInto', fn: () => native.sampleInto(buf, 0) },
      { name: 'builtin sampleInto', fn: () => builtin.sampleInto(buf, 0) },
      { name: 'pidusage(childPid)', fn: deferred(() => pidusage(pid), 1, errors), defer: true },
    ];
    const measured = await runSuite(defs, cfg.suite, () => base.measure());
    if (errors.length) throw errors[0];
    checkOk(native.sampleInto(buf, 0), 'native sampleInto (child, after)');
    const notes = {
      'native sampleInto': 'CPU clock (ns) + /proc stat, statm, task status; one reused row',
      'builtin sampleInto': 'no addon: /proc from JS, CPU in 10 ms ticks',
      'pidusage(childPid)': 'async fs read of /proc/PID/stat; CPU in 10 ms ticks; cpu%+memory only',
    };
    const rows = [
      base.row('CPU clock + pread stat, statm, task status + 2 fstat, no N-API'),
      ...measured.map((m) => row(m.name, m, notes[m.name])),
    ];
    return { title: `another process (sleep 60, pid ${pid})`, baselineName: BASELINE, rows: withRatios(rows) };
  } finally {
    native?.close();
    builtin?.close();
    if (child.exitCode === null && child.signalCode === null) {
      const exited = once(child, 'exit');
      kill();
      await exited;
    }
    process.removeListener('exit', kill);
  }
}

export async function run({ quick = false } = {}) {
  const cfg = settings(quick);
  try {
    const self = await selfTable(cfg);
    const other = await otherTable(cfg);
    return { rows: self.rows, baselineName: BASELINE, machine: machine(), tables: [self, other] };
  } finally {
    pidusage.clear(); // its history timer is unref'd, but drop the state anyway
  }
}
