/**
 * Statistics of a series of runs of one command (`procprobe run --runs N`): per phase, the
 * distribution of its durations and which runs stand out. Shared by the terminal report, --json
 * and the HTML series page.
 */
import { phaseNames } from '../session/phase-tree.js';
import { phaseDurationMs, type SessionSummary } from '../session/types.js';
import { describe as distribution, median, modifiedZScores } from './stats.js';
import type { Distribution } from './types.js';

/** Modified z-score beyond which a run is an outlier (Iglewicz and Hoaglin's 3.5). */
export const OUTLIER_Z = 3.5;
/** ...and only when it is this far from the median, in ms. */
export const OUTLIER_MIN_MS = 1;

export interface PhaseRunStats {
  name: string;
  durations: Distribution;
  /** 1-based run numbers whose duration is an outlier (modified z-score > 3.5, ≥ 1 ms from the median). */
  outliers: number[];
}

/** Per-phase statistics over several runs (failed timings left out). */
export function runStatistics(runs: readonly SessionSummary[]): PhaseRunStats[] {
  return phaseNames(runs).map((name) => {
    // A run where this phase failed or did not happen contributes NaN, which the statistics skip.
    const values = runs.map((s) => phaseDurationMs(s, name));
    const z = modifiedZScores(values);
    const mid = median(values);
    // A flag worth a look: far out by the robust z-score and by at least OUTLIER_MIN_MS (a 0.3 ms
    // phase is "3.5 MADs" out by a few µs of jitter).
    const outliers = z.flatMap((v, i) => (Math.abs(v) > OUTLIER_Z && Math.abs(values[i]! - mid) >= OUTLIER_MIN_MS ? [i + 1] : []));
    return { name, durations: distribution(values), outliers };
  });
}
