/**
 * The session vocabulary: what a session is made of, produced here (timings, resource deltas,
 * samples), stored by history, read by analysis, export, report and the CLI. Every room below
 * imports these from here; plain data only (structured-clone and msgpack friendly).
 */
import type { TreeProcess } from '../sampler/processes.js';
import type { NodeProfile } from '../node-hooks/types.js';
import type { CgroupCounters } from '../cgroup/tree-cgroup.js';
import { StartupPhase } from './constants.js';

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
  /**
   * Levels at the first record and at the last one with RSS above 0: a process torn down (RSS 0,
   * its files closed) is not its end state. rssDeltaBytes = rssEndBytes - rssStartBytes.
   */
  rssStartBytes: number;
  rssEndBytes: number;
  rssPeakBytes: number;
  rssDeltaBytes: number;
  /**
   * The largest PSS read in the interval (a tree: the sum over its members, where rssPeakBytes
   * sums RSS and so counts a page shared by N processes N times). Read every pssIntervalMs, so
   * it may miss a peak between two readings; NaN when none was read; absent in sessions saved
   * before procprobe read PSS.
   */
  pssPeakBytes?: number;
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
  /**
   * Resource use over the timing; absent when no record covers it and no exact totals exist. With
   * exact totals alone (boundary reads, a child's wait4): `samples` 0 and every level NaN.
   */
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
  /** A tree's processes, every one it counted during the session (sampler/processes.ts); absent for one process. */
  processes?: TreeProcess[];
  /** Ended processes left out of `processes` beyond its bound. */
  processesDropped?: number;
  /** From inside the Node processes of a `procprobe run` (node-hooks/types.ts); absent without them. */
  node?: NodeProfile;
  /** What the sampler itself cost during the session (session/sampler-account.ts); absent when it never sampled. */
  sampler?: SamplerAccount;
  /** A `procprobe run` tree's exact counters and where each figure came from (session/tree-sources.ts); absent otherwise. */
  tree?: TreeAccount;
}

/**
 * Where one figure came from: `cgroup` (the tree's own cgroup: every descendant, exact),
 * `wait4` (the command's rusage: it and every descendant it waited for, exact for those) or
 * `samples` (read at the sampling rate: levels between two samples and processes that lived
 * between two are missed).
 */
export interface FigureSource {
  from: 'cgroup' | 'wait4' | 'samples';
  exact: boolean;
}

/** A tree session's exact counters beside its sampled resources, and the source of each figure. */
export interface TreeAccount {
  /** What the tree's cgroup counted (cgroup/tree-cgroup.ts); null where it had none. */
  cgroup: CgroupCounters | null;
  /**
   * cpu, page faults and context switches: the process_startup phase's cumulative figures (a
   * cgroup's CPU is in `cgroup.cpuUs`); memory and processes peaks: `cgroup` where it has them,
   * else the samples' rssPeakBytes and processes; rss and pss: always the samples.
   */
  sources: {
    cpu: FigureSource;
    pageFaults: FigureSource;
    contextSwitches: FigureSource;
    memoryPeak: FigureSource;
    processesPeak: FigureSource;
    rss: FigureSource;
    pss: FigureSource;
  };
}

/**
 * The sampler's own cost over a session: its worker thread's CPU (the kernel's per-thread
 * account), the rate it achieved and the deadlines it missed. Measured from the session start, or
 * from the sampler's first sample when its worker was still booting then (its boot is not
 * sampling), to its pause at the session end.
 */
export interface SamplerAccount {
  /** The sampler thread's CPU, ms; NaN where the OS does not say (Linux only). */
  cpuMs: number;
  /** The wall time that was measured over, ms. */
  wallMs: number;
  /** cpuMs over wallMs; 100 = one core. */
  corePercent: number;
  /** The interval asked for, ms, and the rate it means. */
  intervalMs: number;
  targetHz: number;
  /** Records written over wallMs, per second. */
  achievedHz: number;
  records: number;
  /** Deadlines passed by a whole interval, skipped, never made up. */
  missedDeadlines: number;
  /** missedDeadlines over (records + missedDeadlines), %. */
  missedPercent: number;
}

/** The samples of a session, in ring record layout (see RECORD): `count` records of `stride` doubles. */
export interface SessionSamples {
  records: Float64Array;
  stride: number;
  count: number;
  gaugeNames: string[];
}

/**
 * How many records a finished session's figures rest on, and how many its two ring readers (the
 * memory drain on the host thread, the history writer in its worker) missed: the ring overwrote
 * them before they were read. A record missed in memory only is still in the file, and the
 * session's figures are then recomputed from the file.
 */
export interface SampleAccount {
  /** Records held in memory (`session.samples`). */
  inMemory: number;
  /** Records memory did not get because the ring overwrote them first (the host thread was busy). */
  missedInMemory: number;
  /** Memory stopped keeping records at maxSessionSamples (all are in the file). */
  overflowed: boolean;
  /** Records in the history file; null when it was not written. */
  inFile: number | null;
  /** Records the history writer did not get because the ring overwrote them first: lost. */
  missedInFile: number | null;
  /** Size of the history file in bytes; null when it was not written. */
  fileBytes: number | null;
}

/** The phase that spans a whole startup (the seed's total_startup). */
export const TOTAL_STARTUP = StartupPhase.TOTAL_STARTUP;

/**
 * A session's startup time: its total_startup phase when it recorded one (the CLI's spawn to
 * healthy, or to the failure), else the session's whole span.
 */
export function totalStartupMs(s: Pick<SessionSummary, 'phases' | 'durationMs'>): number {
  return s.phases.find((p) => p.name === TOTAL_STARTUP)?.durationMs ?? s.durationMs;
}

/**
 * A phase's duration in one session: the sum of its successful timings of that name (a phase
 * timed twice counts both), NaN when it failed or never ran, which the statistics skip. The one
 * rule for the runs table, the baseline file and the regression gate.
 */
export function phaseDurationMs(s: Pick<SessionSummary, 'phases'>, name: string): number {
  let sum = 0;
  let found = false;
  for (const p of s.phases) {
    if (p.name !== name || !p.success) continue;
    sum += p.durationMs;
    found = true;
  }
  return found ? sum : NaN;
}
