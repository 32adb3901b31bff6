/**
 * The sampler worker: the only module that touches parentPort/workerData. It sleeps to absolute
 * deadlines (t0 + k * interval, so the interval never drifts), reads the probe straight into the
 * next ring record, and publishes it. Per tick: no object, no string, no message.
 *
 * Waiting: below SHORT_INTERVAL_MS the addon sleeps with clock_nanosleep(TIMER_ABSTIME) on a thread
 * whose timer slack is 1 ns (precise, one syscall); longer intervals use Atomics.wait on the stop
 * word, so stop() wakes the worker at once. A deadline passed by a whole interval or more is
 * skipped and counted in the ring header (missed deadlines), never made up with a burst.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { FIELD_COUNT, FIELDS, F, ProbeStatus } from '../probe/layout.js';
import { loadNative } from '../probe/native.js';
import { createProbe, nativeLoop, nativeTick, type NativeLoop, type Probe } from '../probe/probe.js';
import { SI_MIN_INTERVAL_MS } from '../probe/si.js';
import { H, LoopExit, loopLayout, R, WriterState } from '../ring/layout.js';
import { RingWriter } from '../ring/ring.js';
import { notifyWord } from '../ring/wait.js';
import type { SamplerWorkerData, WorkerMessage } from './messages.js';
import { CPU_WINDOW_MS, CpuWindow } from './cpu-window.js';
import { openForkEvents, type ForkEvents } from './fork-events.js';
import { TreeSource } from './tree.js';
import { discoveryReason, rescanInterval, TreeUpkeep } from './tree-upkeep.js';
import { PssSchedule } from './pss-readings.js';
import { ownThreadId } from './self-usage.js';
import { errorData, IntervalClampedWarning } from '../errors.js';

const SHORT_INTERVAL_MS = 5;

const data = workerData as SamplerWorkerData;
const writer = new RingWriter(data.sab);
const header = writer.views.header;
/** Set by a resume until its first record is in: that record notifies LAST_SLOT. */
let resumed = false;
const post = (m: WorkerMessage): void => parentPort!.postMessage(m);

interface Source {
  sampleInto(row: Float64Array, offset: number): ProbeStatus;
  readonly processes: number;
  /** CPU in the totals that was used before sampling saw it (tree members' pre-adoption CPU), µs. */
  readonly joinedCpuUs: number;
  close(): void;
}

const cpuWindow = new CpuWindow(data.intervalMs);

/** PSS readings at their own lower rate, for the next record (sampler/pss-readings.ts). */
const pss = new PssSchedule(data.pssIntervalMs, data.pid);

interface Opened {
  source: Source;
  probe: Probe;
  tree: TreeSource | null;
  /** A tree's fork events (null: it finds descendants by scanning only), and which it is and why. */
  births: ForkEvents | null;
  discovery: string | null;
  /** ms between a tree's rescans: rescanIntervalMs, or the safety net's with live events. */
  rescanMs: number;
}

function openSource(): Opened {
  if (data.tree) {
    const tree = new TreeSource(data.pid, data.backend, data.excludeRoot, undefined, data.countsIntervalMs);
    const births = openForkEvents(); // listening before the first scan: no child falls between
    const execs = births.events?.execs === true;
    if (execs) tree.followExecs();
    tree.rescan();
    const rescanMs = rescanInterval(births.events, data.rescanIntervalMs, data.rescanDefault);
    const discovery = discoveryReason(births, rescanMs, tree.descendants.reason);
    return { source: tree, probe: tree.root, tree, births: births.events, discovery, rescanMs };
  }
  const probe = createProbe({ pid: data.pid, backend: data.backend, countsIntervalMs: data.countsIntervalMs });
  const source = { sampleInto: (r: Float64Array, o: number) => probe.sampleInto(r, o), processes: 1, joinedCpuUs: 0, close: () => probe.close() };
  return { source, probe, tree: null, births: null, discovery: null, rescanMs: data.rescanIntervalMs };
}

/** Write one record, reading the source into it; returns the read's status. */
function record(source: Source, lagMs: number): ProbeStatus {
  const base = writer.begin();
  return publish(base, source.sampleInto(writer.records, base + R.ROW), source, lagMs);
}

/** Write one record from a row the tick already read (copied: 15 stores). */
function recordFrom(row: Float64Array, status: ProbeStatus, source: Source, lagMs: number): ProbeStatus {
  const base = writer.begin();
  const rec = writer.records;
  if (status === ProbeStatus.OK || status === ProbeStatus.ZOMBIE) for (let i = 0; i < FIELD_COUNT; i++) rec[base + R.ROW + i] = row[i]!;
  return publish(base, status, source, lagMs);
}

function publish(base: number, status: ProbeStatus, source: Source, lagMs: number): ProbeStatus {
  const rec = writer.records;
  rec[base + R.STATUS] = status;
  rec[base + R.LAG_US] = lagMs * 1e3;
  rec[base + R.PROCESSES] = source.processes;
  const pssBytes = pss.takePending();
  rec[base + R.PSS_BYTES] = status === ProbeStatus.OK ? pssBytes : NaN;
  if (status === ProbeStatus.OK) cpuWindow.apply(rec, base, source.joinedCpuUs);
  if (status !== ProbeStatus.OK && status !== ProbeStatus.ZOMBIE) {
    rec.fill(NaN, base + R.ROW, base + R.ROW + FIELD_COUNT);
    rec[base + R.ROW + F.pid] = data.pid;
    rec[base + R.ROW + F.timestamp] = performance.timeOrigin + performance.now();
  }
  writer.commit();
  if (resumed) {
    resumed = false;
    notifyWord(header, H.LAST_SLOT); // Sampler.resume() waits for this first record
  }
  return status;
}

/**
 * Paused: no sampling, no CPU, until resumed (notify on PAUSE) or stopped (notify on PAUSE too).
 * Returns false when stopped.
 */
function waitWhilePaused(): boolean {
  setState(WriterState.PAUSED);
  while (Atomics.load(header, H.PAUSE) !== 0 && Atomics.load(header, H.STOP) === 0) Atomics.wait(header, H.PAUSE, 1, 1000);
  if (Atomics.load(header, H.STOP) !== 0) return false;
  setState(WriterState.RUNNING);
  resumed = true;
  return true;
}

/** Set the writer state and wake whoever waits on it (Sampler.whenPaused, ring/wait.ts). */
function setState(state: (typeof WriterState)[keyof typeof WriterState]): void {
  Atomics.store(header, H.WRITER_STATE, state);
  notifyWord(header, H.WRITER_STATE);
}

/**
 * One process at a short interval with the addon: the whole loop runs in C (native/loop.cc),
 * writing records with the ring's seqlock; JavaScript only handles pauses. Returns the final
 * status, or null when the platform cannot sleep to absolute deadlines (use runSync).
 */
function runNative(loop: NativeLoop, intervalMs: number): ProbeStatus | null {
  const v = writer.views;
  const layout = loopLayout(v.geometry); // every offset the C loop uses: it defines none itself
  const windowMs = Math.max(intervalMs, CPU_WINDOW_MS);
  // [intervalMs, windowMs, sampleFirst, maxMs]: the loop returns every 100 ms, because a worker
  // blocked in C cannot be terminated; it is called again at once on the same deadline grid.
  const params = Float64Array.of(intervalMs, windowMs, 0, 100);
  const state = Float64Array.of(0, 0, 0, NaN); // [nextSeq, lastStatus, deadline, pending PSS]
  const cap = Math.min(100_000, Math.ceil(windowMs / intervalMs) + 2);
  const win = new Float64Array(2 + 2 * cap); // the CPU window, kept across calls
  for (;;) {
    state[0] = writer.nextSeq;
    // Right after a resume the loop runs for one sample only (maxMs 0), so that this thread can
    // notify Sampler.resume() that it is in: C cannot wake a JavaScript waiter.
    // The loop also returns when a PSS reading is due: this thread reads it (readPssBytes) and
    // the loop's next record carries it (state[3]).
    pss.take(performance.now(), null);
    state[3] = pss.takePending();
    params[3] = resumed ? 0 : Math.min(100, pss.untilDue(performance.now()));
    const exit = loop(v.header, v.records, v.versions, v.gauges, layout, params, state, win);
    writer.seekTo(state[0]!);
    if (resumed) {
      resumed = false;
      notifyWord(header, H.LAST_SLOT);
    }
    if (exit === LoopExit.YIELD) continue; // a pending terminate() takes effect here
    if (exit === LoopExit.STOP) return ProbeStatus.OK;
    if (exit === LoopExit.TARGET) return state[1] as ProbeStatus;
    if (exit === LoopExit.UNSUPPORTED) return null;
    if (!waitWhilePaused()) return ProbeStatus.OK;
    params[2] = 1; // after a resume, a new grid and the first sample at once
    state[2] = 0;
    win[0] = win[1] = 0; // and a new CPU window: the pause is not a window
  }
}

function finished(status: ProbeStatus): boolean {
  return status !== ProbeStatus.OK;
}

/**
 * The loop. Short intervals with the addon: one native call per tick sleeps to the deadline,
 * reads the clock and (single process) the probe, so a tick crosses into C++ once; a tree then
 * reads its members. Otherwise Atomics.wait on the stop word between ticks.
 */
function runSync(opened: Opened, intervalMs: number, tick: ((cell: Float64Array, row: Float64Array) => ProbeStatus) | null): ProbeStatus {
  const { source, tree, births } = opened;
  const native = loadNative().addon;
  native?.tuneThread();
  const nativeSleep = native !== null && intervalMs < SHORT_INTERVAL_MS;
  // The clock goes through a preallocated cell [now, deadline]: a double returned from or passed
  // to the addon would be a new heap number on every call, and the tick allocates nothing.
  const clock = new Float64Array(2);
  const row = new Float64Array(FIELD_COUNT);
  const now = native
    ? (): number => {
        native.nowInto(clock, 0);
        return clock[0]!;
      }
    : () => performance.now();
  let next = now();
  const upkeep = tree ? new TreeUpkeep(tree, births, header, opened.rescanMs, next, post, data.countsIntervalMs, data.countsBudget) : null;
  let status: ProbeStatus = ProbeStatus.OK;
  for (;;) {
    next += intervalMs;
    if (Atomics.load(header, H.STOP) !== 0) return status;
    if (Atomics.load(header, H.PAUSE) !== 0) {
      if (!waitWhilePaused()) return status;
      cpuWindow.reset();
      next = now(); // a fresh deadline grid: the pause is not missed deadlines; sample at once
    }
    let read = -1; // status of a read the native tick already made
    let lag: number;
    if (nativeSleep) {
      clock[1] = next;
      if (tick) read = tick(clock, row);
      else native.tick(-1, clock, null);
      lag = clock[0]! - next;
    } else {
      for (let remaining = next - now(); remaining > 0 && Atomics.load(header, H.STOP) === 0; remaining = next - now()) {
        if (Atomics.load(header, H.PAUSE) !== 0) break;
        Atomics.wait(header, H.STOP, 0, remaining);
      }
      if (Atomics.load(header, H.STOP) !== 0) return status;
      if (Atomics.load(header, H.PAUSE) !== 0) continue;
      lag = now() - next;
    }
    if (lag >= intervalMs) {
      const skipped = Math.floor(lag / intervalMs);
      Atomics.add(header, H.MISSED, skipped);
      next += skipped * intervalMs;
      lag -= skipped * intervalMs;
    }
    if (upkeep?.beforeRecord(next)) cpuWindow.reset(); // the totals stepped down: no interval spans the reset
    status = read >= 0 ? recordFrom(row, read as ProbeStatus, source, lag) : record(source, lag);
    if (finished(status)) return status;
    pss.take(performance.now(), tree);
  }
}

/** The systeminformation tier reads asynchronously and slowly: its own loop, clamped. */
async function runAsync(probe: Probe, intervalMs: number): Promise<ProbeStatus> {
  let next = performance.now();
  for (;;) {
    next += intervalMs;
    const remaining = next - performance.now();
    if (remaining > 0) await Atomics.waitAsync(header, H.STOP, 0, remaining).value;
    if (Atomics.load(header, H.STOP) !== 0) return ProbeStatus.OK;
    const sample = await probe.sample().catch(() => null);
    const base = writer.begin();
    const rec = writer.records;
    for (let i = 0; i < FIELD_COUNT; i++) rec[base + R.ROW + i] = sample ? sample[FIELDS[i]!] : NaN;
    rec[base + R.STATUS] = sample ? ProbeStatus.OK : ProbeStatus.EXITED;
    rec[base + R.LAG_US] = Math.max(0, performance.now() - next) * 1e3;
    rec[base + R.PROCESSES] = 1;
    rec[base + R.PSS_BYTES] = NaN; // this tier is for where smaps_rollup is not
    writer.commit();
    notifyWord(header, H.LAST_SLOT); // a read costs ~100 ms here: a notify per record is free
    if (!sample) return ProbeStatus.EXITED;
  }
}

async function main(): Promise<void> {
  let opened: Opened;
  try {
    opened = openSource();
  } catch (err) {
    setState(WriterState.FAILED);
    post({ code: 'ERROR', error: errorData(err) });
    return;
  }
  const { source, probe, tree } = opened;
  setState(WriterState.RUNNING);
  let intervalMs = data.intervalMs;
  let status: ProbeStatus;
  if (probe.backend === 'systeminformation') {
    if (intervalMs < SI_MIN_INTERVAL_MS) {
      const msg = `the systeminformation backend spawns a process per read: interval raised from ${intervalMs} ms to ${SI_MIN_INTERVAL_MS} ms`;
      post({ code: 'WARNING', error: errorData(new IntervalClampedWarning(msg)) });
      intervalMs = SI_MIN_INTERVAL_MS;
    }
    const first = await probe.sample().catch(() => null);
    post({ code: 'READY', backend: probe.backend, backendReason: probe.backendReason, intervalMs, firstSeq: writer.nextSeq, treeDiscovery: opened.discovery, tid: ownThreadId() });
    status = first ? await runAsync(probe, intervalMs) : ProbeStatus.EXITED;
  } else {
    status = record(source, 0);
    post({ code: 'READY', backend: probe.backend, backendReason: probe.backendReason, intervalMs, firstSeq: writer.nextSeq - 1, treeDiscovery: opened.discovery, tid: ownThreadId() });
    const loop = !tree && intervalMs < SHORT_INTERVAL_MS ? nativeLoop(probe) : null;
    if (!finished(status)) status = (loop ? runNative(loop, intervalMs) : null) ?? runSync(opened, intervalMs, tree ? null : nativeTick(probe));
  }
  source.close();
  opened.births?.close();
  setState(WriterState.STOPPED);
  post({ code: 'STOPPED', reason: status === ProbeStatus.OK ? 'requested' : 'target-exited', status });
}

main().catch((err: unknown) => {
  setState(WriterState.FAILED);
  post({ code: 'ERROR', error: errorData(err) });
});
