/**
 * Is startup getting slower? A one-sided Mann–Whitney U test (exact when it can be, normal
 * approximation otherwise) and the trend rule built on it. Pure and synchronous.
 */
import type { Trend } from './types.js';
import { quantile, sortedWithoutNaN } from './stats.js';
import { checkOneOf } from '../validate.js';

/** The last this-many values are "recent" (R): about a working week of daily starts. */
export const TREND_RECENT = 10;
/** Up to this many values before R form the baseline (B): enough for a stable median and MAD. */
export const TREND_BASELINE_MAX = 30;
/** Fewer baseline values than this: the baseline median and MAD are too noisy to compare against. */
export const TREND_MIN_BASELINE = 10;
/** Fewer recent values than this: one or two odd starts would decide the verdict. */
export const TREND_MIN_RECENT = 5;
/** Significance level of the one-sided test: strict, since a false "degrading" costs attention. */
export const TREND_ALPHA = 0.01;
/** The smallest relative change reported, whatever the noise: 5 % is below what anyone acts on. */
export const TREND_MIN_GATE = 0.05;
/** MAD × 1.4826 estimates the standard deviation of normal data. */
const MAD_TO_SIGMA = 1.4826;
/** Above this n1·n2 the exact null distribution costs too much; the normal approximation is good. */
export const MANN_WHITNEY_EXACT_MAX_PRODUCT = 10_000;

export type Alternative = 'greater' | 'less';

export interface MannWhitneyResult {
  /** U of x: pairs (x_i, y_j) with x_i > y_j, plus half the tied pairs. */
  u: number;
  /** One-sided p-value for the alternative asked. */
  p: number;
  /** Whether p comes from the exact null distribution (else: normal approximation). */
  exact: boolean;
  n1: number;
  n2: number;
}

/**
 * One-sided Mann–Whitney U (Wilcoxon rank-sum) test. NaN values are dropped.
 *
 * `alternative: 'greater'` tests "x tends to be greater than y" (p = P(U ≥ u) under H0);
 * `'less'` tests "x tends to be less than y" (p = P(U ≤ u)).
 *
 * Method `'auto'` uses the exact null distribution (counted by dynamic programming, see
 * exactLowerTail) when there are no ties and n1·n2 ≤ 10 000, else the normal approximation with
 * tie-corrected variance
 * n1·n2/12 · ((n+1) − Σ(t³−t)/(n(n−1))) and a continuity correction of 0.5. `'exact'` forces the
 * exact distribution (ties are then ignored: only valid without ties), `'normal'` the approximation.
 *
 * @param x first sample, any unit (the same as y)
 * @param y second sample
 * @param alternative 'greater' or 'less' (x relative to y)
 * @param method 'auto' (default), 'exact' or 'normal'
 * @returns U of x and the one-sided p-value (NaN when either sample is empty); time O(n log n),
 *   plus for the exact distribution min(n1,n2) · (tail length ≤ n1·n2/2) steps (≤ 5·10⁵)
 * @throws InvalidOptionError for an unknown alternative or method
 */
export function mannWhitney(
  x: ArrayLike<number>,
  y: ArrayLike<number>,
  alternative: Alternative,
  method: 'auto' | 'exact' | 'normal' = 'auto',
): MannWhitneyResult {
  checkOneOf('alternative', alternative, ['greater', 'less'] as const);
  checkOneOf('method', method, ['auto', 'exact', 'normal'] as const);
  const xs = sortedWithoutNaN(x);
  const ys = sortedWithoutNaN(y);
  const n1 = xs.length;
  const n2 = ys.length;
  if (n1 === 0 || n2 === 0) return { u: NaN, p: NaN, exact: false, n1, n2 };

  // Merge the two sorted samples: U of x and the tie term Σ(t³ − t) in one pass.
  let u = 0;
  let tieTerm = 0;
  let i = 0;
  let j = 0;
  while (i < n1 || j < n2) {
    const v = Math.min(i < n1 ? (xs[i] as number) : Infinity, j < n2 ? (ys[j] as number) : Infinity);
    let cx = 0;
    let cy = 0;
    while (i < n1 && xs[i] === v) (i++, cx++);
    while (j < n2 && ys[j] === v) (j++, cy++);
    if (cx === 0 && cy === 0) break; // unreachable (no NaN left): guards against an endless loop
    u += cx * (j - cy) + 0.5 * cx * cy; // x's at v beat the y's below v, tie with those at v
    const t = cx + cy;
    if (t > 1) tieTerm += t * t * t - t;
  }

  const product = n1 * n2;
  const exact = method === 'exact' || (method === 'auto' && tieTerm === 0 && product <= MANN_WHITNEY_EXACT_MAX_PRODUCT);
  let p: number;
  if (exact) {
    const ui = Math.round(u);
    // P(U ≥ u) = P(U ≤ n1n2 − u) by symmetry.
    p = exactLowerTail(n1, n2, alternative === 'less' ? ui : product - ui);
  } else {
    const n = n1 + n2;
    const variance = (product / 12) * (n + 1 - tieTerm / (n * (n - 1)));
    if (!(variance > 0)) {
      p = 1; // every value equal: no evidence either way
    } else {
      const sd = Math.sqrt(variance);
      const mean = product / 2;
      p = alternative === 'greater' ? normalUpper((u - mean - 0.5) / sd) : normalUpper((mean - u - 0.5) / sd);
    }
  }
  return { u, p: Math.min(1, Math.max(0, p)), exact, n1, n2 };
}

/**
 * p-value of the one-sided Mann–Whitney test of "x tends to be greater than y" (see
 * {@link mannWhitney}, method 'auto').
 *
 * @param x first sample, any unit; NaN dropped
 * @param y second sample, same unit
 * @returns p, 0 to 1; NaN when either sample is empty
 */
export function mannWhitneyGreater(x: ArrayLike<number>, y: ArrayLike<number>): number {
  return mannWhitney(x, y, 'greater').p;
}

/**
 * p-value of the one-sided Mann–Whitney test of "x tends to be less than y" (the mirror of
 * {@link mannWhitneyGreater}).
 *
 * @param x first sample, any unit; NaN dropped
 * @param y second sample, same unit
 * @returns p, 0 to 1; NaN when either sample is empty
 */
export function mannWhitneyLess(x: ArrayLike<number>, y: ArrayLike<number>): number {
  return mannWhitney(x, y, 'less').p;
}

/**
 * P(U ≤ k) under H0 for sample sizes n1, n2, without ties. The number of orderings with U = u is
 * the coefficient of q^u in the Gaussian binomial [n1+n2 choose m]_q = ∏_{i=1..m} (1 − q^(M+i)) /
 * (1 − q^i), m = min(n1, n2), M = max(n1, n2). The product is built in place, truncated after q^k
 * (Harding 1984, Appl. Stat. 33:1): O(m·k) time, O(k) memory. In doubles: counts up to
 * C(200,100) ≈ 9·10⁵⁸ fit, and against an additions-only knapsack count the lower half agreed to
 * 10⁻¹⁴ relative for every n1·n2 ≤ 10 000 shape tried (1×10000 to 100×100). Also used for the
 * exact confidence interval of a shift (analysis/shift.ts).
 */
export function exactLowerTail(n1: number, n2: number, k: number): number {
  const total = n1 * n2;
  if (k < 0) return 0;
  if (k >= total) return 1;
  // Count the shorter tail: P(U ≤ k) = 1 − P(U ≤ total − k − 1) by symmetry.
  if (k > total / 2) return 1 - exactLowerTail(n1, n2, total - k - 1);
  const m = Math.min(n1, n2);
  const big = Math.max(n1, n2);
  const c = new Float64Array(k + 1);
  c[0] = 1;
  for (let i = 1; i <= m; i++) {
    const s = big + i;
    for (let u = k; u >= s; u--) c[u] = (c[u] as number) - (c[u - s] as number); // × (1 − q^s)
    for (let u = i; u <= k; u++) c[u] = (c[u] as number) + (c[u - i] as number); // ÷ (1 − q^i)
  }
  let count = 0;
  for (let u = 0; u <= k; u++) count += c[u] as number;
  let orderings = 1; // C(n1 + n2, m)
  for (let r = 1; r <= m; r++) orderings = (orderings * (big + r)) / r;
  return count / orderings;
}

/** Upper tail of the standard normal, 1 − Φ(z). */
export function normalUpper(z: number): number {
  return 0.5 * erfc(z / Math.SQRT2);
}

/**
 * Complementary error function, Chebyshev fit from Numerical Recipes (erfcc): fractional error
 * below 1.2·10⁻⁷ everywhere, which is plenty for p-values.
 */
function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z - 1.26551223 +
        t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 +
        t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}

/**
 * The trend of a series of durations, by this rule. Over the values in chronological order (NaN
 * dropped): R = the last 10, B = up to 30 values just before R. With fewer than 10 in B or 5 in R
 * the verdict is 'insufficient_data' and delta, gate and p are NaN: since R takes the last 10
 * first, that is any series of fewer than 20 values (the 5-in-R limit cannot bind).
 * Otherwise Δ = median(R)/median(B) − 1, the gate g = max(0.05, 2 · 1.4826 · MAD(B)/median(B)/√|R|)
 * (twice the robust standard error of a mean of |R| values, relative to median(B)), p = the one-sided
 * Mann–Whitney p-value of R against B in the direction of median(R) − median(B) ('greater' when
 * equal). Verdict: 'degrading' when Δ > g and p < 0.01 (R greater), 'improving' when Δ < −g and
 * p < 0.01 (R less), else 'stable'. When median(B) is 0 the relative change is undefined: Δ and g
 * are NaN and the verdict 'stable'.
 *
 * @param durationsChronological durations (ms) of successful runs, oldest first
 * @returns the verdict with Δ and g as fractions (0.3 = +30 %), p, and the sizes of R and B
 */
export function trend(durationsChronological: ArrayLike<number>): Trend {
  const values = new Float64Array(durationsChronological.length);
  let n = 0;
  for (let i = 0; i < durationsChronological.length; i++) {
    const v = durationsChronological[i] as number;
    if (!Number.isNaN(v)) values[n++] = v;
  }
  const recentCount = Math.min(TREND_RECENT, n);
  const baselineCount = Math.min(TREND_BASELINE_MAX, n - recentCount);
  if (baselineCount < TREND_MIN_BASELINE || recentCount < TREND_MIN_RECENT) {
    return { verdict: 'insufficient_data', delta: NaN, gate: NaN, p: NaN, recentCount, baselineCount };
  }
  const recent = values.subarray(n - recentCount, n);
  const baseline = values.subarray(n - recentCount - baselineCount, n - recentCount);

  const r = sortedWithoutNaN(recent);
  const b = sortedWithoutNaN(baseline);
  const medR = quantile(r, 0.5);
  const medB = quantile(b, 0.5);
  const dev = new Float64Array(b.length);
  for (let i = 0; i < b.length; i++) dev[i] = Math.abs((b[i] as number) - medB);
  const madB = quantile(dev.sort(), 0.5);

  const direction: Alternative = medR < medB ? 'less' : 'greater';
  const p = mannWhitney(r, b, direction).p;
  const defined = medB !== 0 && Number.isFinite(medB) && Number.isFinite(medR);
  const delta = defined ? medR / medB - 1 : NaN;
  const gate = defined
    ? Math.max(TREND_MIN_GATE, (2 * MAD_TO_SIGMA * madB) / Math.abs(medB) / Math.sqrt(recentCount))
    : NaN;
  let verdict: Trend['verdict'] = 'stable';
  if (delta > gate && direction === 'greater' && p < TREND_ALPHA) verdict = 'degrading';
  else if (delta < -gate && direction === 'less' && p < TREND_ALPHA) verdict = 'improving';
  return { verdict, delta, gate, p, recentCount, baselineCount };
}
