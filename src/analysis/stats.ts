/**
 * Descriptive statistics for the analysis pool: pure, synchronous, no I/O. Every function skips
 * NaN inputs; each allocates at most one Float64Array copy of its input (sorting in place on it).
 */
import type { Distribution } from './types.js';
import { checkNumber } from '../validate.js';

/**
 * The values without NaN, ascending, in a new Float64Array (the one allocation of each function
 * here). ±Infinity is kept.
 *
 * @param values any unit; the result is in the same unit
 */
export function sortedWithoutNaN(values: ArrayLike<number>): Float64Array {
  let n = 0;
  for (let i = 0; i < values.length; i++) if (!Number.isNaN(values[i])) n++;
  const out = new Float64Array(n);
  let k = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    if (!Number.isNaN(v)) out[k++] = v;
  }
  return out.sort(); // typed-array sort is numeric
}

/**
 * The q-quantile of an ascending array, by linear interpolation between closest ranks
 * (Hyndman & Fan type 7, the default of R, NumPy and Excel's PERCENTILE.INC): with n values
 * x[0] <= ... <= x[n-1], h = (n - 1) * q, and the result is x[⌊h⌋] + (h − ⌊h⌋)(x[⌊h⌋+1] − x[⌊h⌋]).
 * So q = 0 is the minimum, q = 1 the maximum, q = 0.5 the median.
 *
 * @param sorted values in ascending order, without NaN (not checked: the caller sorted them)
 * @param q the probability, 0 to 1
 * @returns the quantile, in the values' unit; NaN when `sorted` is empty
 * @throws InvalidOptionError when q is not a number from 0 to 1
 */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  checkNumber('q', q, 0, 1);
  const n = sorted.length;
  if (n === 0) return NaN;
  const h = (n - 1) * q;
  const lo = Math.floor(h);
  const a = sorted[lo] as number;
  if (lo >= n - 1) return a;
  const frac = h - lo;
  return frac === 0 ? a : a + frac * ((sorted[lo + 1] as number) - a);
}

/**
 * The distribution of a sample: count, mean, median, p90 and p99 (type-7 quantiles, see
 * {@link quantile}), sample standard deviation (n − 1 denominator, two-pass), min and max.
 * NaN inputs are ignored. With no values: count 0 and NaN elsewhere; with one value, stddev is NaN.
 *
 * @param values the sample, in any unit (ms for durations); the result is in the same unit
 */
export function describe(values: ArrayLike<number>): Distribution {
  const s = sortedWithoutNaN(values);
  const n = s.length;
  if (n === 0) {
    return { count: 0, mean: NaN, median: NaN, p90: NaN, p99: NaN, stddev: NaN, min: NaN, max: NaN };
  }
  let sum = 0;
  for (let i = 0; i < n; i++) sum += s[i] as number;
  const mean = sum / n;
  // Two-pass (with the compensating second term) rather than Σx² − n·mean²: no cancellation.
  let ss = 0;
  let comp = 0;
  for (let i = 0; i < n; i++) {
    const d = (s[i] as number) - mean;
    ss += d * d;
    comp += d;
  }
  const stddev = n > 1 ? Math.sqrt((ss - (comp * comp) / n) / (n - 1)) : NaN;
  return {
    count: n,
    mean,
    median: quantile(s, 0.5),
    p90: quantile(s, 0.9),
    p99: quantile(s, 0.99),
    stddev,
    min: s[0] as number,
    max: s[n - 1] as number,
  };
}

/**
 * The median (type-7 0.5-quantile: the mean of the two middle values when the count is even).
 *
 * @param values the sample, any unit; NaN ignored
 * @returns the median in the same unit; NaN when there are no values
 */
export function median(values: ArrayLike<number>): number {
  return quantile(sortedWithoutNaN(values), 0.5);
}

/** median(|x − m|) over a sorted array whose median is m; reuses `scratch` (same length). */
function madOfSorted(sorted: Float64Array, m: number, scratch: Float64Array): number {
  for (let i = 0; i < sorted.length; i++) scratch[i] = Math.abs((sorted[i] as number) - m);
  scratch.sort();
  return quantile(scratch, 0.5);
}

/**
 * The raw median absolute deviation, median(|x − median(x)|), NOT scaled by 1.4826 (multiply by
 * 1.4826 for a consistent estimate of the standard deviation of normal data).
 *
 * @param values the sample, any unit; NaN ignored
 * @returns the MAD in the same unit; NaN when there are no values
 */
export function mad(values: ArrayLike<number>): number {
  const s = sortedWithoutNaN(values);
  if (s.length === 0) return NaN;
  const m = quantile(s, 0.5);
  return madOfSorted(s, m, new Float64Array(s.length));
}

/**
 * Iglewicz–Hoaglin modified z-scores, 0.6745 · (x − median) / MAD, for flagging outliers
 * (|z| > 3.5 is their suggested cut). The scores are unitless.
 *
 * @param values the sample, any unit
 * @returns one score per input, in input order: NaN for a NaN input; all zeros (NaN inputs
 *   still NaN) when the MAD is 0, i.e. when more than half the values are equal
 */
export function modifiedZScores(values: ArrayLike<number>): number[] {
  const out = new Array<number>(values.length);
  const s = sortedWithoutNaN(values);
  if (s.length === 0) return out.fill(NaN);
  const m = quantile(s, 0.5);
  const d = madOfSorted(s, m, new Float64Array(s.length));
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    out[i] = Number.isNaN(v) ? NaN : d === 0 ? 0 : (0.6745 * (v - m)) / d;
  }
  return out;
}
