/**
 * The owner's side of one sampler worker: options checked at the door, lifecycle (start resolves
 * when the first sample is in the ring, stop when the worker has exited, both idempotent), and the
 * worker's failures reported as events, never thrown into the host.
 */
import { EventEmitter } from 'node:events';
import { Worker } from 'node:worker_threads';
import { ProcprobeError } from '../errors.js';
import { assertProcessExists, type ProbeBackend, type ProbeBackendOption } from '../probe/probe.js';
import { H } from '../ring/layout.js';
import { createRingBuffer, RingReader } from '../ring/ring.js';
import { checkBoolean, checkInteger, checkNumber, checkObject, checkOneOf, checkPid } from '../validate.js';
import type { SamplerWorkerData, WorkerMessage } from './messages.js';

export interface SamplerOptions {
  /** Process to sample; default this process. */
  pid?: number;
  /** Sample the process and all its descendants, summed. Default false. */
  tree?: boolean;
  /** ms between samples, >= 0.1. Default 1000 (the seed's 1 s). */
  samplingIntervalMs?: number;
  /** Records kept in the ring (older ones are overwritten). Default 1000. */
  capacity?: number;
  /** Gauge slots in shared memory. Default 16. */
  maxGauges?: number;
  /** Probe tier, as createProbe's option. Default 'auto'. */
  backend?: ProbeBackendOption;
  /** ms between rescans of a tree's descendants. Default 50. */
  rescanIntervalMs?: number;
  /** With tree: count only the descendants, not the root itself. Default false. */
  excludeRoot?: boolean;
}

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

const DEFAULTS = Object.freeze({
  tree: false,
  samplingIntervalMs: 1000,
  capacity: 1000,
  maxGauges: 16,
  backend: 'auto' as ProbeBackendOption,
  rescanIntervalMs: 50,
  excludeRoot: false,
});
const BACKENDS = ['auto', 'native', 'fallback', 'builtin', 'systeminformation'] as const;
const STOP_GRACE_MS = 2000;

/** Samplers alive in this thread, so that process exit can stop their writers first. */
const live = new Set<WeakRef<Sampler>>();
let exitHooked = false;

function hookExit(): void {
  if (exitHooked) return;
  exitHooked = true;
  // On exit the ring must stop moving so that 'exit' handlers read the last samples as they are.
  process.once('exit', () => {
    for (const ref of live) ref.deref()?.requestStop();
  });
}

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
  readonly #options: Required<Omit<SamplerOptions, 'pid'>>;
  readonly #sab: SharedArrayBuffer;
  #worker: Worker | null = null;
  #starting: Promise<void> | null = null;
  #stopping: Promise<void> | null = null;
  #backend: ProbeBackend | null = null;
  #backendReason = '';
  #startedAt = 0;
  #startSeq = 0;
  #ref = new WeakRef(this);

  constructor(options?: SamplerOptions) {
    super();
    const o = checkObject('options', options);
    this.pid = o.pid === undefined ? process.pid : checkPid('options.pid', o.pid);
    if (this.pid !== process.pid) assertProcessExists(this.pid);
    const tree = checkBoolean('options.tree', o.tree ?? DEFAULTS.tree);
    this.#options = {
      tree,
      samplingIntervalMs: checkNumber('options.samplingIntervalMs', o.samplingIntervalMs ?? DEFAULTS.samplingIntervalMs, 0.1, 2 ** 31 - 1),
      capacity: checkInteger('options.capacity', o.capacity ?? DEFAULTS.capacity, 2, 2 ** 26),
      maxGauges: checkInteger('options.maxGauges', o.maxGauges ?? DEFAULTS.maxGauges, 0, 1024),
      backend: checkOneOf('options.backend', o.backend ?? DEFAULTS.backend, BACKENDS),
      rescanIntervalMs: checkNumber('options.rescanIntervalMs', o.rescanIntervalMs ?? DEFAULTS.rescanIntervalMs, 1),
      excludeRoot: checkBoolean('options.excludeRoot', o.excludeRoot ?? DEFAULTS.excludeRoot),
    };
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
    return this.#worker !== null && this.#stopping === null;
  }

  get backend(): ProbeBackend | null {
    return this.#backend;
  }

  get backendReason(): string {
    return this.#backendReason;
  }

  get intervalMs(): number {
    return this.#intervalMs;
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

  /** Start sampling; resolves when the first sample is in the ring. Idempotent. */
  start(): Promise<void> {
    if (this.#starting) return this.#starting;
    // The worker is created synchronously: a caller that starts sampling and then runs a long
    // synchronous startup phase must not delay the worker itself until its first await.
    this.#starting = this.#stopping ? this.#stopping.then(() => this.#spawn()) : this.#spawn();
    this.#starting.catch(() => {
      this.#starting = null;
    });
    return this.#starting;
  }

  #spawn(): Promise<void> {
    Atomics.store(this.reader.views.header, H.STOP, 0);
    const workerData: SamplerWorkerData = {
      sab: this.#sab,
      pid: this.pid,
      tree: this.tree,
      excludeRoot: this.#options.excludeRoot,
      intervalMs: this.#options.samplingIntervalMs,
      backend: this.#options.backend,
      rescanIntervalMs: this.#options.rescanIntervalMs,
    };
    const worker = new Worker(new URL('./worker.js', import.meta.url), {
      name: 'procprobe-sampler',
      workerData,
      stdout: false,
      stderr: false,
    });
    this.#worker = worker;
    live.add(this.#ref);
    hookExit();
    return new Promise<void>((resolve, reject) => {
      let ready = false;
      worker.on('message', (m: WorkerMessage) => {
        switch (m.code) {
          case 'READY':
            ready = true;
            this.#backend = m.backend;
            this.#backendReason = m.backendReason;
            this.#intervalMs = m.intervalMs;
            this.#startedAt = performance.now();
            this.#startSeq = this.reader.latestSeq();
            worker.unref(); // from now on the sampler never keeps the host alive
            resolve();
            break;
          case 'WARNING':
            this.#report('warning', new ProcprobeError(m.warning, m.message));
            break;
          case 'ERROR': {
            const err = new ProcprobeError(m.errorCode ?? 'ERR_PROCPROBE_SAMPLER', m.message);
            if (!ready) reject(err);
            else this.#report('error', err);
            break;
          }
          case 'STOPPED':
            if (!ready) reject(new ProcprobeError('ERR_PROCPROBE_SAMPLER', `sampler stopped before its first sample (${m.reason})`));
            if (m.reason === 'target-exited') this.emit('stopped', { reason: m.reason });
            break;
        }
      });
      worker.on('error', (err) => {
        const e = new ProcprobeError('ERR_PROCPROBE_WORKER_FAILED', `sampler worker failed: ${err.message}`, { cause: err });
        if (!ready) reject(e);
        else this.#report('error', e);
      });
      worker.on('exit', (code) => {
        live.delete(this.#ref);
        if (this.#worker === worker) this.#worker = null;
        this.#starting = null;
        if (!ready) reject(new ProcprobeError('ERR_PROCPROBE_WORKER_FAILED', `sampler worker exited with code ${code} before its first sample`));
        else if (this.#stopping === null && code !== 0) {
          this.#report('error', new ProcprobeError('ERR_PROCPROBE_WORKER_FAILED', `sampler worker exited with code ${code}`));
          this.emit('stopped', { reason: 'worker-exited' });
        }
      });
    });
  }

  /** Ask a tree sampler to look for new descendants at its next tick (e.g. right after a spawn). */
  requestRescan(): void {
    Atomics.store(this.reader.views.header, H.RESCAN, 1);
  }

  /** Ask the worker to stop without waiting (safe in 'exit' handlers). */
  requestStop(): void {
    Atomics.store(this.reader.views.header, H.STOP, 1);
    Atomics.notify(this.reader.views.header, H.STOP);
  }

  /** Stop sampling; resolves when the worker has exited. The ring keeps its samples. Idempotent. */
  stop(): Promise<void> {
    if (this.#stopping) return this.#stopping;
    const worker = this.#worker;
    if (!worker) return Promise.resolve();
    this.#stopping = (async () => {
      await this.#starting?.catch(() => undefined);
      this.requestStop();
      worker.ref(); // an awaited stop() keeps the process alive until the worker is gone (bounded below)
      const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
      const timer = setTimeout(() => void worker.terminate(), STOP_GRACE_MS);
      timer.unref();
      await exited;
      clearTimeout(timer);
    })().finally(() => {
      this.#stopping = null;
      this.#starting = null;
    });
    return this.#stopping;
  }

  /** Emit without ever throwing into the host: with no listener, a process warning instead. */
  #report(event: 'error' | 'warning', err: ProcprobeError): void {
    if (this.listenerCount(event) > 0) this.emit(event, err);
    else process.emitWarning(err.message, { type: 'ProcprobeWarning', code: err.code });
  }
}

