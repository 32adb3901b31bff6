/**
 * What the children a tree member waited for used, from two sources that each see part of it:
 *
 * - the kernel's reaped-children totals (/proc/PID/stat cutime, cstime, cminflt, cmajflt, or
 *   getrusage RUSAGE_CHILDREN for this process): every child it waited for, even one that lived
 *   1 ms and was never sampled, but in whole 10 ms ticks (user and system each truncated) and only
 *   once the child is reaped;
 * - the members that were its children, folded here when they exit: exact to their last sample,
 *   at once, but blind to children the tree never adopted.
 *
 * The estimate is the folded totals plus the largest excess the kernel ever showed over them
 * (`extra`). Both sources undercount, so the estimate never exceeds the truth; it only grows
 * (folded totals only grow, the excess is a running maximum), so a child's counters move into its
 * parent's without a dip; and nothing is counted twice.
 *
 * Indexes are the tree's cumulative fields: 0 CPU user µs, 1 CPU system µs, 2-3 context switches
 * (the kernel keeps none for reaped children), 4 minor and 5 major page faults.
 */
import { CHILDREN, CHILDREN_COUNT, ProbeStatus } from '../probe/layout.js';
import type { Probe } from '../probe/probe.js';

export const CUMULATIVE_COUNT = 6;

/** Where each of a probe's reaped-children totals (CHILDREN order) goes among the cumulative fields. */
const CHILD_SLOT = [
  [0, CHILDREN.cpuUserUs],
  [1, CHILDREN.cpuSystemUs],
  [4, CHILDREN.minorPageFaults],
  [5, CHILDREN.majorPageFaults],
] as const;

const scratch = new Float64Array(CHILDREN_COUNT);

export class ReapedTotals {
  /** The kernel's totals as last read (NaN: no source on this tier or platform). */
  readonly #kernel = new Float64Array(CUMULATIVE_COUNT).fill(NaN);
  /** Folded totals of the members that were its children. */
  readonly #folded = new Float64Array(CUMULATIVE_COUNT);
  /** Largest excess of the kernel's totals over the folded ones, ever. */
  readonly #extra = new Float64Array(CUMULATIVE_COUNT);

  /**
   * Read the kernel's totals from the member's probe (no syscall for another pid). They count only
   * once `settle` runs, after every child gone in the same tick was folded: the kernel may show a
   * reaped child that the tree has not folded yet, and that must not become excess.
   */
  observe(probe: Probe): void {
    if (probe.childrenInto(scratch) !== ProbeStatus.OK) return;
    for (const [k, c] of CHILD_SLOT) this.#kernel[k] = scratch[c]!;
  }

  /** A member that was its child exited: its totals (cumulative order) join the folded ones. */
  fold(totals: (k: number) => number): void {
    for (let k = 0; k < CUMULATIVE_COUNT; k++) this.#folded[k] = this.#folded[k]! + totals(k);
  }

  value(k: number): number {
    return this.#folded[k]! + this.#extra[k]!;
  }

  /** What the kernel counts beyond the folded members: children the tree never adopted. */
  unadopted(k: number): number {
    return this.#extra[k]!;
  }

  /** Start over from what the kernel shows now: no folded totals, the kernel's as the excess. */
  reset(): void {
    this.#folded.fill(0);
    for (let k = 0; k < CUMULATIVE_COUNT; k++) this.#extra[k] = Number.isNaN(this.#kernel[k]!) ? 0 : this.#kernel[k]!;
  }

  /** Take the kernel's excess over the folded totals into the estimate. */
  settle(): void {
    const over = (k: number) => (Number.isNaN(this.#kernel[k]!) ? 0 : this.#kernel[k]! - this.#folded[k]! - this.#extra[k]!);
    // Page faults are counts of the same events in both sources: field by field.
    for (const k of [4, 5]) if (over(k) > 0) this.#extra[k] = this.#extra[k]! + over(k);
    // CPU: the sources split the same time differently between user and system, so the excess
    // is taken on the total (a maximum per field would count the larger share of each) and the
    // growth shared between the fields where the kernel shows more.
    const grow = over(0) + over(1);
    if (grow <= 0) return;
    const [u, s] = [Math.max(0, over(0)), Math.max(0, over(1))];
    const userShare = u + s > 0 ? u / (u + s) : 0.5;
    this.#extra[0] = this.#extra[0]! + grow * userShare;
    this.#extra[1] = this.#extra[1]! + grow * (1 - userShare);
  }
}
