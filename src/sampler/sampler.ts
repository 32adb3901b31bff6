/**
 * The owner's side of one sampler worker: options checked at the door, lifecycle (start resolves
 * when the first sample is in the ring, stop when the worker has exited, both idempotent), and the
 * worker's failures reported as events, never thrown into the host.
 */
import { EventEmitter } from 'node:events';
import { emitOrWarn, rebuildError, SamplerError, WorkerFailedError, type ProcprobeError } from '../errors.js';
import type { ProbeBackend } from '../probe/probe.js';
import { H, WriterState } from '../ring/layout.js';
import { createRingBuffer, RingReader } from '../ring/ring.js';
import { notifyWord, waitOnWord } from '../ring/wait.js';
import { startWorker } from '../worker-options.js';
import type { SamplerWorkerData, WorkerMessage } from './messages.js';
import { usageMark, type SamplerUsageMark } from './self-usage.js';
import { hookExit, live, ProcessWaiters, type ProcessList, type WorkerRun } from './worker-run.js';
import { resolveSamplerOptions, type ResolvedSamplerOptions, type SamplerOptions } from './options.js';

export interface SamplerStats {
  backend: ProbeBackend | null;
  /** Records written so far (including those since overwritten). */
  samples: number;
  missedDeadlines: number;
  /** Samples per second since start(). */
  achievedHz: number;
  /** The interval in force (may be clamped by the systeminformation tier). */
  intervalMs: number;
}

const STOP_GRACE_MS = 2000;

export interface SamplerEvents {
  error: [ProcprobeError];
  warning: [ProcprobeError];
  stopped: [{ reason: 'requested' | 'target-exited' | 'worker-exited' }];
}

export class Sampler extends EventEmitter<SamplerEvents> {
  readonly pid: number;
  readonly tree: boolean;
  readonly capacity: number;
  readonly reader: RingReader;
  #intervalMs: number;
  #countsIntervalMs = 0;
  readonly #options: ResolvedSamplerOptions;
  readonly #sab: SharedArrayBuffer;
  /** The current worker and whether it is sampling (READY seen, not stopped). */
  #run: WorkerRun | null = null;
  #starting: Promise<void> | null = null;
  #stopping: Promise<void> | null = null;
  #backend: ProbeBackend | null = null;
  #backendReason = '';
  #treeDiscovery: string | null = null;
  #startedAt = 0;
  #startSeq = 0;
  #firstSeq = -1;
  #tid: number | null = null;
  #readyMark: SamplerUsageMark | null = null;
  #ref = new WeakRef(this);

  constructor(options?: SamplerOptions) {
    super();
    const { pid, resolved } = resolveSamplerOptions(options);
    this.pid = pid;
    this.#options = resolved;
    const tree = resolved.tree;
    this.tree = tree;
    this.capacity = this.#options.capacity;
    this.#intervalMs = this.#options.samplingIntervalMs;
    this.#sab = createRingBuffer(this.capacity, this.#options.maxGauges);
    this.reader = new RingReader(this.#sab);
  }

  /** The ring: hand it to any thread and read it there with `new RingReader(buffer)`. */
  get sharedBuffer(): SharedArrayBuffer {
    return this.#sab;
  }

  get isRunning(): boolean {
    return this.#run !== null && this.#run.running;
  }

  get backend(): ProbeBackend | null {
    return this.#backend;
  }

  get backendReason(): string {
    return this.#backendReason;
  }

  /** How a tree finds its descendants (fork events, or the scan only and why); null before start() or for one process. */
  get treeDiscovery(): string | null {
    return this.#treeDiscovery;
  }

  /**
   * Sequence number of the first record of the latest start(). Its cpuPercent is the average since
   * the process started, not a current figure.
   */
  get firstSeq(): number {
    return this.#firstSeq;
  }

  get intervalMs(): number {
    return this.#intervalMs;
  }

  /**
   * ms between readings of the costly counts (fds, threads, per-thread switches): the longest in
   * effect since start(), which a tree's budget lengthens as it grows (sampler/tree-upkeep.ts).
   */
  get countsIntervalMs(): number {
    return this.#countsIntervalMs;
  }

  get stats(): SamplerStats {
    const samples = this.reader.latestSeq() + 1;
    const elapsed = (performance.now() - this.#startedAt) / 1e3;
    return {
      backend: this.#backend,
      samples,
      missedDeadlines: this.reader.missedDeadlines,
      achievedHz: this.#startedAt > 0 && elapsed > 0 ? (samples - this.#startSeq) / elapsed : 0,
      intervalMs: this.#intervalMs,
    };
  }

  /**
   * The sampler's own cost so far (its thread's CPU, records written, deadlines missed): two marks
   * bound an interval (session/sampler-account.ts). null before the worker's first sample, when
   * its thread is not known yet: see `readyMark`.
   */
  usageMark(): SamplerUsageMark | null {
    return this.#readyMark === null ? null : usageMark(this.#tid, this.reader);
  }

  /** The mark taken when the latest worker reported its first sample (null before). */
  get readyMark(): SamplerUsageMark | null {
    return this.#readyMark;
  }

  /**
   * Start sampling; resolves when the first sample is in the ring. Idempotent; while a stop() is
   * in flight, it starts again once that stop is done.
   */
  start(): Promise<void> {
    if (this.#stopping) return this.#stopping.then(() => this.start());
    if (this.#starting) return this.#starting;
    // The worker is created synchronously: a caller that starts sampling and then runs a long
    // synchronous startup phase must not delay the worker itself until its first await.
    const starting = this.#spawn();
    this.#starting = starting;
    starting.catch(() => {
      if (this.#starting === starting) this.#starting = null;
    });
    return starting;
  }

  #spawn(): Promise<void> {
    Atomics.store(this.reader.views.header, H.STOP, 0); // (PAUSE is kept: pause() before start() boots paused)
    const workerData: SamplerWorkerData = {
      sab: this.#sab,
      pid: this.pid,
      tree: this.tree,
      excludeRoot: this.#options.excludeRoot,
      intervalMs: this.#options.samplingIntervalMs,
      backend: this.#options.backend,
      rescanIntervalMs: this.#options.rescanIntervalMs,
      rescanDefault: this.#options.rescanDefault,
      pssIntervalMs: this.#options.pssIntervalMs,
      countsIntervalMs: this.#options.countsIntervalMs,
      countsBudget: this.#options.countsBudget,
    };
    // The host's execArgv and NODE_OPTIONS are not ours to inherit: see src/worker-options.ts.
    const worker = startWorker(new URL('./worker.js', import.meta.url), {
      name: 'procprobe-sampler',
      workerData,
      stdout: false,
      stderr: false,
    });
    const run: WorkerRun = { worker, running: false, ready: false, failure: null, stoppedReason: null };
    this.#run = run;
    live.add(this.#ref);
    hookExit();
    const started: Promise<void> = new Promise<void>((resolve, reject) => {
      worker.on('message', (m: WorkerMessage) => this.#onMessage(run, m, resolve));
      worker.on('error', (err) => {
        run.running = false;
        run.failure = new WorkerFailedError(`sampler worker failed: ${err.message}`, { cause: err });
      });
      worker.on('exit', (code) => this.#onExit(run, code, started, reject));
    });
    return started;
  }

  #onMessage(run: WorkerRun, m: WorkerMessage, resolve: () => void): void {
    switch (m.code) {
      case 'READY':
        run.ready = true;
        run.running = this.#stopping === null;
        this.#backend = m.backend;
        this.#backendReason = m.backendReason;
        this.#treeDiscovery = m.treeDiscovery;
        this.#intervalMs = m.intervalMs;
        this.#countsIntervalMs = this.#options.countsIntervalMs;
        this.#startedAt = performance.now();
        this.#startSeq = this.reader.latestSeq();
        this.#firstSeq = m.firstSeq;
        this.#tid = m.tid;
        // From the worker's first sample on: that record counts, the boot before it does not.
        this.#readyMark = { ...usageMark(m.tid, this.reader), records: m.firstSeq };
        run.worker.unref(); // from now on the sampler never keeps the host alive
        resolve();
        break;
      case 'COUNTS_INTERVAL':
        this.#countsIntervalMs = Math.max(this.#countsIntervalMs, m.countsIntervalMs);
        break;
      case 'WARNING':
        this.#report('warning', rebuildError(m.error));
        break;
      case 'ERROR':
        // Reported when the worker has exited, so that isRunning is already false by then.
        run.failure = rebuildError(m.error); // in its class; an error without a code of ours is a SamplerError
        run.running = false;
        break;
      case 'PROCESSES':
        this.#processWaiters.answer({ list: m.list, dropped: m.dropped });
        break;
      case 'STOPPED':
        run.running = false;
        this.#processWaiters.answer(null);
        if (m.reason === 'target-exited') run.stoppedReason = m.reason;
        if (!run.ready) run.failure ??= new SamplerError(`sampler stopped before its first sample (${m.reason})`);
        break;
    }
  }

  #onExit(run: WorkerRun, code: number, started: Promise<void>, reject: (e: ProcprobeError) => void): void {
    run.running = false;
    live.delete(this.#ref);
    if (this.#run === run) this.#run = null;
    if (this.#starting === started) this.#starting = null;
    // Readers in other threads learn from the ring header that nobody writes any more.
    const header = this.reader.views.header;
    Atomics.compareExchange(header, H.WRITER_STATE, WriterState.RUNNING, code === 0 && run.failure === null ? WriterState.STOPPED : WriterState.FAILED);
    // A worker that was terminated notified nobody: wake whenPaused() and resume() here.
    notifyWord(header, H.WRITER_STATE);
    notifyWord(header, H.LAST_SLOT);
    if (!run.ready) {
      reject(run.failure ?? new WorkerFailedError(`sampler worker exited with code ${code} before its first sample`));
      return;
    }
    if (run.failure) this.#report('error', run.failure);
    if (run.stoppedReason) this.emit('stopped', { reason: run.stoppedReason });
    else if (this.#stopping === null && (code !== 0 || run.failure)) {
      if (!run.failure) this.#report('error', new WorkerFailedError(`sampler worker exited with code ${code}`));
      this.emit('stopped', { reason: 'worker-exited' });
    }
  }

  readonly #processWaiters = new ProcessWaiters();

  /**
   * A tree sampler's process list (sampler/processes.ts), posted by the worker at its next tick;
   * null when this is not a tree, the sampler is not running (paused or stopped) or no tick came
   * within `timeoutMs`.
   */
  processes(timeoutMs = 1000): Promise<ProcessList | null> {
    if (!this.tree || !this.isRunning) return Promise.resolve(null);
    const answer = this.#processWaiters.wait(timeoutMs);
    Atomics.store(this.reader.views.header, H.PROCESSES, 1);
    return answer;
  }

  /** Ask a tree sampler to look for new descendants at its next tick (e.g. right after a spawn). */
  requestRescan(): void {
    Atomics.store(this.reader.views.header, H.RESCAN, 1);
  }

  /**
   * Ask a tree sampler to start its totals from zero at its next record: the CPU, faults and
   * switches of members that exited before are forgotten (a new session over a new command).
   */
  requestResetTotals(): void {
    Atomics.store(this.reader.views.header, H.RESET_TOTALS, 1);
  }

  /** Ask the worker to stop without waiting (safe in 'exit' handlers). */
  requestStop(): void {
    const header = this.reader.views.header;
    Atomics.store(header, H.STOP, 1);
    Atomics.notify(header, H.STOP);
    Atomics.notify(header, H.PAUSE);
  }

  /**
   * Stop sampling but keep the worker, waiting at no CPU cost, so that resume() is immediate (a
   * worker takes 50-300 ms to start). May be called before start(): the worker then boots, takes
   * its first sample and waits.
   */
  pause(): void {
    const header = this.reader.views.header;
    Atomics.store(header, H.PAUSE, 1);
    Atomics.notify(header, H.STOP); // wakes a long Atomics.wait between ticks
  }

  get isPaused(): boolean {
    return Atomics.load(this.reader.views.header, H.PAUSE) !== 0;
  }

  /**
   * After pause(): resolves once the worker has taken its last sample and is waiting (a tick in
   * flight still completes), so that the ring no longer moves. Immediate without a worker.
   */
  async whenPaused(): Promise<void> {
    const header = this.reader.views.header;
    // The worker notifies WRITER_STATE when it parks; #onExit does when it is gone.
    await waitOnWord(header, H.WRITER_STATE, () => !this.isRunning || Atomics.load(header, H.WRITER_STATE) === WriterState.PAUSED, 1000 + this.#intervalMs);
  }

  /** Resume after pause(); resolves when a sample newer than the call is in the ring. */
  async resume(): Promise<void> {
    const header = this.reader.views.header;
    const before = this.reader.latestSeq();
    Atomics.store(header, H.PAUSE, 0);
    Atomics.notify(header, H.PAUSE);
    await this.start();
    // The worker takes a sample at once after a resume and notifies LAST_SLOT when it is in.
    await waitOnWord(header, H.LAST_SLOT, () => this.reader.latestSeq() > before || !this.isRunning, 1000 + this.#intervalMs);
  }

  /** Stop sampling; resolves when the worker has exited. The ring keeps its samples. Idempotent. */
  stop(): Promise<void> {
    if (this.#stopping) return this.#stopping;
    const run = this.#run;
    if (!run) return Promise.resolve();
    const starting = this.#starting;
    run.running = false;
    const stopping = (async () => {
      await starting?.catch(() => undefined);
      this.requestStop();
      run.worker.ref(); // an awaited stop() keeps the process alive until the worker is gone (bounded below)
      const exited = new Promise<void>((resolve) => {
        if (this.#run !== run) resolve();
        else run.worker.once('exit', () => resolve());
      });
      const timer = setTimeout(() => void run.worker.terminate(), STOP_GRACE_MS);
      timer.unref();
      await exited;
      clearTimeout(timer);
    })().finally(() => {
      if (this.#stopping === stopping) this.#stopping = null;
      if (this.#starting === starting) this.#starting = null;
    });
    this.#stopping = stopping;
    return stopping;
  }

  /** Emit without ever throwing into the host: with no listener, a process warning instead. */
  #report(event: 'error' | 'warning', err: ProcprobeError): void {
    emitOrWarn(this, event, err);
  }
}

