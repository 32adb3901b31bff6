/**
 * The regression gate: is a phase slower now than in the baseline, by more than a threshold and
 * beyond noise? Pure and synchronous (the CLI's `run --baseline` calls it on the main thread:
 * a few dozen values per phase).
 *
 * Why this test: startup times are few (5 to 30 runs), skewed (a long right tail of slow starts)
 * and sometimes hit by one outlier (a page-cache miss). A t-test assumes normal means and one
 * outlier moves it; the Mann–Whitney U test uses ranks only, is exact for small samples (no
 * approximation at n = 5), and keeps its false-alarm rate at α whatever the distribution.
 */
import { describe, median } from './stats.js';
import type { Distribution } from './types.js';
import { mannWhitney } from './trend.js';
import { ratioEstimate, smallestP } from './shift.js';

export type GateVerdict = 'regression' | 'within_threshold' | 'not_significant' | 'improvement';

export interface GateOptions {
  /** A change above this fraction (0.05 = 5 %) can fail the gate. */
  maxRegression: number;
  /** Significance level of the one-sided test. */
  alpha: number;
}

export interface PhaseGate {
  phase: string;
  baselineCount: number;
  currentCount: number;
  baselineMedianMs: number;
  currentMedianMs: number;
  /** Hodges–Lehmann relative change now vs baseline (0.3 = +30 %), with its interval at ciLevel. */
  change: number;
  ciLow: number;
  ciHigh: number;
  /** 1 − 2α: the two-sided interval whose lower bound is above 0 when the one-sided test at α rejects. */
  ciLevel: number;
  /** One-sided Mann–Whitney p of "now is slower" (or "now is faster" for a change below 0). */
  p: number;
  /** The smallest p these run counts allow; above alpha, the gate cannot fail. */
  smallestP: number;
  verdict: GateVerdict;
}

/**
 * Compare one phase's durations (ms) now with the baseline's. A regression: change above
 * maxRegression and p of the one-sided test ("now is greater") below alpha. An improvement: the
 * mirror. Significant but within the threshold: 'within_threshold'. NaN values are dropped.
 */
export function gatePhase(phase: string, current: readonly number[], baseline: readonly number[], o: GateOptions): PhaseGate {
  const est = ratioEstimate(current, baseline, 1 - 2 * o.alpha);
  const slower = !(est.change < 0);
  const p = mannWhitney(current, baseline, slower ? 'greater' : 'less').p;
  const significant = p < o.alpha;
  let verdict: GateVerdict = 'not_significant';
  if (significant && slower) verdict = est.change > o.maxRegression ? 'regression' : 'within_threshold';
  else if (significant) verdict = est.change < -o.maxRegression ? 'improvement' : 'within_threshold';
  return {
    phase,
    baselineCount: est.n2,
    currentCount: est.n1,
    baselineMedianMs: median(baseline),
    currentMedianMs: median(current),
    change: est.change,
    ciLow: est.low,
    ciHigh: est.high,
    ciLevel: est.level,
    p,
    smallestP: smallestP(est.n1, est.n2),
    verdict,
  };
}

/** One command's durations of a phase in `compare`, and how they stand against the first command's. */
export interface CommandPhase {
  name: string;
  durations: Distribution;
  /** null for the first command (the reference); change + 1 is the ratio, `verdict` at threshold 0. */
  vsFirst: PhaseGate | null;
}

/**
 * `compare`'s figures for one phase: each command's distribution and, for every command after
 * the first, the ratio of its durations to the first's with its 1 − 2α interval and p (the gate
 * with no threshold: `regression` means significantly slower, `improvement` faster).
 */
export function compareToFirst(phase: string, perCommand: readonly { name: string; values: readonly number[] }[], alpha: number): CommandPhase[] {
  const first = perCommand[0]?.values ?? [];
  return perCommand.map((c, i) => ({
    name: c.name,
    durations: describe(c.values),
    vsFirst: i === 0 ? null : gatePhase(phase, c.values, first, { maxRegression: 0, alpha }),
  }));
}
