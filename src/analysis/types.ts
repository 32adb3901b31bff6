/**
 * The data analysis works on: what a finished (or recovered) session leaves in the history index.
 * Plain data only (structured-clone and msgpack friendly): it crosses into the piscina pool.
 */

/** Resource use over one interval (a phase, or a whole session), from ring records. */
export interface ResourceDelta {
  /** Timestamps (ms since epoch) of the records bounding the interval. */
  fromTimestamp: number;
  toTimestamp: number;
  /** Records inside the interval. */
  samples: number;
  /** CPU time used in the interval, ms (user + system). */
  cpuMs: number;
  /** cpuMs over the interval's wall time; 100 = one core. */
  cpuPercent: number;
  rssStartBytes: number;
  rssEndBytes: number;
  rssPeakBytes: number;
  rssDeltaBytes: number;
  fdsStart: number;
  fdsEnd: number;
  fdsPeak: number;
  threadsStart: number;
  threadsEnd: number;
  threadsPeak: number;
  /** Deltas over the interval. */
  voluntaryContextSwitches: number;
  involuntaryContextSwitches: number;
  minorPageFaults: number;
  majorPageFaults: number;
}

/** One finished timing of a session. */
export interface PhaseSummary {
  /** The phase or operation name (a StartupPhase value or the user's own). */
  name: string;
  /** ms from the session start to the timing start. */
  startOffsetMs: number;
  durationMs: number;
  success: boolean;
  errorMessage?: string;
  /** Resource use over the timing; absent when no record covers it. */
  resources?: ResourceDelta;
}

export interface SessionError {
  timestamp: number;
  message: string;
  operation?: string;
}

/** What the history index keeps of one session. */
export interface SessionSummary {
  id: string;
  /** ms since epoch. */
  startTime: number;
  endTime: number;
  durationMs: number;
  success: boolean;
  /** The process died before finishSession: what was written is kept. */
  incomplete: boolean;
  metadata: Record<string, unknown>;
  phases: PhaseSummary[];
  errors: SessionError[];
  /** Over the whole session; absent when there were no samples. */
  resources?: ResourceDelta;
}

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
  | 'degrading_trend';

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
