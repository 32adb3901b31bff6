/**
 * Point reduction for plotted series: min/max bucket decimation.
 *
 * Why min/max rather than LTTB: the exported series are resource counters (RSS, CPU %, fds,
 * threads, gauges) where the spike is the story (a peak RSS, a burst of fds). LTTB keeps the
 * points that best preserve the *shape* by triangle area and can drop the global min or max;
 * min/max buckets keep, by construction, every bucket's extremes, so the series' global extremes
 * (and its first and last points) are always kept, and the output is deterministic and O(n).
 */
import { InvalidOptionError } from '../errors.js';

/**
 * Check the `maxPoints` option: undefined (no decimation) or an integer >= 2.
 * @throws InvalidOptionError naming 'maxPoints'.
 */
export function checkMaxPoints(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !(Number.isInteger(value) || value === Infinity) || value < 2) {
    throw new InvalidOptionError('maxPoints', 'an integer >= 2', value);
  }
  return value === Infinity ? undefined : value;
}

/**
 * The sample indices to keep for one series, ascending, at most `maxPoints` of them.
 *
 * Only indices whose value is a number other than NaN take part (a NaN is a gap, never plotted).
 * The first and last such indices are always kept; the ones between are split into
 * `floor((maxPoints - 2) / 2)` buckets of (nearly) equal count, and each bucket keeps the index of
 * its minimum and of its maximum (one index when they coincide), in time order. With
 * `maxPoints === 3` the single interior slot goes to the point farthest from the mean of the
 * endpoints. Without `maxPoints`, or when the series already fits, every defined index is kept.
 *
 * @param count Number of samples.
 * @param valueAt The plotted value of sample `i`.
 * @param maxPoints Upper bound on the indices returned (>= 2), or undefined for no decimation.
 */
export function decimateIndices(count: number, valueAt: (i: number) => number, maxPoints?: number): number[] {
  const defined: number[] = [];
  for (let i = 0; i < count; i++) if (!Number.isNaN(valueAt(i))) defined.push(i);
  if (maxPoints === undefined || defined.length <= maxPoints) return defined;

  const first = defined[0]!;
  const last = defined[defined.length - 1]!;
  const interior = defined.slice(1, -1);
  const keep: number[] = [first];
  const buckets = Math.floor((maxPoints - 2) / 2);
  if (buckets === 0) {
    if (maxPoints >= 3 && interior.length > 0) {
      const mid = (valueAt(first) + valueAt(last)) / 2;
      let best = interior[0]!;
      for (const i of interior) if (Math.abs(valueAt(i) - mid) > Math.abs(valueAt(best) - mid)) best = i;
      keep.push(best);
    }
  } else {
    for (let b = 0; b < buckets; b++) {
      const from = Math.floor((b * interior.length) / buckets);
      const to = Math.floor(((b + 1) * interior.length) / buckets);
      if (to <= from) continue;
      let lo = interior[from]!;
      let hi = lo;
      for (let k = from + 1; k < to; k++) {
        const i = interior[k]!;
        if (valueAt(i) < valueAt(lo)) lo = i;
        if (valueAt(i) > valueAt(hi)) hi = i;
      }
      if (lo === hi) keep.push(lo);
      else keep.push(Math.min(lo, hi), Math.max(lo, hi));
    }
  }
  keep.push(last);
  return keep;
}
