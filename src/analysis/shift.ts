/**
 * How much slower (or faster) is sample x than sample y, with a confidence interval: the
 * Hodges–Lehmann estimate of the ratio and its exact distribution-free interval (the one that
 * goes with the Mann–Whitney test). Pure and synchronous; no copy of the n1·n2 pairs is made.
 *
 * Why on logarithms: startup times are skewed and a slowdown scales them (a 10 % slower build is
 * 10 % slower at 50 ms and at 500 ms), so the shift model "log x = log y + δ" fits better than a
 * shift in ms, and exp(δ) − 1 is the relative change a person reads.
 */
import { exactLowerTail, MANN_WHITNEY_EXACT_MAX_PRODUCT, normalUpper } from './trend.js';

export interface RatioEstimate {
  /** exp(median of log x_i − log y_j) − 1: the Hodges–Lehmann relative change (0.3 = +30 %). */
  change: number;
  /** The interval's bounds, as relative changes; −1 and +Infinity when the samples are too small to bound it. */
  low: number;
  high: number;
  /** Its two-sided coverage, e.g. 0.98. */
  level: number;
  n1: number;
  n2: number;
}

/** The values that are finite and above 0, as ascending logarithms. */
function sortedLogs(values: ArrayLike<number>): Float64Array {
  const out: number[] = [];
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    if (v > 0 && Number.isFinite(v)) out.push(Math.log(v));
  }
  return Float64Array.from(out).sort();
}

/** How many pairwise differences a_i − b_j are ≤ v (both ascending): two pointers, O(n1 + n2). */
function countAtMost(a: Float64Array, b: Float64Array, v: number): number {
  let count = 0;
  let firstAtLeast = 0;
  for (let i = 0; i < a.length; i++) {
    // a_i − b_j ≤ v  ⇔  b_j ≥ a_i − v; as a_i grows the threshold grows, so the index only moves up.
    const t = (a[i] as number) - v;
    while (firstAtLeast < b.length && (b[firstAtLeast] as number) < t) firstAtLeast++;
    count += b.length - firstAtLeast;
  }
  return count;
}

/**
 * The k-th smallest (1-based) of the n1·n2 differences a_i − b_j, by bisection on the value with
 * countAtMost: O((n1 + n2) · 64) whatever n1·n2 is, where sorting the pairs would need n1·n2
 * doubles (80 MB for two samples of 3 000). The loop stops when the midpoint is one of the
 * bounds: the bracket is two adjacent doubles and `hi` is the difference itself.
 */
function kthDifference(a: Float64Array, b: Float64Array, k: number): number {
  let lo = (a[0] as number) - (b[b.length - 1] as number); // the smallest difference: count ≥ 1
  let hi = (a[a.length - 1] as number) - (b[0] as number); // the largest: count = n1·n2
  if (countAtMost(a, b, lo) >= k) return lo;
  // Invariant: count(lo) < k ≤ count(hi).
  for (let iter = 0; iter < 2000; iter++) {
    const mid = lo + (hi - lo) / 2;
    if (mid === lo || mid === hi) break;
    if (countAtMost(a, b, mid) >= k) hi = mid;
    else lo = mid;
  }
  return hi;
}

/** z with 1 − Φ(z) = q (0 < q < 0.5), by bisection on normalUpper: 60 steps, far below its 1e-7 error. */
function normalQuantileUpper(q: number): number {
  let lo = 0;
  let hi = 40;
  for (let i = 0; i < 60; i++) {
    const mid = (lo + hi) / 2;
    if (normalUpper(mid) > q) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/**
 * The largest k with P(U ≤ k − 1) ≤ tail under H0: the interval is [D_(k), D_(N+1−k)]
 * (Lehmann, Nonparametrics, 1975, §2.6). Exact for n1·n2 ≤ 10 000 (as the test is), else
 * the normal approximation with a continuity correction. 0 when no k qualifies.
 */
function criticalRank(n1: number, n2: number, tail: number): number {
  const total = n1 * n2;
  if (total <= MANN_WHITNEY_EXACT_MAX_PRODUCT) {
    // P(U ≤ k − 1) grows with k: bisect for the last k that keeps it within `tail` (about 13
    // tail evaluations of O(min(n1, n2) · k) each, where walking k up one by one cost 10⁹ steps at 100 × 100).
    let lo = 0; // qualifies (P(U ≤ −1) = 0)
    let hi = Math.floor(total / 2) + 1; // never qualifies: the interval would be empty
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (exactLowerTail(n1, n2, mid - 1) <= tail) lo = mid;
      else hi = mid;
    }
    return lo;
  }
  const sd = Math.sqrt((total * (n1 + n2 + 1)) / 12);
  return Math.max(0, Math.floor(total / 2 - normalQuantileUpper(tail) * sd - 0.5) + 1);
}

/**
 * The relative change of x against y (durations, any unit, the same for both) and its two-sided
 * confidence interval at `level` (0.98 goes with a one-sided test at α = 0.01: the lower bound is
 * above 0 exactly when that test rejects, without ties). Values that are not finite and above 0
 * are dropped (a logarithm needs them).
 *
 * @returns NaN estimate and bounds when either sample is empty
 */
export function ratioEstimate(x: ArrayLike<number>, y: ArrayLike<number>, level: number): RatioEstimate {
  const a = sortedLogs(x);
  const b = sortedLogs(y);
  const n1 = a.length;
  const n2 = b.length;
  if (n1 === 0 || n2 === 0) return { change: NaN, low: NaN, high: NaN, level, n1, n2 };
  const total = n1 * n2;
  const hl = total % 2 === 1 ? kthDifference(a, b, (total + 1) / 2) : (kthDifference(a, b, total / 2) + kthDifference(a, b, total / 2 + 1)) / 2;
  const k = criticalRank(n1, n2, (1 - level) / 2);
  const low = k >= 1 ? Math.expm1(kthDifference(a, b, k)) : -1;
  const high = k >= 1 ? Math.expm1(kthDifference(a, b, total + 1 - k)) : Infinity;
  return { change: Math.expm1(hl), low, high, level, n1, n2 };
}

/**
 * The smallest one-sided p the exact Mann–Whitney test can give with samples of n1 and n2
 * values (all of one above all of the other): 1 / C(n1 + n2, n1). Above α, no result can pass
 * the test: with α = 0.01, 3 runs against 3 give at best 0.05, 5 against 5 give 0.004.
 */
export function smallestP(n1: number, n2: number): number {
  if (n1 === 0 || n2 === 0) return 1;
  return exactLowerTail(n1, n2, 0);
}
