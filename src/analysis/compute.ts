/**
 * getPerformanceStats' computation: the sessions of the last `days`, their distributions, trends,
 * per-phase resource figures and the suggestions. Pure and synchronous (runs in the piscina pool).
 */
import { totalStartupMs, type PhaseSummary, type SessionSummary } from '../session/types.js';
import type { PerformanceStats, PhaseStats } from './types.js';
import { describe } from './stats.js';
import { trend } from './trend.js';
import { suggest } from './suggest.js';
import { checkNumber, checkObject } from '../validate.js';

const DAY_MS = 86_400_000;

interface PhaseAcc {
  name: string;
  timings: number;
  successes: number;
  /** Durations (ms) of the successful timings, one per timing. */
  durations: number[];
  /** One value per session (ms): the sum of that session's timings of this phase. */
  perSession: number[];
  sessionSum: number;
  sessionAllOk: boolean;
  peakRss: number;
  peakCpu: number;
  peakFds: number;
  peakThreads: number;
  cpuSum: number;
  cpuCount: number;
}

const maxOf = (a: number, b: number) => (Number.isFinite(b) && !(b <= a) ? b : a);

/**
 * The performance stats of the sessions started within `days` before `now`, i.e. with
 * now − days·24 h ≤ startTime ≤ now (sessions started after `now` are left out).
 *
 * - sessionCount, successCount, incompleteCount; successRate = successes / sessions (NaN for none).
 * - totalStartup: describe() of each successful session's total_startup phase (its durationMs when
 *   it has none); totalTrend: trend() of the same, ordered by startTime.
 * - phases, in order of first appearance (sessions by startTime, each session's timings by
 *   startOffsetMs): durations = describe() of each successful timing's durationMs; successRate =
 *   successful timings / timings; peaks = max over every timing's resources (rssPeakBytes,
 *   cpuPercent, fdsPeak, threadsPeak; NaN when none has resources); meanCpuPercent = mean of the
 *   timings' cpuPercent; trend over one value per session, the sum of the session's timings of the
 *   phase, for sessions where all of them succeeded (a partial sum would look like a speed-up).
 * - errorsByOperation: session errors counted by operation, '(none)' when without one.
 * - suggestions: {@link suggest} over the stats and the sessions in the window.
 *
 * @param sessions history summaries, any order (times in ms since epoch, durations in ms)
 * @param opts.days the window, in days (> 0, fractional allowed)
 * @param opts.now the window's end, ms since epoch
 * @throws InvalidOptionError when days or now is not a finite number in range
 */
export function computeStats(sessions: readonly SessionSummary[], opts: { days: number; now: number }): PerformanceStats {
  checkObject('opts', opts);
  const days = checkNumber('days', opts.days, 0);
  const now = checkNumber('now', opts.now, 0);
  const from = now - days * DAY_MS;
  const window = sessions.filter((s) => s.startTime >= from && s.startTime <= now);
  window.sort((a, b) => a.startTime - b.startTime); // stable: equal start times keep input order

  let successCount = 0;
  let incompleteCount = 0;
  const totals: number[] = [];
  const phases = new Map<string, PhaseAcc>();
  const errors = new Map<string, number>();
  const touched: PhaseAcc[] = [];

  for (const s of window) {
    if (s.success) {
      successCount++;
      totals.push(totalStartupMs(s));
    }
    if (s.incomplete) incompleteCount++;
    for (const e of s.errors) {
      const op = e.operation ?? '(none)';
      errors.set(op, (errors.get(op) ?? 0) + 1);
    }

    addPhases(s, phases, touched);
  }

  const stats: Omit<PerformanceStats, 'suggestions'> = {
    days,
    sessionCount: window.length,
    successCount,
    incompleteCount,
    successRate: window.length > 0 ? successCount / window.length : NaN,
    totalStartup: describe(totals),
    totalTrend: trend(totals),
    phases: [...phases.values()].map(phaseStats),
    errorsByOperation: Object.fromEntries(errors),
  };
  return { ...stats, suggestions: suggest(stats, window) };
}

/**
 * One session's timings into the per-phase accumulators. `touched` (reused, no allocation per
 * session) collects the phases this session has, for its per-session sums: a phase timed twice in
 * one session counts once in its trend, with both durations.
 */
function addPhases(s: SessionSummary, phases: Map<string, PhaseAcc>, touched: PhaseAcc[]): void {
  touched.length = 0;
  for (const ph of byStartOffset(s.phases)) {
    let acc = phases.get(ph.name);
    if (!acc) phases.set(ph.name, (acc = newAcc(ph.name)));
    if (!touched.includes(acc)) {
      touched.push(acc);
      acc.sessionSum = 0;
      acc.sessionAllOk = true;
    }
    acc.timings++;
    if (ph.success) {
      acc.successes++;
      acc.durations.push(ph.durationMs);
      acc.sessionSum += ph.durationMs;
    } else {
      acc.sessionAllOk = false;
    }
    const r = ph.resources;
    if (r) {
      acc.peakRss = maxOf(acc.peakRss, r.rssPeakBytes);
      acc.peakCpu = maxOf(acc.peakCpu, r.cpuPercent);
      acc.peakFds = maxOf(acc.peakFds, r.fdsPeak);
      acc.peakThreads = maxOf(acc.peakThreads, r.threadsPeak);
      if (Number.isFinite(r.cpuPercent)) {
        acc.cpuSum += r.cpuPercent;
        acc.cpuCount++;
      }
    }
  }
  for (const acc of touched) if (acc.sessionAllOk) acc.perSession.push(acc.sessionSum);
}

/** A phase's accumulator as its stats. */
function phaseStats(acc: PhaseAcc): PhaseStats {
  return {
    name: acc.name,
    durations: describe(acc.durations),
    successRate: acc.successes / acc.timings,
    peakRssBytes: acc.peakRss,
    peakCpuPercent: acc.peakCpu,
    peakOpenFds: acc.peakFds,
    peakThreads: acc.peakThreads,
    meanCpuPercent: acc.cpuCount > 0 ? acc.cpuSum / acc.cpuCount : NaN,
    trend: trend(acc.perSession),
  };
}

function newAcc(name: string): PhaseAcc {
  return {
    name,
    timings: 0,
    successes: 0,
    durations: [],
    perSession: [],
    sessionSum: 0,
    sessionAllOk: true,
    peakRss: NaN,
    peakCpu: NaN,
    peakFds: NaN,
    peakThreads: NaN,
    cpuSum: 0,
    cpuCount: 0,
  };
}

/** The timings by startOffsetMs (stable), without copying when they already are in that order. */
function byStartOffset(phases: readonly PhaseSummary[]): readonly PhaseSummary[] {
  for (let i = 1; i < phases.length; i++) {
    if ((phases[i] as PhaseSummary).startOffsetMs < (phases[i - 1] as PhaseSummary).startOffsetMs) {
      return phases.slice().sort((a, b) => a.startOffsetMs - b.startOffsetMs);
    }
  }
  return phases;
}

