/** The owner's side of a session's history writer worker. */
import { Worker } from 'node:worker_threads';
import { HistoryWriteError, type ProcprobeError } from '../errors.js';
import type { SessionSummary } from '../session/types.js';
import type { SessionHeader, SessionRecord } from './format.js';
import type { FromWriter, ToWriter, WriterWorkerData } from './messages.js';

export interface WriterResult {
  samples: number;
  /** Samples the ring overwrote before the writer saved them. */
  missed: number;
  bytes: number;
}

export class SessionWriter {
  readonly path: string;
  readonly #worker: Worker;
  readonly #opened: Promise<void>;
  #closed: Promise<WriterResult> | null = null;
  #failure: ProcprobeError | null = null;
  #onError: (e: ProcprobeError) => void;
  readonly #flushed = new Int32Array(new SharedArrayBuffer(4));

  constructor(sab: SharedArrayBuffer, path: string, header: SessionHeader, startSeq: number, flushIntervalMs: number, onError: (e: ProcprobeError) => void) {
    this.path = path;
    this.#onError = onError;
    const workerData: WriterWorkerData = { sab, path, header, startSeq, flushIntervalMs, flushed: this.#flushed.buffer as SharedArrayBuffer };
    this.#worker = new Worker(new URL('./writer-worker.js', import.meta.url), { name: 'procprobe-history', workerData });
    this.#opened = new Promise((resolve, reject) => {
      this.#worker.on('message', (m: FromWriter) => {
        if (m.code === 'OPENED') resolve();
        else if (m.code === 'ERROR') {
          const err = new HistoryWriteError(`writing ${path} failed: ${m.message}`);
          this.#failure = err;
          reject(err);
          this.#onError(err);
        }
      });
      this.#worker.on('error', (e) => {
        const err = new HistoryWriteError(`history writer for ${path} failed: ${e.message}`, { cause: e });
        this.#failure = err;
        reject(err);
        this.#onError(err);
      });
    });
    this.#opened.catch(() => undefined);
    // A session in progress never keeps the host alive (on exit the file is what kill -9 leaves,
    // recovered as incomplete). After the listeners: adding a 'message' listener to a Worker
    // refs its message port again, so an unref() before them would not hold.
    this.#worker.unref();
  }

  /** Queue records (timings, errors) for the file. */
  write(records: SessionRecord[]): void {
    if (records.length === 0 || this.#closed || this.#failure) return;
    this.#worker.postMessage({ code: 'RECORDS', records } satisfies ToWriter);
  }

  /** Write the rest and close the file. */
  close(records: SessionRecord[]): Promise<WriterResult> {
    if (this.#closed) return this.#closed;
    // An awaited close keeps the process alive until the file is complete: ref now, not after
    // OPENED, or a session closed before its file opened would let the process exit mid-await.
    this.#worker.ref();
    this.#closed = this.#opened.then(
      () =>
        new Promise<WriterResult>((resolve, reject) => {
          this.#worker.on('message', (m: FromWriter) => {
            if (m.code === 'CLOSED') resolve({ samples: m.samples, missed: m.missed, bytes: m.bytes });
          });
          this.#worker.once('exit', () => reject(this.#failure ?? new HistoryWriteError(`history writer for ${this.path} exited early`)));
          this.#worker.postMessage({ code: 'CLOSE', records } satisfies ToWriter);
        }),
    );
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
    if (this.#closed || this.#failure) return false;
    const before = Atomics.load(this.#flushed, 0);
    this.#worker.postMessage({ code: 'FLUSH', records } satisfies ToWriter);
    const deadline = performance.now() + budgetMs;
    for (;;) {
      const left = deadline - performance.now();
      if (Atomics.load(this.#flushed, 0) !== before) return true;
      if (left <= 0) return false;
      Atomics.wait(this.#flushed, 0, before, left);
    }
  }
}

/**
 * Append the end record to a closed session file (after its summary was recomputed from disk). A
 * fresh sequential Packr is safe here: the end record's structure is new to the file.
 */
export async function appendEnd(path: string, summary: SessionSummary): Promise<void> {
  const { appendFile } = await import('node:fs/promises');
  const { Packr } = await import('msgpackr');
  const { encodeRecord } = await import('./format.js');
  await appendFile(path, encodeRecord(new Packr({ sequential: true }), { t: 'Z', summary }));
}
