/**
 * The timings of the open session: started and finished on the caller's path with monotonic marks
 * only, then settled off it (given their resource delta once the ring covers their end), recorded
 * in the session and queued, with the session's errors, as records for its history file.
 */
import { errorRecord, timingRecord } from '../history/records.js';
import type { SessionRecord } from '../history/format.js';
import { applyExactTotals, resourceDelta, totalsOnlyDelta, usageBetween, type ExactTotals } from '../session/resources.js';
import type { StartupSession } from '../session/session.js';
import { SessionStateError } from '../errors.js';
import { readSelfUsage, SELF_USAGE } from '../probe/self-usage.js';
import { TimingMetric } from '../session/timing.js';
import type { PhaseSummary, ResourceDelta, SessionError, SessionSamples } from '../session/types.js';

const EMPTY: Readonly<Record<string, unknown>> = Object.freeze({});
/** Numbers per slot: two boundary readings, the start's and the finish's (TimingMetric.usageSlot). */
const READS = 2 * SELF_USAGE.FIELDS;

/** Records in ring layout: a session's samples in memory (SessionBuffer) or loaded from disk. */
type Rows = Pick<SessionSamples, 'records' | 'stride' | 'count'>;

export class TimingBook {
  /**
   * Read getrusage(RUSAGE_SELF) at each timing's start and finish (probe/self-usage.ts: one
   * syscall that sums every thread, into #usage: nothing kept per read), for exact cumulative
   * figures: only when
   * the session samples this process alone (PerformanceMonitor decides), since the reads know
   * nothing of other pids or descendants.
   */
  boundaryReads = false;
  /**
   * This session's timings by number: id `t<n>` is #byNo[n - #base]. An array push and an index,
   * where a Map hashed each fresh id string and rehashed as it grew (tens of thousands per session).
   */
  #byNo: TimingMetric[] = [];
  #base = 1;
  /** Settled phases with exact totals: applied again when deltas are recomputed from disk. */
  readonly #exact = new WeakMap<PhaseSummary, ExactTotals>();
  /** Exact totals handed to finish() (a child's rusage), until the timing is settled. */
  readonly #given = new WeakMap<TimingMetric, ExactTotals>();
  /** Started, not finished, innermost last (the parent of the next one). */
  #open: TimingMetric[] = [];
  /** Finished, waiting for the ring to cover their end. */
  #pending: TimingMetric[] = [];
  #records: SessionRecord[] = [];
  #next = 0;
  /**
   * The boundary reads of this session's timings, READS numbers per slot (TimingMetric.usageSlot):
   * one growing array, so a timing allocates nothing for them; slots are reused from the next
   * session on, when every timing of this one has settled.
   */
  #usage = new Float64Array(READS * 64);
  #slots = 0;

  /** A new session: no timing of the last one can be finished or named in it. */
  reset(): void {
    this.#byNo = [];
    this.#base = this.#next + 1;
    this.#open = [];
    this.#records = [];
    if (this.#pending.length === 0) this.#slots = 0; // else a pending timing still reads its slot
  }

  /** A free slot for a timing's two readings, the slab grown (doubled) when full. */
  #slot(): number {
    if ((this.#slots + 1) * READS > this.#usage.length) {
      const grown = new Float64Array(this.#usage.length * 2);
      grown.set(this.#usage);
      this.#usage = grown;
    }
    return this.#slots++;
  }

  /** `atMono`: the start on the performance.now() clock when it was taken elsewhere (no boundary read then). */
  start(operation: string, metadata: Record<string, unknown> | undefined, atMono?: number): string {
    const id = `t${++this.#next}`;
    // Read before the timing's monotonic mark (and after it at finish): the reads bracket it.
    const slot = this.boundaryReads && atMono === undefined ? this.#slot() : -1;
    if (slot >= 0) readSelfUsage(this.#usage, slot * READS);
    const parent = this.#open.length > 0 ? this.#open[this.#open.length - 1]!.id : undefined;
    const t = new TimingMetric(id, operation, metadata ?? EMPTY, parent, atMono);
    t.usageSlot = slot;
    this.#byNo.push(t);
    this.#open.push(t);
    return id;
  }

  /**
   * `at`: the end on the performance.now() clock when it was taken elsewhere, and the interval's
   * exact totals when known there (a child's wait4 rusage).
   */
  finish(timingId: string, success: boolean, errorMessage?: string, at?: { mono: number; totals?: ExactTotals }): void {
    const t = this.#find(timingId);
    if (t === undefined) throw new SessionStateError(`unknown timing id ${String(timingId)}`);
    t.finish(success, errorMessage, at?.mono);
    if (at?.totals) this.#given.set(t, at.totals);
    else if (t.usageSlot >= 0 && at === undefined) {
      readSelfUsage(this.#usage, t.usageSlot * READS + SELF_USAGE.FIELDS);
      t.usageEnded = true;
    }
    // The innermost is the usual one to finish: popped without a search.
    if (this.#open[this.#open.length - 1] === t) this.#open.pop();
    else {
      const i = this.#open.lastIndexOf(t);
      if (i >= 0) this.#open.splice(i, 1);
    }
    this.#pending.push(t);
  }

  isOpen(timingId: string): boolean {
    return this.#find(timingId)?.finished === false;
  }

  /** The timing of this session named `id` (`t<n>`), read without allocating: undefined if none. */
  #find(id: string): TimingMetric | undefined {
    if (id.length < 2 || id.length > 16 || id.charCodeAt(0) !== 116 /* t */) return undefined;
    let n = 0;
    for (let i = 1; i < id.length; i++) {
      const d = id.charCodeAt(i) - 48;
      if (d < 0 || d > 9 || (d === 0 && i === 1)) return undefined; // digits only, no leading zero: one spelling per id
      n = n * 10 + d;
    }
    return this.#byNo[n - this.#base];
  }

  /** Finish every open timing as failed, with `why`. */
  failOpen(why: string): void {
    for (const t of [...this.#open]) this.finish(t.id, false, why);
  }

  /**
   * Settle the finished timings whose end is at or before `coveredTs` (Infinity: all of them).
   * `s` null: settle them without resources (memory no longer holds their samples; the file does).
   */
  settle(session: StartupSession, s: Rows | null, coveredTs: number): void {
    const keep: TimingMetric[] = [];
    for (const t of this.#pending) {
      if (t.endTime > coveredTs) keep.push(t);
      else this.#settle(session, t, s);
    }
    this.#pending = keep;
  }

  /** A phase that was never a TimingMetric (Node's bootstrap milestones): recorded as it is. */
  recordPhase(session: StartupSession, phase: PhaseSummary): void {
    session.timings.push(phase);
    this.#records.push(timingRecord(phase, phase.name));
  }

  recordError(session: StartupSession, e: SessionError): void {
    session.errors.push(e);
    this.#records.push(errorRecord(e));
  }

  /** An error for the file only (the session has finished in memory). */
  recordFileError(e: SessionError): void {
    this.#records.push(errorRecord(e));
  }

  /** The records queued since the last call, for the writer. */
  drainRecords(): SessionRecord[] {
    const r = this.#records;
    this.#records = [];
    return r;
  }

  /** Give a finished timing its resource delta, and record it in the session and for the file. */
  #settle(session: StartupSession, t: TimingMetric, s: Rows | null): void {
    t.resources = s ? resourceDelta(s.records, s.stride, s.count, t.startTime, t.endTime) : undefined;
    const reads = this.#given.get(t) ?? (t.usageEnded ? usageBetween(this.#usage, t.usageSlot * READS) : undefined);
    // No sample covers it, or memory overflowed (s null): the exact totals alone. In the file they
    // outlive a kill -9: the loader then takes levels and peaks from the samples on disk, and
    // keeps these totals (history/parse.ts), rather than a last-minus-first that a late flush cuts short.
    if (reads) t.resources = t.resources ? withTotals(t.resources, reads, t.durationMs) : totalsOnlyDelta(reads, t.startTime, t.endTime);
    const phase: PhaseSummary = {
      name: t.operation,
      startOffsetMs: t.startTime - session.startTime,
      durationMs: t.durationMs,
      success: t.success === true,
      ...(t.errorMessage !== undefined ? { errorMessage: t.errorMessage } : {}),
      ...(t.resources ? { resources: t.resources } : {}),
    };
    if (reads) this.#exact.set(phase, reads);
    session.timings.push(phase);
    this.#records.push(timingRecord(phase, t.id, t.parentId));
  }

  /** The session's own boundary reads, as its timings' (startSession, finishSession). */
  readonly #sessionUsage = new Float64Array(READS);
  #sessionRead = false;
  #sessionEnded = false;

  markSessionStart(): void {
    this.#sessionRead = this.boundaryReads;
    this.#sessionEnded = false;
    if (this.#sessionRead) readSelfUsage(this.#sessionUsage, 0);
  }

  markSessionEnd(): void {
    if (!this.#sessionRead) return;
    readSelfUsage(this.#sessionUsage, SELF_USAGE.FIELDS);
    this.#sessionEnded = true;
  }

  /**
   * After deltas were (re)computed from samples: the boundary reads again, where taken, for the
   * phases and the session's own resources.
   */
  applyExact(phases: PhaseSummary[], session?: StartupSession): void {
    if (session && this.#sessionEnded) {
      const x = usageBetween(this.#sessionUsage);
      session.resources = session.resources ? withTotals(session.resources, x, session.durationMs) : totalsOnlyDelta(x, session.startTime, session.endTime);
    }
    for (const p of phases) {
      const reads = this.#exact.get(p);
      if (!reads) continue;
      const from = session ? session.startTime + p.startOffsetMs : NaN;
      p.resources = p.resources ? withTotals(p.resources, reads, p.durationMs) : totalsOnlyDelta(reads, from, from + p.durationMs);
    }
  }
}

/** `d` with its cumulative figures replaced by exact totals (applyExactTotals, returning it). */
function withTotals(d: ResourceDelta, x: ExactTotals, durationMs: number): ResourceDelta {
  applyExactTotals(d, x, durationMs);
  return d;
}
