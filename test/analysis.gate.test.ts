/**
 * src/analysis/shift.ts and gate.ts against naive references written here: the Hodges–Lehmann
 * estimate as the median of every pairwise log-ratio (sorted with a comparator), the exact
 * interval's rank from the Mann–Whitney null distribution counted by enumerating every subset,
 * and the interval's coverage on seeded lognormal samples with a known true ratio.
 */
import { describe, expect, it } from 'vitest';
import { mulberry32 } from './helpers/prng.mjs';
import { ratioEstimate, smallestP } from '../dist/analysis/shift.js';
import { gatePhase } from '../dist/analysis/gate.js';

/** Every pairwise log-ratio log(x_i / y_j), ascending. */
function pairLogs(x: number[], y: number[]): number[] {
  return x.flatMap((a) => y.map((b) => Math.log(a) - Math.log(b))).sort((a, b) => a - b);
}

function naiveMedian(sorted: number[]): number {
  const n = sorted.length;
  return n % 2 ? sorted[(n - 1) / 2]! : (sorted[n / 2 - 1]! + sorted[n / 2]!) / 2;
}

/** P(U ≤ k) under H0 by enumerating which n1 of the n1 + n2 ranks are x's (small n only). */
function enumeratedCdf(n1: number, n2: number, k: number): number {
  const n = n1 + n2;
  let hits = 0;
  let total = 0;
  for (let mask = 0; mask < 1 << n; mask++) {
    let bits = 0;
    for (let i = 0; i < n; i++) if (mask & (1 << i)) bits++;
    if (bits !== n1) continue;
    total++;
    // U of x: pairs (x, y) with x's rank above y's.
    let u = 0;
    let ysBelow = 0;
    for (let i = 0; i < n; i++) {
      if (mask & (1 << i)) u += ysBelow;
      else ysBelow++;
    }
    if (u <= k) hits++;
  }
  return hits / total;
}

/** The interval's rank by the textbook rule: the largest k with P(U ≤ k − 1) ≤ tail. */
function naiveRank(n1: number, n2: number, tail: number): number {
  let k = 0;
  while (k < (n1 * n2) / 2 && enumeratedCdf(n1, n2, k) <= tail) k++;
  return k;
}

function lognormal(rand: () => number, n: number, median: number, sigma: number): number[] {
  return Array.from({ length: n }, () => {
    const z = Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand()); // Box–Muller
    return median * Math.exp(sigma * z);
  });
}

describe('ratioEstimate: Hodges–Lehmann ratio and its exact interval', () => {
  it('matches the naive estimate and interval on seeded samples of several sizes', () => {
    const rand = mulberry32(15);
    for (const [n1, n2] of [[5, 5], [6, 8], [7, 4], [8, 8], [3, 9]] as const) {
      const x = lognormal(rand, n1, 130, 0.2);
      const y = lognormal(rand, n2, 100, 0.2);
      const d = pairLogs(x, y);
      const r = ratioEstimate(x, y, 0.98);
      expect(r.change).toBeCloseTo(Math.expm1(naiveMedian(d)), 12);
      const k = naiveRank(n1, n2, 0.01);
      if (k === 0) {
        expect([r.low, r.high]).toEqual([-1, Infinity]);
      } else {
        expect(r.low).toBeCloseTo(Math.expm1(d[k - 1]!), 12);
        expect(r.high).toBeCloseTo(Math.expm1(d[d.length - k]!), 12);
      }
      expect([r.n1, r.n2, r.level]).toEqual([n1, n2, 0.98]);
    }
  });

  it('is unbounded when the samples are too small for the level (3 against 3 at 98 %)', () => {
    const r = ratioEstimate([200, 210, 220], [100, 105, 110], 0.98);
    expect(naiveRank(3, 3, 0.01)).toBe(0);
    expect(r.low).toBe(-1);
    expect(r.high).toBe(Infinity);
    expect(r.change).toBeCloseTo(Math.expm1(naiveMedian(pairLogs([200, 210, 220], [100, 105, 110]))), 12);
  });

  it('covers the true ratio in about 98 % of 400 seeded trials (lognormal, 8 against 8, true +25 %)', () => {
    const rand = mulberry32(2026);
    let covered = 0;
    const trials = 400;
    for (let t = 0; t < trials; t++) {
      const r = ratioEstimate(lognormal(rand, 8, 125, 0.3), lognormal(rand, 8, 100, 0.3), 0.98);
      if (r.low <= 0.25 && 0.25 <= r.high) covered++;
    }
    // Exact intervals are conservative (the discrete null distribution): coverage ≥ 98 % in
    // expectation; 400 trials put the binomial's 3-σ band at about ±2 %.
    expect(covered / trials).toBeGreaterThan(0.95);
  });

  it('drops values a logarithm cannot take, and gives NaN for an empty sample', () => {
    const r = ratioEstimate([NaN, 0, -1, 200, 200], [100, 100], 0.98);
    expect(r.n1).toBe(2);
    expect(r.change).toBeCloseTo(1, 12);
    expect(Number.isNaN(ratioEstimate([], [1], 0.98).change)).toBe(true);
  });

  it('smallestP is 1 / C(n1 + n2, n1)', () => {
    expect(smallestP(3, 3)).toBeCloseTo(1 / 20, 14);
    expect(smallestP(5, 5)).toBeCloseTo(1 / 252, 14);
    expect(smallestP(6, 8)).toBeCloseTo(1 / 3003, 14);
    expect(smallestP(0, 5)).toBe(1);
  });
});

describe('gatePhase: threshold AND significance', () => {
  const base = [100, 101, 102, 103, 104, 105];
  const o = { maxRegression: 0.05, alpha: 0.01 };

  it('a large, separated slowdown is a regression', () => {
    const g = gatePhase('total_startup', base.map((v) => v * 1.3), base, o);
    expect(g.verdict).toBe('regression');
    expect(g.p).toBeCloseTo(1 / 924, 10); // all 6 above all 6: the exact one-sided p, 1 / C(12, 6)
    expect(g.change).toBeGreaterThan(0.25);
    expect(g.ciLow).toBeGreaterThan(0); // 1 − 2α interval: above 0 exactly when the test rejects
  });

  it('a separated slowdown below the threshold is within it; above a larger threshold too', () => {
    expect(gatePhase('p', base.map((v) => v + 4.5), base, o).verdict).toBe('within_threshold'); // ≈ +4.4 %
    expect(gatePhase('p', base.map((v) => v * 1.3), base, { ...o, maxRegression: 0.5 }).verdict).toBe('within_threshold');
  });

  it('a large change that is not significant (interleaved samples) passes', () => {
    const noisy = [60, 200, 70, 190, 80, 180];
    const g = gatePhase('p', noisy.map((v) => v * 1.1), noisy, o);
    expect(g.verdict).toBe('not_significant');
    expect(g.p).toBeGreaterThan(0.01);
  });

  it('a separated speed-up is an improvement (and never fails the gate)', () => {
    const g = gatePhase('p', base.map((v) => v * 0.7), base, o);
    expect(g.verdict).toBe('improvement');
    expect(g.change).toBeLessThan(-0.25);
  });

  it('with 3 runs against 3 nothing can be significant at 0.01, and smallestP says so', () => {
    const g = gatePhase('p', [300, 310, 320], [100, 101, 102], o);
    expect(g.smallestP).toBeCloseTo(0.05, 12);
    expect(g.verdict).toBe('not_significant');
  });

  it('reports medians and counts of both samples, NaN (a failed run) left out', () => {
    const g = gatePhase('p', [NaN, 110, 120, 130], base, o);
    expect([g.currentCount, g.baselineCount, g.currentMedianMs, g.baselineMedianMs]).toEqual([3, 6, 120, 102.5]);
  });
});

describe('gatePhase on seeded samples: the issue\'s rates, without a machine\'s drift', () => {
  const o = { maxRegression: 0.05, alpha: 0.01 };
  const rate = (trials: number, now: (r: () => number) => number[], base: (r: () => number) => number[], seed: number): number => {
    const rand = mulberry32(seed);
    let hits = 0;
    for (let t = 0; t < trials; t++) if (gatePhase('p', now(rand), base(rand), o).verdict === 'regression') hits++;
    return hits / trials;
  };

  it('100 ms against 100 ms (lognormal, 10 % spread, 6 runs each): a regression in at most 1 % of 2000 trials', () => {
    const same = (r: () => number) => lognormal(r, 6, 100, 0.1);
    expect(rate(2000, same, same, 7)).toBeLessThanOrEqual(0.01);
  });

  it('140 ms against 100 ms (same spread): a regression in at least 99 % of 2000 trials', () => {
    expect(rate(2000, (r) => lognormal(r, 6, 140, 0.1), (r) => lognormal(r, 6, 100, 0.1), 8)).toBeGreaterThanOrEqual(0.99);
  });
});
