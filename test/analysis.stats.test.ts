/**
 * src/analysis/stats.ts against hand-computed values and against naive reference implementations
 * (comparator sort + closest-rank interpolation, two-pass variance) on seeded random samples.
 */
import { describe as suite, expect, it } from 'vitest';
import { mulberry32 } from './helpers/prng.mjs';
import { InvalidOptionError } from '../dist/errors.js';
import { describe, mad, median, modifiedZScores, quantile } from '../dist/analysis/stats.js';


/** Naive type-7 percentile: position q·(n−1) in the sorted array, linear between neighbours. */
function naivePercentile(values: number[], q: number): number {
  const s = [...values].sort((a, b) => a - b);
  const pos = q * (s.length - 1);
  const lo = s[Math.floor(pos)]!;
  const hi = s[Math.ceil(pos)]!;
  return lo + (hi - lo) * (pos - Math.floor(pos));
}

function naiveStddev(values: number[]): number {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  return Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (values.length - 1));
}

suite('describe', () => {
  it('matches hand-computed values on 1..10', () => {
    const d = describe([7, 3, 10, 1, 5, 2, 9, 4, 8, 6]);
    expect(d.count).toBe(10);
    expect(d.mean).toBe(5.5);
    expect(d.median).toBe(5.5);
    expect(d.p90).toBeCloseTo(9.1, 12); // pos 8.1: 9 + 0.1·(10 − 9)
    expect(d.p99).toBeCloseTo(9.91, 12); // pos 8.91
    expect(d.stddev).toBeCloseTo(Math.sqrt(82.5 / 9), 12); // Σ(x − 5.5)² = 82.5
    expect(d.min).toBe(1);
    expect(d.max).toBe(10);
  });

  it('matches hand-computed values on a small odd-sized array', () => {
    const d = describe([120, 80, 100]);
    expect(d).toMatchObject({ count: 3, mean: 100, median: 100, min: 80, max: 120, stddev: 20 });
    expect(d.p90).toBeCloseTo(116, 12); // pos 1.8: 100 + 0.8·20
    expect(d.p99).toBeCloseTo(119.6, 12);
  });

  it('agrees with naive percentiles and a two-pass stddev on seeded random samples', () => {
    const rand = mulberry32(42);
    for (let trial = 0; trial < 50; trial++) {
      const n = 2 + Math.floor(rand() * 200);
      const values = Array.from({ length: n }, () => Math.round(rand() * 1e4) / 10);
      const d = describe(values);
      expect(d.count).toBe(n);
      expect(d.median).toBeCloseTo(naivePercentile(values, 0.5), 9);
      expect(d.p90).toBeCloseTo(naivePercentile(values, 0.9), 9);
      expect(d.p99).toBeCloseTo(naivePercentile(values, 0.99), 9);
      expect(d.stddev).toBeCloseTo(naiveStddev(values), 9);
      expect(d.mean).toBeCloseTo(values.reduce((a, b) => a + b, 0) / n, 9);
      expect(d.min).toBe(Math.min(...values));
      expect(d.max).toBe(Math.max(...values));
    }
  });

  it('keeps precision for large values with small spread (no Σx² cancellation)', () => {
    const d = describe([1e9 + 1, 1e9 + 2, 1e9 + 3]);
    expect(d.stddev).toBeCloseTo(1, 9);
  });

  it('ignores NaN inputs', () => {
    expect(describe([3, NaN, 1, NaN, 2])).toEqual(describe([1, 2, 3]));
  });

  it('returns count 0 and NaN elsewhere for empty or all-NaN input', () => {
    for (const input of [[], [NaN, NaN]]) {
      const d = describe(input);
      expect(d.count).toBe(0);
      for (const k of ['mean', 'median', 'p90', 'p99', 'stddev', 'min', 'max'] as const) expect(d[k]).toBeNaN();
    }
  });

  it('has NaN stddev for a single value (n − 1 = 0) and that value elsewhere', () => {
    const d = describe([42]);
    expect(d).toMatchObject({ count: 1, mean: 42, median: 42, p90: 42, p99: 42, min: 42, max: 42 });
    expect(d.stddev).toBeNaN();
  });

  it('does not modify its input', () => {
    const values = [3, 1, 2];
    describe(values);
    expect(values).toEqual([3, 1, 2]);
  });
});

suite('quantile', () => {
  it('interpolates linearly between closest ranks', () => {
    const s = [10, 20, 30, 40];
    expect(quantile(s, 0)).toBe(10);
    expect(quantile(s, 1)).toBe(40);
    expect(quantile(s, 0.5)).toBe(25);
    expect(quantile(s, 0.25)).toBeCloseTo(17.5, 12); // pos 0.75
    expect(quantile([], 0.5)).toBeNaN();
    expect(quantile([5], 0.99)).toBe(5);
  });

  it('rejects q outside 0..1 with InvalidOptionError', () => {
    for (const q of [-0.1, 1.5, NaN]) {
      let caught: unknown;
      try {
        quantile([1, 2], q);
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(InvalidOptionError);
      expect((caught as InvalidOptionError).option).toBe('q');
    }
  });
});

suite('median, mad, modifiedZScores', () => {
  it('median: middle value, mean of the middle two, NaN ignored, NaN when empty', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([NaN, 7])).toBe(7);
    expect(median([])).toBeNaN();
  });

  it('mad is the raw median absolute deviation (classic example: 1 for 1,1,2,2,4,6,9)', () => {
    expect(mad([1, 1, 2, 2, 4, 6, 9])).toBe(1); // |x − 2| = 1,1,0,0,2,4,7 → median 1
    expect(mad([1, 2, 3, 4])).toBe(1); // median 2.5, |x − m| = 1.5,0.5,0.5,1.5 → 1
    expect(mad([5, 5, 5])).toBe(0);
    expect(mad([])).toBeNaN();
  });

  it('modifiedZScores: 0.6745·(x − median)/MAD in input order, NaN kept', () => {
    const z = modifiedZScores([9, 1, 1, 2, NaN, 2, 4, 6]);
    expect(z[0]).toBeCloseTo(0.6745 * 7, 12);
    expect(z[1]).toBeCloseTo(-0.6745, 12);
    expect(z[3]).toBe(0);
    expect(z[4]).toBeNaN();
    expect(z[6]).toBeCloseTo(0.6745 * 2, 12);
    expect(z).toHaveLength(8);
  });

  it('modifiedZScores: all zeros when MAD is 0', () => {
    expect(modifiedZScores([3, 3, 3, 3, 100])).toEqual([0, 0, 0, 0, 0]);
    expect(modifiedZScores([])).toEqual([]);
  });
});
