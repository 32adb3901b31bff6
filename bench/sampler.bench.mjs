/**
 * Does the sampler keep its deadlines, what does a sample cost it, and what does it cost the host?
 *
 * Baseline: the addon's C thread (pp_baseline_thread): clock_nanosleep to the same absolute
 * deadlines, the same system calls per tick, no V8, no ring. Sampler/C says what running the loop
 * in a JS worker adds. Tables: deadlines (1 and 10 kHz, main thread busy), CPU per sample (same
 * runs, plus the seed's psutil thread), main-thread throughput with a 1 kHz monitor vs none vs a
 * naive setInterval loop. Every table title carries the machine load, which is shared here.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { RECORD as R, RealTimeMonitor, Sampler } from '../dist/index.js';
import { machine, noteRow, pythonWithPsutil, row, summarize, withRatios } from './harness.mjs';

export const name = 'sampler';
export const question =
  'Does the sampler meet 1 kHz/10 kHz deadlines with the main thread busy, what does one sample cost its thread, and what does a 1 kHz monitor cost the main thread — each against a native C sampling thread or no monitor?';

const C_BASE = 'C thread (baseline)';
const NONE = 'no monitor (baseline)';
const DIST_INDEX = new URL('../dist/index.js', import.meta.url).href;
// Extra columns per table ([row key, header]) for a runner that prints them; today they are in the
// JSON rows and, abridged, in each note.
const COLS = {
  deadlines: [['pctMet', '% met'], ['lagP50Us', 'lag p50 µs'], ['lagP99Us', 'lag p99 µs'], ['achievedHz', 'Hz'], ['runQueueWaitMs', 'rq wait ms']],
  cpu: [['cpuUsPerTick', 'µs CPU/tick'], ['achievedHz', 'Hz']],
  throughput: [['throughputPct', 'throughput % (CPU)'], ['wallThroughputPct', 'throughput % (wall)'], ['achievedHz', 'timer Hz']],
};

// ---- load: loadavg is a 1-min average that lags; /proc/stat over the phase says who else ran ----
function cpuMark() {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].split(/\s+/).slice(1).map(Number);
  const busy = f.reduce((a, b) => a + b, 0) - f[3] - f[4]; // minus idle, iowait (USER_HZ ticks)
  const own = process.cpuUsage();
  // Reaped children (python3 below) are ours too: cutime + cstime, fields 16-17 of /proc/self/stat.
  const st = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
  const kids = (Number(st[13]) + Number(st[14])) / 100;
  return { busy, own: (own.user + own.system) / 1e6 + kids, t: performance.now(), load: os.loadavg()[0] };
}
function loadNote(a) {
  const b = cpuMark();
  const sec = (b.t - a.t) / 1e3;
  const other = ((b.busy - a.busy) / 100 - (b.own - a.own)) / sec; // cores used by other processes
  return `others ${Math.max(0, other).toFixed(2)} of ${os.cpus().length} cores, loadavg ${a.load.toFixed(2)}→${b.load.toFixed(2)}`;
}

// ---- the busy main thread: integer arithmetic, no allocation, the clock checked every 10k steps ----
function spinUntil(done) {
  let x = 1;
  do for (let k = 0; k < 10_000; k++) x = (Math.imul(x, 1103515245) + 12345) | 0;
  while (!done());
  return x;
}

const tids = () => new Set(readdirSync('/proc/self/task'));
function sched(tid) {
  try {
    return readFileSync(`/proc/self/task/${tid}/schedstat`, 'utf8').split(' ').map(Number);
  } catch {
    return null;
  }
}
// schedstat field 1 = sum_exec_runtime in ns: exact, unlike stat's 10 ms utime/stime ticks, and the
// same counter getrusage(RUSAGE_THREAD) reports for the C thread, so the two are comparable. Field 2
// is ns spent runnable but waiting for a CPU: misses with a high wait are the box's load, not ours.
function threadSched(ids) {
  const ns = [0, 0];
  for (const t of ids) {
    const f = sched(t) ?? [0, 0]; // null: the thread exited, nothing more from it
    ns[0] += f[0];
    ns[1] += f[1];
  }
  return ns;
}

function pct(sorted, p) {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] : NaN;
}

/**
 * The C thread with the main thread busy. baselineThread blocks its caller (pthread_join), so it is
 * called from a worker and the MAIN thread spins, as it does for the Sampler: both samplers run
 * beside the same busy main thread. Shared words: [0] 1 = started, 2 = returned; [1] worker's tid.
 */
async function cRun(hz, seconds) {
  const flag = new Int32Array(new SharedArrayBuffer(8));
  const code = `const { workerData: d, parentPort } = require('node:worker_threads');
    const f = new Int32Array(d.sab);
    import(d.url).then(({ loadNative }) => {
      const a = loadNative().addon; const h = a.open(0);
      f[1] = Number(require('node:fs').readlinkSync('/proc/thread-self').split('/').pop());
      Atomics.store(f, 0, 1); const st = a.baselineThread(h, d.intervalMs, d.durationMs); a.close(h);
      parentPort.postMessage(st); Atomics.store(f, 0, 2);
    }, (e) => { parentPort.postMessage({ error: String(e) }); Atomics.store(f, 0, 2); });`;
  const before = tids();
  const w = new Worker(code, { eval: true, workerData: { url: DIST_INDEX, sab: flag.buffer, intervalMs: 1e3 / hz, durationMs: seconds * 1e3 } });
  const msg = once(w, 'message');
  const giveUp = performance.now() + seconds * 1e3 + 15_000; // never spin forever on a dead worker
  // The C pthread's run-queue wait, for the same load check as the Sampler's: it is the new thread
  // that is neither the worker's nor idle (most time slices); its schedstat is gone once it is
  // joined, so it is polled every 50 ms and the last poll kept (a lower bound).
  let ctid = null;
  let wait = NaN;
  let poll = performance.now();
  spinUntil(() => {
    const now = performance.now();
    if (Atomics.load(flag, 0) === 1 && now - poll > 50) {
      poll = now;
      const slices = (t) => sched(t)?.[2] ?? 0;
      ctid ??= [...tids()].filter((t) => !before.has(t) && Number(t) !== Atomics.load(flag, 1)).sort((x, y) => slices(y) - slices(x))[0];
      wait = sched(ctid)?.[1] ?? wait;
    }
    return Atomics.load(flag, 0) === 2 || now > giveUp;
  });
  const timer = setTimeout(() => w.terminate(), 2000);
  const [st] = await Promise.race([msg, once(w, 'error').then(([e]) => [{ error: String(e) }]), once(w, 'exit').then(() => [{ error: 'worker exited' }])]);
  clearTimeout(timer);
  await w.terminate();
  if (!st || st.error) throw new Error(`C baseline thread failed: ${st?.error ?? 'addon unavailable'}`);
  return { ticks: st.ticks, missed: st.missed, cpuNs: st.cpuUs * 1e3, waitNs: wait, seconds, p50: st.lagP50Us, p99: st.lagP99Us, max: st.lagMaxUs, comm: 'C pthread' };
}

/** The procprobe Sampler with the main thread busy; lag from every record's R.LAG_US. */
async function samplerRun(hz, seconds) {
  const capacity = Math.ceil(hz * seconds * 1.05) + 1000; // keep every record of the run
  const s = new Sampler({ samplingIntervalMs: 1e3 / hz, capacity, maxGauges: 0, backend: 'native' });
  const before = tids();
  try {
    await s.start();
    if (s.backend !== 'native') throw new Error(`sampler backend is ${s.backend}, not native`);
    // The worker's thread(s): Node 20 leaves their comm as 'node', so find them by diffing the list.
    const mine = [...tids()].filter((t) => !before.has(t));
    const comm = mine.map((t) => readFileSync(`/proc/self/task/${t}/comm`, 'utf8').trim()).join(',');
    const [seq0, missed0, [cpu0, wait0], t0] = [s.reader.latestSeq(), s.reader.missedDeadlines, threadSched(mine), performance.now()];
    spinUntil(() => performance.now() >= t0 + seconds * 1e3);
    const [seq1, missed1, [cpu1, wait1], t1] = [s.reader.latestSeq(), s.reader.missedDeadlines, threadSched(mine), performance.now()];
    await s.stop();
    const out = new Float64Array(capacity * s.reader.stride);
    const got = s.reader.readLatest(out);
    const lags = [];
    for (let i = 0; i < got; i++) {
      const seq = out[i * s.reader.stride + R.SEQ];
      if (seq > seq0 && seq <= seq1) lags.push(out[i * s.reader.stride + R.LAG_US]);
    }
    lags.sort((a, b) => a - b);
    return { ticks: seq1 - seq0, missed: missed1 - missed0, cpuNs: cpu1 - cpu0, waitNs: wait1 - wait0, seconds: (t1 - t0) / 1e3, p50: pct(lags, 50), p99: pct(lags, 99), max: lags.at(-1), comm: `${mine.length} thread(s) '${comm}'` };
  } finally {
    await s.stop();
  }
}

function deadlineRow(label, r, hz, baseline) {
  const met = (100 * r.ticks) / (r.ticks + r.missed);
  const achievedHz = r.ticks / r.seconds;
  // µs/op here = wall time per sample actually written (1/achieved Hz): ratio > 1 = fewer samples.
  const x = row(label, { nsPerOp: 1e9 / achievedHz, samples: 1, rme: NaN },
    `${r.load}: ${met.toFixed(3)} % met (${r.missed} missed of ${r.ticks + r.missed}), lag p50/p99/max ${r.p50.toFixed(0)}/${r.p99.toFixed(0)}/${r.max.toFixed(0)} µs, ${achievedHz.toFixed(1)} Hz of ${hz}${Number.isFinite(r.waitNs) ? `, run-queue wait ${(r.waitNs / 1e6).toFixed(1)} ms in all` : ''}`, baseline);
  return Object.assign(x, { load: r.load, pctMet: met, achievedHz, ticks: r.ticks, missed: r.missed, lagP50Us: r.p50, lagP99Us: r.p99, lagMaxUs: r.max, runQueueWaitMs: r.waitNs / 1e6 });
}

function cpuRow(label, r, baseline, extra = '') {
  const ns = r.cpuNs / r.ticks; // the whole tick: wake-up + probe + ring write (+ JS loop)
  const x = row(label, { nsPerOp: ns, samples: 1, rme: NaN }, `${r.load ? `${r.load}: ` : ''}${(ns / 1e3).toFixed(2)} µs CPU/tick over ${r.ticks} ticks, ${r.comm}${extra}`, baseline);
  return Object.assign(x, { cpuUsPerTick: ns / 1e3, achievedHz: r.ticks / r.seconds });
}

// ---- the seed's approach: psutil in a Python thread, the seed's fields, time.sleep(interval) ----
const PSUTIL_SCRIPT = `
import json, sys, threading, time
import psutil
dur, interval, busy = float(sys.argv[1]), float(sys.argv[2]), sys.argv[3] == '1'
p = psutil.Process(); res = {}
def loop():
    n = 0; t0 = time.perf_counter(); c0 = time.thread_time()  # this thread's CPU, ns clock
    while time.perf_counter() < t0 + dur:
        p.cpu_percent(); p.memory_info().rss; p.memory_percent(); len(p.open_files()); p.num_threads()
        p.num_ctx_switches().voluntary + p.num_ctx_switches().involuntary
        n += 1
        time.sleep(interval)
    res.update(n=n, cpu=time.thread_time() - c0, wall=time.perf_counter() - t0)
t = threading.Thread(target=loop, daemon=True); t.start()
x = 1
while busy and t.is_alive():
    for _ in range(10000): x = (x * 1103515245 + 12345) & 0xffffffff
t.join()
print(json.dumps(dict(version=psutil.__version__, **res)))
`;

function psutilRows(seconds) {
  const label = (busy) => `psutil thread (python3), main ${busy ? 'busy' : 'idle'}`;
  const python = pythonWithPsutil();
  if (!python) return [noteRow(label(false), 'psutil not installed (apt-get install python3-psutil)')];
  return [false, true].map((busy) => {
    const mark = cpuMark();
    // spawnSync with a timeout kills the child itself: nothing outlives this function.
    const res = spawnSync(python, ['-c', PSUTIL_SCRIPT, String(seconds), '0.001', busy ? '1' : '0'], { encoding: 'utf8', timeout: (seconds + 20) * 1e3, killSignal: 'SIGKILL' });
    if (res.status !== 0) return noteRow(label(busy), `psutil run failed: ${(res.stderr || String(res.error)).trim().split('\n').pop()}`);
    const { version, n, cpu, wall } = JSON.parse(res.stdout);
    const r = { ticks: n, cpuNs: cpu * 1e9, seconds: wall, comm: 'python thread', load: loadNote(mark) };
    // The GIL: with main busy the thread runs only at each switch interval (5 ms), hence the busy row.
    return cpuRow(label(busy), r, false, `; psutil ${version}, seed's fields incl. open_files(), time.sleep(1 ms), ${(n / wall).toFixed(0)} Hz achieved, ${seconds} s`);
  });
}

// ---- main-thread throughput: a fixed workload in ~1 ms chunks with setImmediate between them, so
// timers (the monitor's housekeeping, the naive setInterval) run as they would in a real app ----
// SHA-256 in C++, not a JS loop: a JS hash loop here changed JIT tier mid-run (OSR code 1.4 ms, the
// later tier 5.7 ms per chunk), which swamped any monitor effect. Native hashing has no tiers.
const DATA = Buffer.alloc(1 << 16, 0x5a);
function chunk(reps) {
  const h = createHash('sha256');
  for (let r = 0; r < reps; r++) h.update(DATA);
  return h.digest();
}
// The main thread's own schedstat: [CPU ns, run-queue wait ns]. Wall time on this shared 2-core box
// mostly measures other jobs (a chunk's wall time nearly doubled under a concurrent `npm test` while its
// CPU time held), so the table's figure is main-thread CPU per chunk; wall is kept beside it.
const mainSched = () => sched(process.pid);
async function workload(chunks, reps) {
  const [c0, w0] = mainSched();
  const t0 = performance.now();
  for (let c = 0; c < chunks; c++) {
    chunk(reps);
    await new Promise((r) => setImmediate(r));
  }
  const wall = ((performance.now() - t0) * 1e6) / chunks;
  const [c1, w1] = mainSched();
  return { cpu: (c1 - c0) / chunks, wall, wait: (w1 - w0) / chunks }; // ns per chunk
}

async function throughputTable(rounds, chunks) {
  // A fixed amount of work, not sized by a timing (which this box's load would skew): 1 MiB of
  // SHA-256 per chunk, ~0.7-1.4 ms here, short enough for 1 ms timers to get their turn.
  const reps = 16;
  await workload(200, reps); // warm-up, untimed
  const runs = { none: [], monitor: [], naive: [] };
  const naiveHz = [];
  const mon = [];
  const variants = {
    none: () => workload(chunks, reps),
    async monitor() {
      // Defaults otherwise (event-loop gauges on, housekeeping every 100 ms): what a user gets.
      const m = new RealTimeMonitor({ samplingIntervalMs: 1, backend: 'native' });
      await m.start();
      try {
        return await workload(chunks, reps);
      } finally {
        await m.stop();
        mon.push(m.stats);
      }
    },
    async naive() {
      let ticks = 0;
      let sink = 0;
      const t0 = performance.now();
      const timer = setInterval(() => { ticks++; sink += process.resourceUsage().userCPUTime; }, 1);
      try {
        return await workload(chunks, reps);
      } finally {
        clearInterval(timer);
        naiveHz.push(ticks / ((performance.now() - t0) / 1e3));
      }
    },
  };
  for (let i = 0; i < rounds; i++) {
    // Alternating order (A B C, C B A, ...) so a drift in machine load does not favour one variant.
    const order = i % 2 ? ['naive', 'monitor', 'none'] : ['none', 'monitor', 'naive'];
    for (const v of order) runs[v].push(await variants[v]());
  }
  // Throughput %, paired by round (adjacent runs share the machine's load), median over rounds.
  const paired = (v, k) => summarize(runs[v].map((x, i) => runs.none[i][k] / x[k])).median * 100;
  const mk = (label, v, baseline, note) => {
    const s = summarize(runs[v].map((x) => x.cpu));
    const each = (k) => runs[v].map((x) => Math.round(x[k]));
    const extra = { throughputPct: paired(v, 'cpu'), wallThroughputPct: paired(v, 'wall'), runsCpuNsPerOp: each('cpu'), runsWallNsPerOp: each('wall'), runQueueWaitUsPerOp: summarize(each('wait')).median / 1e3 };
    const wall = `wall ${(summarize(runs[v].map((x) => x.wall)).median / 1e3).toFixed(0)} µs/chunk (${extra.wallThroughputPct.toFixed(1)} %), run-queue wait ${extra.runQueueWaitUsPerOp.toFixed(0)} µs/chunk`;
    return Object.assign(row(label, { nsPerOp: s.median, rme: s.rme, samples: s.samples }, `${note}; ${wall}`, baseline), extra);
  };
  const nHz = summarize(naiveHz).median;
  const missed = mon.reduce((a, m) => a + m.missedDeadlines, 0);
  const monHz = summarize(mon.map((m) => m.achievedHz)).median;
  return [
    mk(NONE, 'none', true, `${chunks} chunks of SHA-256 over 64 KiB × ${reps}, setImmediate between; µs/op = main-thread CPU per chunk`),
    mk('RealTimeMonitor 1 kHz', 'monitor', false, `throughput ${paired('monitor', 'cpu').toFixed(2)} % of none (CPU, paired rounds); sampler ${monHz.toFixed(0)} Hz, ${missed} missed in all`),
    Object.assign(mk('setInterval(1 ms) + resourceUsage()', 'naive', false, `throughput ${paired('naive', 'cpu').toFixed(2)} % (CPU); achieved ${nHz.toFixed(0)} ticks/s of 1000 (a timer waits for the running chunk)`), { achievedHz: nHz }),
  ];
}

export async function run({ quick = false } = {}) {
  const sec = quick ? 2 : 10;
  const measured = async (fn) => {
    const mark = cpuMark();
    const r = await fn();
    return Object.assign(r, { load: loadNote(mark) }); // who else ran during this very run
  };
  const deadlines = [];
  const cpu = [];
  for (const hz of [1000, 10_000]) {
    const c = await measured(() => cRun(hz, sec));
    const s = await measured(() => samplerRun(hz, sec));
    const rows = [deadlineRow(C_BASE, c, hz, true), deadlineRow('procprobe Sampler (native)', s, hz, false)];
    deadlines.push({ title: `deadlines at ${hz / 1000} kHz for ${sec} s, main thread spinning (the C thread is called from a worker while main spins)`, baselineName: C_BASE, columns: COLS.deadlines, rows: withRatios(rows) });
    const cpuRows = [cpuRow(C_BASE, c, true, '; getrusage(RUSAGE_THREAD)'), cpuRow('procprobe Sampler (native)', s, false, '; schedstat')];
    if (hz === 1000) cpuRows.push(...psutilRows(2));
    cpu.push({ title: `CPU per sample at ${hz / 1000} kHz (same runs)`, baselineName: C_BASE, columns: COLS.cpu, rows: withRatios(cpuRows) });
  }
  const t = await measured(async () => ({ rows: await throughputTable(quick ? 2 : 8, quick ? 300 : 1200) }));
  const throughput = { title: `main-thread throughput of a CPU-bound workload, alternating runs (${t.load})`, baselineName: NONE, columns: COLS.throughput, rows: withRatios(t.rows) };
  const tables = [...deadlines, ...cpu, throughput];
  return { rows: tables[0].rows, baselineName: C_BASE, machine: machine(), tables };
}
