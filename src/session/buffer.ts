/**
 * A session's samples in memory: drained from the ring at the housekeeping rate into one growing
 * Float64Array (ring record layout), up to a cap; the history file holds them all.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { F } from '../probe/layout.js';
import { R } from '../ring/layout.js';
import type { RingCursor, RingReader } from '../ring/ring.js';
import type { SessionSamples } from './types.js';

const BATCH = 4096;

export class SessionBuffer {
  readonly stride: number;
  records: Float64Array;
  count = 0;
  /** Samples arrived after the buffer was full (they are on disk only). */
  overflowed = false;
  /** Records the ring overwrote before they were drained. */
  get missed(): number {
    return this.#cursor.missed;
  }
  readonly #reader: RingReader;
  readonly #cursor: RingCursor;
  readonly #max: number;
  readonly #batch: Float64Array;

  constructor(reader: RingReader, startSeq: number, maxRecords: number) {
    this.#reader = reader;
    this.stride = reader.stride;
    this.#cursor = { next: startSeq, missed: 0 };
    this.#max = maxRecords;
    this.records = new Float64Array(Math.min(maxRecords, 4096) * this.stride);
    this.#batch = new Float64Array(BATCH * this.stride);
  }

  /** Timestamp of the newest record held (ms since epoch), -Infinity when empty. */
  get lastTimestamp(): number {
    return this.count === 0 ? -Infinity : this.records[(this.count - 1) * this.stride + R.ROW + F.timestamp]!;
  }

  /** Copy everything new from the ring. */
  drain(): void {
    for (;;) {
      const n = this.#reader.readSince(this.#cursor, this.#batch);
      const room = this.#max - this.count;
      const take = Math.min(n, room);
      if (n > take) this.overflowed = true;
      if (take > 0) {
        this.#grow(this.count + take);
        this.records.set(this.#batch.subarray(0, take * this.stride), this.count * this.stride);
        this.count += take;
      }
      if (n < BATCH) return;
    }
  }

  #grow(records: number): void {
    if (records * this.stride <= this.records.length) return;
    const next = new Float64Array(Math.min(this.#max, Math.max(records, (this.records.length / this.stride) * 2)) * this.stride);
    next.set(this.records.subarray(0, this.count * this.stride));
    this.records = next;
  }

  /**
   * Wait (at most budgetMs) until a record at or after `ts` is in. This one polls (1 ms): records
   * from the native loop come without a notify (C cannot wake a JavaScript waiter, see
   * ring/wait.ts), and it runs once per session end, for a few sampling intervals at most.
   */
  async waitPast(ts: number, budgetMs: number): Promise<void> {
    const deadline = performance.now() + budgetMs;
    for (;;) {
      this.drain();
      if (this.lastTimestamp >= ts || performance.now() >= deadline) return;
      await sleep(1);
    }
  }

  /** The samples held, trimmed to size (a copy). */
  samples(): SessionSamples {
    return {
      records: this.records.slice(0, this.count * this.stride),
      stride: this.stride,
      count: this.count,
      gaugeNames: this.#reader.gaugeNames(),
    };
  }
}

/**
 * The CPU % peak and the mean RSS over records (status OK only). The average CPU is not here:
 * it is CPU time over the span (resourceDelta's cpuPercent), not a mean of per-sample percentages.
 */
export function averages(rec: Float64Array, stride: number, count: number): { peakCpuPercent: number; avgRssBytes: number } {
  let n = 0;
  let peak = -Infinity;
  let rss = 0;
  for (let i = 1; i < count; i++) {
    if (rec[i * stride + R.STATUS] !== 0) continue;
    const at = i * stride + R.ROW;
    peak = Math.max(peak, rec[at + F.cpuPercent]!);
    rss += rec[at + F.rssBytes]!;
    n++;
  }
  return { peakCpuPercent: n ? peak : NaN, avgRssBytes: n ? rss / n : NaN };
}
