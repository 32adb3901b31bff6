/**
 * CPU % over a trailing window, from the cumulative CPU time. Why: the kernel accounts a thread
 * that runs without a break on another CPU at scheduler ticks (4 ms at HZ=250), for this process
 * too (getrusage refreshes only the calling thread). Per-sample percentages at 1 kHz then swing
 * between ~0 % and several hundred; Δcpu over at least a few ticks does not. Preallocated: the
 * sampler's tick allocates nothing.
 */
import { F } from '../probe/layout.js';
import { R } from '../ring/layout.js';
import { cpuPercent } from '../units.js';

/** The shortest window CPU % is computed over, ms (a few scheduler ticks at any HZ >= 100). */
export const CPU_WINDOW_MS = 50;

export class CpuWindow {
  readonly #windowMs: number;
  readonly #ts: Float64Array;
  readonly #cpu: Float64Array;
  #head = 0; // index of the oldest entry
  #size = 0;

  constructor(intervalMs: number) {
    this.#windowMs = Math.max(intervalMs, CPU_WINDOW_MS);
    const capacity = Math.min(100_000, Math.ceil(this.#windowMs / intervalMs) + 2);
    this.#ts = new Float64Array(capacity);
    this.#cpu = new Float64Array(capacity);
  }

  /** Forget the history (after a pause: the gap is not a window). */
  reset(): void {
    this.#head = 0;
    this.#size = 0;
  }

  /**
   * Replace the record's cpuPercent by Δcpu/Δt since the newest earlier record at least a window
   * old (or the oldest one held while the window fills). `offsetUs` is CPU to leave out (a tree's
   * members' CPU from before they were adopted). The first record keeps the probe's own figure.
   */
  apply(rec: Float64Array, base: number, offsetUs: number): void {
    const ts = rec[base + R.ROW + F.timestamp]!;
    const cpu = rec[base + R.ROW + F.cpuUserUs]! + rec[base + R.ROW + F.cpuSystemUs]! - offsetUs;
    if (Number.isNaN(ts) || Number.isNaN(cpu)) return;
    const cap = this.#ts.length;
    if (this.#size === cap) {
      this.#head = (this.#head + 1) % cap;
      this.#size--;
    }
    const tail = (this.#head + this.#size) % cap;
    this.#ts[tail] = ts;
    this.#cpu[tail] = cpu;
    this.#size++;
    // Drop the oldest while the next one is still at least a window old: it becomes the anchor.
    while (this.#size > 2 && ts - this.#ts[(this.#head + 1) % cap]! >= this.#windowMs) {
      this.#head = (this.#head + 1) % cap;
      this.#size--;
    }
    if (this.#size < 2) return;
    const dt = (ts - this.#ts[this.#head]!) * 1e3;
    if (dt > 0) rec[base + R.ROW + F.cpuPercent] = Math.max(0, cpuPercent(cpu - this.#cpu[this.#head]!, dt));
  }
}
