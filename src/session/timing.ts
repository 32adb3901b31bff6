/**
 * The seed's timing classes. A timing stores only monotonic marks on the caller's path
 * (performance.now()); wall-clock times are derived when read, and its resource delta is filled in
 * shortly after it finishes, off the caller's path, from the ring.
 */
import { SessionStateError } from '../errors.js';
import type { ResourceDelta } from './types.js';

/** An individual timing measurement. */
export class TimingMetric {
  readonly id: string;
  readonly operation: string;
  readonly metadata: Readonly<Record<string, unknown>>;
  /** The innermost timing that was open when this one started (nesting). */
  readonly parentId: string | undefined;
  /** performance.now() at start and end (ms, monotonic). */
  readonly startMono: number;
  endMono = NaN;
  success: boolean | undefined = undefined;
  errorMessage: string | undefined = undefined;
  /**
   * Boundary reads, when the monitor takes them: the slot of this timing's two getrusage
   * readings (right before start, right after finish) in its TimingBook's slab, -1 for none;
   * `usageEnded` once the second was taken.
   */
  usageSlot = -1;
  usageEnded = false;
  /** Resource use over this timing; undefined until computed (after finish) or when no sample covers it. */
  resources: ResourceDelta | undefined = undefined;

  constructor(id: string, operation: string, metadata: Readonly<Record<string, unknown>>, parentId: string | undefined, startMono = performance.now()) {
    this.id = id;
    this.operation = operation;
    this.metadata = metadata;
    this.parentId = parentId;
    this.startMono = startMono;
  }

  get finished(): boolean {
    return !Number.isNaN(this.endMono);
  }

  /** ms since epoch. */
  get startTime(): number {
    return performance.timeOrigin + this.startMono;
  }

  /** ms since epoch; NaN while running. */
  get endTime(): number {
    return performance.timeOrigin + this.endMono;
  }

  /** ms; NaN while running. */
  get durationMs(): number {
    return this.endMono - this.startMono;
  }

  /** Mark the timing as finished. A second call throws SessionStateError. */
  finish(success = true, errorMessage?: string, endMono = performance.now()): void {
    if (this.finished) throw new SessionStateError(`timing ${this.id} (${this.operation}) is already finished`);
    this.endMono = endMono;
    this.success = success;
    if (errorMessage !== undefined) this.errorMessage = String(errorMessage);
  }
}

/**
 * The seed's context manager, as a `using` disposable: `{ using t = pm.timing('x'); ... }`.
 * Disposal finishes it successfully unless `fail()` or `finish()` was called first; in a
 * try/catch, call `fail(err)` in the catch.
 */
export class TimingContext implements Disposable {
  readonly #finish: (success: boolean, message?: string) => void;
  readonly timingId: string;
  #done = false;

  constructor(timingId: string, finish: (success: boolean, message?: string) => void) {
    this.timingId = timingId;
    this.#finish = finish;
  }

  /** Finish as failed with the error's message. */
  fail(error?: unknown): void {
    this.finish(false, error instanceof Error ? error.message : error === undefined ? undefined : String(error));
  }

  finish(success = true, errorMessage?: string): void {
    if (this.#done) return;
    this.#done = true;
    this.#finish(success, errorMessage);
  }

  [Symbol.dispose](): void {
    this.finish(true);
  }
}
