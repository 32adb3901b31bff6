/**
 * Resource use over an interval, computed from ring records (oldest first, ring record layout):
 * the record at or before the start and the record at or after the end bound it, the records in
 * between give the peaks. With 1 ms sampling the bounds are within 1 ms of the interval.
 *
 * The levels at the end (RSS, fds, threads) are the last reading with RSS above 0: a process
 * being torn down (stopped by the CLI, or a one-shot command exiting) still reads OK, ending with
 * RSS 0 and no fds once the kernel has released its memory (exit_mm) and files, and that is the
 * teardown, not the startup's end state. Readings taken while the kernel is still unmapping (RSS
 * falling, above 0) read the same with the addon on Linux: a process whose /proc/PID/stat flags
 * carry PF_EXITING reads RSS 0 and nothing open (native/probe_linux.cc).
 * Cumulative counters (CPU, switches, faults) stay valid through it: from the last usable record.
 */
import type { PhaseSummary, ResourceDelta, SessionSamples } from './types.js';
import { F } from '../probe/layout.js';
import { SELF_USAGE } from '../probe/self-usage.js';
import { R } from '../ring/layout.js';
import { cpuPercent } from '../units.js';

/** Index of the last record with timestamp <= ts (or 0), by binary search. */
function floorIndex(rec: Float64Array, stride: number, count: number, ts: number): number {
  let lo = 0;
  let hi = count - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (rec[mid * stride + R.ROW + F.timestamp]! <= ts) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/**
 * A record that measured something: its read succeeded and a process was in it (a tree with no
 * process yet, as the CLI's before its spawn, reads OK with nothing in it). Exports and charts
 * show no figure of a record that is not.
 */
export function isMeasured(rec: Float64Array, at: number): boolean {
  return rec[at + R.STATUS] === 0 && rec[at + R.PROCESSES] !== 0;
}

/** When and what a record is of: shown whatever it measured. */
const IDENTITY_FIELDS: ReadonlySet<number> = new Set([F.timestamp, F.pid, F.startTime]);

/** Levels (RSS, VMS, memory %, fds, threads): shown only from live readings (see isLiveReading). */
export const LEVEL_FIELDS: ReadonlySet<number> = new Set([F.rssBytes, F.vmsBytes, F.memoryPercent, F.openFds, F.threads]);

/**
 * The value of ProcessSample field `f` of the record at `at` as exports and charts show it: NaN
 * when the record measured nothing, and for a level, when the process was being torn down.
 */
export function shownValue(rec: Float64Array, at: number, f: number): number {
  if (IDENTITY_FIELDS.has(f)) return rec[at + R.ROW + f]!;
  if (!isMeasured(rec, at) || (LEVEL_FIELDS.has(f) && !isLiveReading(rec, at))) return NaN;
  return rec[at + R.ROW + f]!;
}

/**
 * A usable record whose process still has memory: RSS not 0 (see the module doc). NaN counts as
 * live: a tier that does not measure RSS says nothing about the process being torn down.
 */
export function isLiveReading(rec: Float64Array, at: number): boolean {
  return isMeasured(rec, at) && !(rec[at + R.ROW + F.rssBytes]! <= 0);
}

/**
 * Resource use between `fromTs` and `toTs` (ms since epoch) over `count` records; undefined when
 * no record lies at or after the start (nothing covers the interval). Records whose read failed
 * (STATUS != 0) or that measured no process (PROCESSES == 0) are skipped.
 */
export function resourceDelta(rec: Float64Array, stride: number, count: number, fromTs: number, toTs: number): ResourceDelta | undefined {
  if (count === 0) return undefined;
  const a = floorIndex(rec, stride, count, fromTs);
  let b = floorIndex(rec, stride, count, toTs);
  if (b < count - 1 && rec[b * stride + R.ROW + F.timestamp]! < toTs) b++; // first record at/after the end
  let first = -1;
  let last = -1;
  let lastLive = -1;
  let rssPeak = -Infinity;
  let pssPeak = NaN; // PSS is read at its own rate: most records carry none
  let fdsPeak = -Infinity;
  let threadsPeak = -Infinity;
  for (let i = a; i <= b; i++) {
    // A failed read, or a tree with no process in it yet (the CLI before its spawn): nothing measured.
    if (!isMeasured(rec, i * stride)) continue;
    const at = i * stride + R.ROW;
    if (first < 0) first = at;
    last = at;
    if (isLiveReading(rec, i * stride)) lastLive = at;
    rssPeak = Math.max(rssPeak, rec[at + F.rssBytes]!);
    const pss = rec[i * stride + R.PSS_BYTES]!;
    if (!Number.isNaN(pss) && !(pss <= pssPeak)) pssPeak = pss; // (pss <= NaN is false: the first reading)
    fdsPeak = Math.max(fdsPeak, rec[at + F.openFds]!);
    threadsPeak = Math.max(threadsPeak, rec[at + F.threads]!);
  }
  // Nothing covers the interval when every usable record is before its start or after its end.
  if (first < 0 || rec[last + F.timestamp]! < fromTs || rec[first + F.timestamp]! > toTs) return undefined;
  const d = (f: number): number => rec[last + f]! - rec[first + f]!;
  // Levels at the end: the last live reading (none in the interval: the last usable one).
  const end = lastLive >= 0 ? lastLive : last;
  const cpuMs = (d(F.cpuUserUs) + d(F.cpuSystemUs)) / 1e3;
  const wallMs = rec[last + F.timestamp]! - rec[first + F.timestamp]!;
  return {
    fromTimestamp: rec[first + F.timestamp]!,
    toTimestamp: rec[last + F.timestamp]!,
    samples: b - a + 1,
    cpuMs,
    cpuPercent: cpuPercent(cpuMs, wallMs),
    rssStartBytes: rec[first + F.rssBytes]!,
    rssEndBytes: rec[end + F.rssBytes]!,
    rssPeakBytes: rssPeak,
    rssDeltaBytes: rec[end + F.rssBytes]! - rec[first + F.rssBytes]!,
    pssPeakBytes: pssPeak,
    fdsStart: rec[first + F.openFds]!,
    fdsEnd: rec[end + F.openFds]!,
    fdsPeak,
    threadsStart: rec[first + F.threads]!,
    threadsEnd: rec[end + F.threads]!,
    threadsPeak,
    voluntaryContextSwitches: d(F.voluntaryContextSwitches),
    involuntaryContextSwitches: d(F.involuntaryContextSwitches),
    minorPageFaults: d(F.minorPageFaults),
    majorPageFaults: d(F.majorPageFaults),
  };
}

/**
 * Give phases their resource deltas from a session's samples (`startTime`: the session's start,
 * which their offsets count from). `onlyMissing`: leave the phases that have one from samples; a
 * phase that has exact totals alone (`samples` 0: boundary reads written before its samples were)
 * gets its levels and peaks from the samples and keeps its totals. Node's bootstrap milestones
 * (`node:*`) happened before sampling began and never get one.
 */
export function phaseResources(phases: PhaseSummary[], startTime: number, s: Pick<SessionSamples, 'records' | 'stride' | 'count'>, onlyMissing = false): void {
  for (const phase of phases) {
    const had = phase.resources;
    if (phase.name.startsWith('node:') || (onlyMissing && had && had.samples > 0)) continue;
    const from = startTime + phase.startOffsetMs;
    const r = resourceDelta(s.records, s.stride, s.count, from, from + phase.durationMs);
    if (r && onlyMissing && had) applyExactTotals(r, exactOf(had), phase.durationMs);
    if (r) phase.resources = r;
    else if (!(onlyMissing && had)) delete phase.resources;
  }
}

/** The cumulative figures of a delta, as exact totals. */
function exactOf(d: ResourceDelta): ExactTotals {
  return {
    cpuUs: d.cpuMs * 1000,
    voluntaryContextSwitches: d.voluntaryContextSwitches,
    involuntaryContextSwitches: d.involuntaryContextSwitches,
    minorPageFaults: d.minorPageFaults,
    majorPageFaults: d.majorPageFaults,
  };
}

/**
 * Cumulative figures of an interval from an exact source rather than samples: the kernel's
 * counters read at its boundaries (getrusage of this process), or a child's wait4 rusage.
 */
export interface ExactTotals {
  cpuUs: number;
  voluntaryContextSwitches: number;
  involuntaryContextSwitches: number;
  minorPageFaults: number;
  majorPageFaults: number;
}

/**
 * Totals between two getrusage(RUSAGE_SELF) readings (every thread), SELF_USAGE.FIELDS numbers
 * each, the first at u[at] and the second right after it.
 */
export function usageBetween(u: Float64Array, at = 0): ExactTotals {
  const b = at + SELF_USAGE.FIELDS;
  const d = (k: number): number => u[b + k]! - u[at + k]!;
  return {
    cpuUs: d(SELF_USAGE.userUs) + d(SELF_USAGE.systemUs),
    voluntaryContextSwitches: d(SELF_USAGE.voluntaryCtx),
    involuntaryContextSwitches: d(SELF_USAGE.involuntaryCtx),
    minorPageFaults: d(SELF_USAGE.minorFaults),
    majorPageFaults: d(SELF_USAGE.majorFaults),
  };
}

/**
 * Replace the cumulative figures of a delta computed from samples with exact totals: where the
 * samples are last-minus-first around the interval, up to one interval off at each end. Levels
 * and peaks stay the samples'.
 */
export function applyExactTotals(d: ResourceDelta, x: ExactTotals, durationMs: number): void {
  d.cpuMs = x.cpuUs / 1000;
  d.cpuPercent = cpuPercent(d.cpuMs, durationMs);
  d.voluntaryContextSwitches = x.voluntaryContextSwitches;
  d.involuntaryContextSwitches = x.involuntaryContextSwitches;
  d.minorPageFaults = x.minorPageFaults;
  d.majorPageFaults = x.majorPageFaults;
}

/**
 * A delta from exact totals alone, for an interval no sample covers (a phase before the sampler
 * had booted, a command shorter than one interval): `samples` 0, the interval's own bounds as
 * timestamps, levels and peaks NaN (unknown, never 0).
 */
export function totalsOnlyDelta(x: ExactTotals, fromTs: number, toTs: number): ResourceDelta {
  const d: ResourceDelta = {
    fromTimestamp: fromTs,
    toTimestamp: toTs,
    samples: 0,
    cpuMs: NaN,
    cpuPercent: NaN,
    rssStartBytes: NaN,
    rssEndBytes: NaN,
    rssPeakBytes: NaN,
    rssDeltaBytes: NaN,
    pssPeakBytes: NaN,
    fdsStart: NaN,
    fdsEnd: NaN,
    fdsPeak: NaN,
    threadsStart: NaN,
    threadsEnd: NaN,
    threadsPeak: NaN,
    voluntaryContextSwitches: NaN,
    involuntaryContextSwitches: NaN,
    minorPageFaults: NaN,
    majorPageFaults: NaN,
  };
  applyExactTotals(d, x, toTs - fromTs);
  return d;
}
