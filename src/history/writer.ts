/** The owner's side of a session's history writer worker. */
import type { Worker } from 'node:worker_threads';
import { startWorker } from '../worker-options.js';
import { HistoryWriteError, type ProcprobeError } from '../errors.js';
import type { SessionSummary } from '../session/types.js';
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
   * Write the rest and close the file. Rejects with the failure that ended the writing (at once
   * if it already has), or after CLOSE_TIMEOUT_MS with the worker terminated.
   */
  close(records: SessionRecord[]): Promise<WriterResult> {
    if (this.#closed) return this.#closed;
    if (this.#failure) return (this.#closed = Promise.reject(this.#failure));
    // An awaited close keeps the process alive until the file is complete: ref now, not after
    // OPENED, or a session closed before its file opened would let the process exit mid-await.
    this.#worker.ref();
    const done = this.#opened.then(
      () =>
        new Promise<WriterResult>((resolve, reject) => {
          let closed = false;
          this.#worker.on('message', (m: FromWriter) => {
            if (m.code !== 'CLOSED') return;
            closed = true;
            resolve({ samples: m.samples, missed: m.missed, bytes: m.bytes });
          });
          // The worker exits after CLOSED too: only an exit before it is a failure.
          void this.#exit.then(() => closed || reject(this.#failure ?? this.#fail(`history writer for ${this.path} exited early`)));
          this.#worker.postMessage({ code: 'CLOSE', records } satisfies ToWriter);
        }),
    );
    this.#closed = withTimeout(done, CLOSE_TIMEOUT_MS, () => {
      void this.#worker.terminate();
      return this.#fail(`history writer for ${this.path} did not finish within ${CLOSE_TIMEOUT_MS} ms (a stalled file system?); it was stopped`);
    });
    return this.#closed;
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

/**
 * Append the end record to a closed session file (after its summary was recomputed from disk). A
 * fresh sequential Packr is safe here: the end record's structure is new to the file. A failed
 * append (a full disk) is cut back off, so the file stays whole records and loads as incomplete.
 */
export async function appendEnd(path: string, summary: SessionSummary): Promise<void> {
  const { open } = await import('node:fs/promises');
  const { Packr } = await import('msgpackr');
  const { encodeRecord } = await import('./format.js');
  const fh = await open(path, 'a');
  const size = (await fh.stat()).size;
  try {
    await fh.appendFile(encodeRecord(new Packr({ sequential: true }), { t: 'Z', summary }));
  } catch (err) {
    await fh.truncate(size).catch(() => undefined);
    throw new HistoryWriteError(`writing the end record of ${path} failed: ${(err as Error).message}; the file keeps its samples and timings and loads as incomplete`, { cause: err });
  } finally {
    await fh.close();
  }
}
