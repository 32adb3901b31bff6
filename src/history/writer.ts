/** The owner's side of a session's history writer worker. */
import type { Worker } from 'node:worker_threads';
import { startWorker } from '../worker-options.js';
import { HistoryWriteError, type ProcprobeError } from '../errors.js';
import type { SessionHeader, SessionRecord } from './format.js';
import { FLUSH_FAILED, type FromWriter, type ToWriter, type WriterWorkerData } from './messages.js';

export interface WriterResult {
  samples: number;
  /** Samples the ring overwrote before the writer saved them. */
  missed: number;
  bytes: number;
}

/**
 * How long close() waits for the worker to write the rest and confirm: far more than a real
 * close takes (120,000 samples are written in about 100 ms), short enough that a wedged file
 * system cannot make finishSession() hang.
 */
const CLOSE_TIMEOUT_MS = 10_000;

export class SessionWriter {
  readonly path: string;
  readonly #worker: Worker;
  readonly #opened: Promise<void>;
  #closed: Promise<WriterResult> | null = null;
  #failure: HistoryWriteError | null = null;
  #exited = false;
  readonly #exit: Promise<void>;
  #onError: (e: ProcprobeError) => void;
  readonly #flushed = new Int32Array(new SharedArrayBuffer(4));

  constructor(sab: SharedArrayBuffer, path: string, header: SessionHeader, startSeq: number, flushIntervalMs: number, onError: (e: ProcprobeError) => void) {
    this.path = path;
    this.#onError = onError;
    const workerData: WriterWorkerData = { sab, path, header, startSeq, flushIntervalMs, flushed: this.#flushed.buffer as SharedArrayBuffer };
    // startWorker: none of the host's execArgv or NODE_OPTIONS (worker-options.ts).
    this.#worker = startWorker(new URL('./writer-worker.js', import.meta.url), { name: 'procprobe-history', workerData });
    this.#exit = new Promise((resolve) => this.#worker.once('exit', () => resolve()));
    void this.#exit.then(() => (this.#exited = true));
    this.#opened = new Promise((resolve, reject) => {
      this.#worker.on('message', (m: FromWriter) => {
        if (m.code === 'OPENED') resolve();
        else if (m.code === 'ERROR') reject(this.#fail(`writing ${path} failed: ${m.message}; nothing more is written and the file was removed`, m.errorCode));
      });
      this.#worker.on('error', (e) => reject(this.#fail(`history writer for ${path} failed: ${e.message}`, undefined, e)));
    });
    this.#opened.catch(() => undefined);
    // A session in progress never keeps the host alive (on exit the file is what kill -9 leaves,
    // recovered as incomplete). After the listeners: adding a 'message' listener to a Worker
    // refs its message port again, so an unref() before them would not hold.
    this.#worker.unref();
  }

  /** The error that ended this file's writing (reported once, through onError), or null. */
  get failure(): HistoryWriteError | null {
    return this.#failure;
  }

  /** Queue records (timings, errors) for the file. */
  write(records: SessionRecord[]): void {
    if (records.length === 0 || this.#closed || this.#failure) return;
    this.#worker.postMessage({ code: 'RECORDS', records } satisfies ToWriter);
  }

  /**
   * Write the samples so far and `records`, and keep the file open: resolves with its counts (the
   * sampler paused, they are final), so the file can be read whole before its end record goes
   * through this same fd (close). Rejects as close.
   */
  drain(records: SessionRecord[]): Promise<WriterResult> {
    if (this.#closed) return Promise.reject(new HistoryWriteError(`history writer for ${this.path} is closed`));
    if (this.#failure) return Promise.reject(this.#failure);
    return this.#ask({ code: 'DRAIN', records }, 'DRAINED');
  }

  /**
   * Write the rest and close the file. Rejects with the failure that ended the writing (at once
   * if it already has), or after CLOSE_TIMEOUT_MS with the worker terminated.
   */
  close(records: SessionRecord[]): Promise<WriterResult> {
    if (this.#closed) return this.#closed;
    if (this.#failure) return (this.#closed = Promise.reject(this.#failure));
    this.#closed = this.#ask({ code: 'CLOSE', records }, 'CLOSED');
    return this.#closed;
  }

  /** Send `m` once the file is open and wait for the `reply` with the file's counts. */
  #ask(m: ToWriter, reply: 'DRAINED' | 'CLOSED'): Promise<WriterResult> {
    // An awaited answer keeps the process alive until the file is written: ref now, not after
    // OPENED, or a session closed before its file opened would let the process exit mid-await.
    this.#worker.ref();
    const done = this.#opened.then(
      () =>
        new Promise<WriterResult>((resolve, reject) => {
          let answered = false;
          const onMessage = (r: FromWriter): void => {
            if (r.code !== reply) return;
            answered = true;
            this.#worker.off('message', onMessage);
            resolve({ samples: r.samples, missed: r.missed, bytes: r.bytes });
          };
          this.#worker.on('message', onMessage);
          // The worker exits after CLOSED too: only an exit before the answer is a failure.
          void this.#exit.then(() => answered || reject(this.#failure ?? this.#fail(`history writer for ${this.path} exited early`)));
          this.#worker.postMessage(m);
        }),
    );
    return withTimeout(done, CLOSE_TIMEOUT_MS, () => {
      void this.#worker.terminate();
      return this.#fail(`history writer for ${this.path} did not finish within ${CLOSE_TIMEOUT_MS} ms (a stalled file system?); it was stopped`);
    });
  }

  /**
   * For process exit only (the event loop is gone): ask the worker to write the samples so far
   * and `records`, and block this thread until it has, at most `budgetMs`. The worker thread
   * runs on while this one waits (as thread-stream's flushSync on exit), and the file is then
   * what a kill -9 after that moment would leave: recovered as incomplete on the next load.
   * Returns whether the worker confirmed in time.
   */
  flushSync(records: SessionRecord[], budgetMs: number): boolean {
    if (this.#closed || this.#failure || this.#exited) return false;
    const before = Atomics.load(this.#flushed, 0);
    if (before === FLUSH_FAILED) return false;
    this.#worker.postMessage({ code: 'FLUSH', records } satisfies ToWriter);
    const deadline = performance.now() + budgetMs;
    for (;;) {
      const left = deadline - performance.now();
      const now = Atomics.load(this.#flushed, 0);
      if (now === FLUSH_FAILED) return false;
      if (now !== before) return true;
      if (left <= 0) return false;
      Atomics.wait(this.#flushed, 0, before, left);
    }
  }

  /** The first failure ends the writing and is reported once; later ones return it. */
  #fail(message: string, errno?: string, cause?: unknown): HistoryWriteError {
    if (this.#failure) return this.#failure;
    this.#failure = new HistoryWriteError(message, { cause: cause ?? (errno ? Object.assign(new Error(errno), { code: errno }) : undefined) });
    this.#onError(this.#failure);
    return this.#failure;
  }
}

/** `p`, or the error `onTimeout` makes if it has not settled within `ms` (the timer holds the process meanwhile). */
function withTimeout<T>(p: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
