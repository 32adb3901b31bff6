/**
 * What analysis produces: trends, distributions, per-phase stats, suggestions. What it works on,
 * the sessions' summaries, is the session room's vocabulary (src/session/types.ts).
 * Plain data only (structured-clone and msgpack friendly): it crosses into the piscina pool.
 */

export type TrendVerdict = 'improving' | 'degrading' | 'stable' | 'insufficient_data';

export interface Trend {
  verdict: TrendVerdict;
  /** median(recent) / median(baseline) - 1; NaN when insufficient data. */
  delta: number;
  /** The gate |delta| must pass: max(5 %, 2 * 1.4826 * MAD(B) / median(B) / sqrt(|R|)). */
  gate: number;
  /** One-sided Mann-Whitney U p-value in the direction of delta; NaN when insufficient data. */
  p: number;
  recentCount: number;
  baselineCount: number;
}

export interface Distribution {
  count: number;
  mean: number;
  median: number;
  p90: number;
  p99: number;
  stddev: number;
  min: number;
  max: number;
}

export interface PhaseStats {
  name: string;
  durations: Distribution;
  /** Fraction of this phase's timings that succeeded. */
  successRate: number;
  /** Peak of each resource over the phase across sessions (NaN when never measured). */
  peakRssBytes: number;
  peakCpuPercent: number;
  peakOpenFds: number;
  peakThreads: number;
  /** Mean CPU % over the phase across sessions. */
  meanCpuPercent: number;
  trend: Trend;
}

export type SuggestionKind =
  | 'dominant_phase'
  | 'cpu_bound_phase'
  | 'waiting_phase'
  | 'rss_growth'
  | 'cpu_contention'
  | 'fd_leak'
  | 'degrading_trend'
  | 'slow_package'
  | 'slow_module'
  | 'sync_require_tree'
  | 'startup_gc'
  | 'loop_blocked_before_listen'
  | 'slow_node_bootstrap';

export interface Suggestion {
  kind: SuggestionKind;
  /** The phase it concerns, if any. */
  phase?: string;
  /** One or two sentences a person can act on. */
  message: string;
  /** The numbers that triggered it. */
  evidence: Record<string, number | string>;
}

/** getPerformanceStats' answer. */
export interface PerformanceStats {
  days: number;
  /** Sessions considered (finished or incomplete, started within `days`). */
  sessionCount: number;
  successCount: number;
  incompleteCount: number;
  successRate: number;
  /** Session duration, successful sessions (the total startup). */
  totalStartup: Distribution;
  totalTrend: Trend;
  /** By phase name, in order of first appearance. */
  phases: PhaseStats[];
  /** Count of errors by operation ('(none)' when recorded without one). */
  errorsByOperation: Record<string, number>;
  suggestions: Suggestion[];
}
