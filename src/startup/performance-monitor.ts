/**
 * PerformanceMonitor: the seed's startup performance monitor (000_86271e7beb1884f1.txt), the room
 * that composes the others: sampler -> session -> history -> analysis. On the caller's path,
 * startTiming/finishTiming only take monotonic marks (TimingBook); every 50 ms a housekeeping tick
 * drains the ring into the session, settles the timings that finished, and hands records to the
 * history writer worker.
 */
import { EventEmitter } from 'node:events';
import { releaseAnalysisPool, retainAnalysisPool, runStats } from '../analysis/pool.js';
import type { PerformanceStats } from '../analysis/types.js';
import { emitOrWarn, HistorySkippedError, HistoryWriteError, InvalidOptionError as InvalidOption, ProcprobeError, SessionStateError } from '../errors.js';
import { flushOnExit } from '../exit.js';
import { sessionHeader } from '../history/records.js';
import { newSessionId } from '../history/ids.js';
import { HistoryStore } from '../history/store.js';
import { SessionWriter } from '../history/writer.js';
import { Sampler } from '../sampler/sampler.js';
import type { ProcessExit } from '../sampler/processes.js';
import type { SamplerUsageMark } from '../sampler/self-usage.js';
import { SessionBuffer } from '../session/buffer.js';
import { nodeBootstrapPhases } from '../session/bootstrap.js';
import { checkMetadata } from '../session/metadata.js';
import { resourceDelta, type ExactTotals } from '../session/resources.js';
import { StartupSession } from '../session/session.js';
import { TimingContext } from '../session/timing.js';
import type { SessionError } from '../session/types.js';
import { checkBoolean, checkFunction, checkNumber, checkOptionalString, checkPlainObject, checkString } from '../validate.js';
import { checkFinishSession, checkRecordError, checkStatsOptions, checkTimingFinish, checkTimingStart, checkTotals, resolveOptions } from './options.js';
import type { FinishOptions, PerformanceMonitorOptions, ResolvedOptions, StatsOptions } from './options.js';
import { flushAtExit, housekeep } from './housekeeping.js';
import { saveSession } from './save.js';
import { createSessionSampler, quiesceSampler } from './sampling.js';
import { usageSummary, type ResourceUsageSummary } from './usage.js';
import { TimingBook } from './timings.js';

export type { FinishOptions, PerformanceMonitorOptions, StatsOptions } from './options.js';

export type { ResourceUsageSummary } from './usage.js';

export interface PerformanceMonitorEvents {
  error: [ProcprobeError];
  warning: [ProcprobeError];
}

const HOUSEKEEPING_MS = 50;
/** How long process exit may wait for the history writer to save an open session. */
const EXIT_FLUSH_BUDGET_MS = 500;

export class PerformanceMonitor extends EventEmitter<PerformanceMonitorEvents> {
  readonly dataDir: string;
  readonly #store: HistoryStore;
  readonly #opts: ResolvedOptions;
  readonly #sessions: StartupSession[] = [];
  readonly #sampler: Sampler;
  /** The sampler's usage at the open session's start (sampler/self-usage.ts). */
  #usageStart: SamplerUsageMark | null = null;
  /** Resolves when the open session's first sample is in. */
  #ready: Promise<void> | null = null;
  #session: StartupSession | null = null;
  #buffer: SessionBuffer | null = null;
  #writer: SessionWriter | null = null;
  readonly #book = new TimingBook();
  #timer: NodeJS.Timeout | null = null;
  #bootstrapRecorded = false;
  #closed = false;
  /** finishSession in flight: the next session waits for it (its sampler, writer and buffer are in use). */
  #finishing: Promise<unknown> | null = null;
  #usesPool = false;
  #unhookExit: (() => void) | null = null;

  constructor(options?: PerformanceMonitorOptions) {
    super();
    this.#opts = resolveOptions(options);
    this.dataDir = this.#opts.dataDir;
    this.#store = new HistoryStore(this.dataDir);
    // Boot the sampler now, paused: a worker takes 50-300 ms to start, and the first phases of
    // the first session should not go unsampled. It waits at no CPU cost and never holds the
    // process; startSession resumes it within a millisecond.
    this.#sampler = this.#createSampler();
    this.#sampler.pause();
    this.#sampler.start().catch(() => undefined); // reported by startSession when it matters
  }

  /** The open session, or null. */
  get currentSession(): StartupSession | null {
    return this.#session;
  }

  /** Finished sessions of this monitor, oldest first (at most maxSessions). */
  get sessions(): readonly StartupSession[] {
    return this.#sessions;
  }

  /** The sampler's ring, for readers in other threads (`new RingReader(buffer)`). */
  get sharedBuffer(): SharedArrayBuffer {
    return this.#sampler.sharedBuffer;
  }

  /**
   * Start a new startup session and its 1 kHz sampling; returns the session id (sortable by
   * start time, unique). Throws SessionStateError if one is open, InvalidOptionError naming the
   * key if metadata is not JSON-like (session/metadata.ts), DataDirError if the data dir cannot
   * be created or written. Nothing is written before the checks pass.
   */
  startSession(metadata: Record<string, unknown> = {}): string {
    if (this.#closed) throw new SessionStateError('the monitor is closed');
    if (this.#session) throw new SessionStateError(`session ${this.#session.id} is still open: finish it first`);
    if (this.#finishing) throw new SessionStateError('the previous session is still finishing: await finishSession() first');
    const checked = checkMetadata('metadata', metadata);
    this.#store.ensure();
    const sampler = this.#sampler;
    // Exact cumulative figures from the kernel at the boundaries, where they can be: this process alone.
    this.#book.boundaryReads = this.#opts.boundaryReads && this.#opts.pid === process.pid && !this.#opts.tree;
    this.#book.markSessionStart();
    const startMono = performance.now();
    const startTime = performance.timeOrigin + startMono;
    const id = newSessionId(startTime);
    const session = new StartupSession(id, checked, startTime);
    const startSeq = sampler.reader.latestSeq() + 1;
    this.#usageStart = sampler.usageMark(); // null while the worker boots: then from its first sample
    this.#session = session;
    this.#buffer = new SessionBuffer(sampler.reader, startSeq, this.#opts.maxSessionSamples);
    this.#book.reset();
    // A tree session counts what its tree uses from now: not what earlier sessions' exited
    // members used (the CLI's --runs: each run's command starts at zero).
    if (this.#opts.tree) sampler.requestResetTotals();
    this.#ready = sampler.resume();
    this.#ready.catch((err: ProcprobeError) => {
      session.errors.push({ timestamp: Date.now(), message: `sampling failed: ${err.message}`, operation: 'procprobe' });
      this.#report('error', err);
    });
    const { pid, tree, resourceSamplingIntervalMs: intervalMs } = this.#opts;
    this.#writer = new SessionWriter(
      sampler.sharedBuffer,
      this.#store.sessionPath(id),
      sessionHeader({ id, startTime, metadata: session.metadata, pid, tree, intervalMs }),
      startSeq,
      this.#opts.flushIntervalMs,
      (e) => this.#report('error', e),
    );
    if (this.#opts.nodeBootstrap && !this.#bootstrapRecorded && this.#opts.pid === process.pid && process.uptime() < 10) {
      this.#bootstrapRecorded = true;
      for (const phase of nodeBootstrapPhases(startMono)) this.#book.recordPhase(session, phase);
    }
    this.#timer = setInterval(() => this.#housekeep(), HOUSEKEEPING_MS);
    this.#timer.unref();
    this.#unhookExit = flushOnExit(this, (pm) => pm.#flushAtExit());
    return id;
  }

  /**
   * Resolves when the session's first sample is in: within a millisecond once the sampler worker
   * has booted (it starts at construction and takes 50-300 ms).
   */
  samplingReady(): Promise<void> {
    if (!this.#ready || !this.#session) return Promise.reject(new SessionStateError('no open session: call startSession() first'));
    return this.#ready;
  }

  /** With tree sampling: look for new descendants at the next tick (call right after spawning one). */
  rescan(): void {
    this.#sampler.requestRescan();
  }

  /** Start timing an operation; returns its id. Cheap: no I/O, no sampling on this path. */
  startTiming(operation: string, metadata?: Record<string, unknown>): string {
    // The checks one by one, not checkTimingStart: its result object was an allocation per call.
    const op = checkString('operation', operation);
    const md = checkPlainObject('metadata', metadata);
    if (this.#session === null) throw new SessionStateError('no open session: call startSession() first');
    return this.#book.start(op, md);
  }

  /** Finish a timing. Unknown or already finished ids throw SessionStateError. */
  finishTiming(timingId: string, success = true, errorMessage?: string): void {
    // As startTiming: the checks inline, no result object on this path.
    this.#book.finish(checkString('timingId', timingId), checkBoolean('success', success), checkOptionalString('errorMessage', errorMessage));
  }

  /**
   * startTiming for an instant taken elsewhere: `atMs` is ms since the epoch on this process's
   * clock (performance.timeOrigin + performance.now(), sub-ms), e.g. just before a spawn.
   */
  startTimingAt(operation: string, atMs: number, metadata?: Record<string, unknown>): string {
    const a = checkTimingStart(operation, metadata);
    const at = checkNumber('atMs', atMs, 0);
    if (this.#session === null) throw new SessionStateError('no open session: call startSession() first');
    return this.#book.start(a.operation, a.metadata, at - performance.timeOrigin);
  }

  /**
   * finishTiming for an instant taken elsewhere (as startTimingAt), optionally with the interval's
   * exact totals from another source (a child's wait4 rusage): they replace the samples' CPU,
   * faults and context switches.
   */
  finishTimingAt(timingId: string, atMs: number, success = true, errorMessage?: string, totals?: ExactTotals): void {
    const a = checkTimingFinish(timingId, success, errorMessage);
    const mono = checkNumber('atMs', atMs, 0) - performance.timeOrigin;
    const exact = checkTotals(totals);
    this.#book.finish(a.id, a.success, a.message, { mono, ...(exact ? { totals: exact } : {}) });
  }

  /** Time an async (or sync) function; a throw is recorded as a failure and rethrown. */
  async timeOperation<T>(operation: string, fn: () => T | Promise<T>, metadata?: Record<string, unknown>): Promise<T> {
    checkFunction('fn', fn);
    const id = this.startTiming(operation, metadata);
    try {
      const value = await fn();
      this.finishTiming(id, true);
      return value;
    } catch (err) {
      this.finishTiming(id, false, err instanceof Error ? String(err.message) : String(err));
      throw err;
    }
  }

  /** The seed's context manager: `{ using t = pm.timing('x'); ... }` (call t.fail(err) on errors). */
  timing(operation: string, metadata?: Record<string, unknown>): TimingContext {
    const id = this.startTiming(operation, metadata);
    // Disposal after finishSession closed it (a `using` around the whole startup) is a no-op.
    return new TimingContext(id, (ok, msg) => {
      if (this.#book.isOpen(id)) this.finishTiming(id, ok, msg);
    });
  }

  /** Record an error during the session: a message, or an Error (its message is recorded). */
  recordError(errorMessage: string | Error, operation?: string): void {
    const a = checkRecordError(errorMessage, operation);
    if (this.#session === null) throw new SessionStateError('no open session: call startSession() first');
    const e: SessionError = { timestamp: Date.now(), ...a };
    this.#book.recordError(this.#session, e);
  }

  /**
   * Finish the session: stop sampling, compute every resource delta, save it to history.
   * Resolves with the session (its timings, errors, samples and resource summary).
   */
  async finishSession(success = true, options: FinishOptions = {}): Promise<StartupSession> {
    const a = checkFinishSession(success, options);
    const session = this.#session;
    if (session === null) throw new SessionStateError('no open session to finish');
    session.incomplete = a.incomplete;
    const finishing = this.#finish(session, a.success, a.exits);
    this.#finishing = finishing;
    try {
      return await finishing;
    } finally {
      this.#finishing = null;
    }
  }

  async #finish(session: StartupSession, success: boolean, exits: readonly ProcessExit[]): Promise<StartupSession> {
    this.#book.failOpen('not finished when the session ended');
    const endMono = performance.now();
    this.#book.markSessionEnd();
    session.finish(success, performance.timeOrigin + endMono);
    this.#session = null;
    this.#unhookExit?.();
    this.#unhookExit = null;
    await this.#ready?.catch(() => undefined);
    await quiesceSampler(this.#sampler, this.#buffer!, session, { exits, usageStart: this.#usageStart, intervalMs: this.#opts.resourceSamplingIntervalMs });
    this.#housekeep(session);
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    const buffer = this.#buffer!;
    session.samples = buffer.samples();
    session.resources = resourceDelta(buffer.records, buffer.stride, buffer.count, session.startTime, session.endTime);
    this.#book.applyExact([], session);
    const writer = this.#writer!;
    try {
      const { maxHistoryDays: maxDays, maxHistoryBytes: maxBytes } = this.#opts;
      await saveSession(session, { store: this.#store, writer, book: this.#book, memory: buffer, retain: { maxDays, maxBytes } });
    } catch (err) {
      const e = err instanceof ProcprobeError ? err : new HistoryWriteError(String(err), { cause: err });
      if (!session.saved) session.saveError = e;
      // The writer's own failure was reported when it happened: one error per failure.
      if (e !== writer.failure) this.#report('error', e);
    }
    this.#writer = null;
    this.#sessions.push(session);
    if (this.#sessions.length > this.#opts.maxSessions) this.#sessions.shift();
    return session;
  }

  /** Resource use of the current session so far, or of the last finished one; null if none. */
  getResourceUsageSummary(): ResourceUsageSummary | null {
    const session = this.#session ?? this.#sessions[this.#sessions.length - 1] ?? null;
    if (!session) return null;
    if (session === this.#session) this.#buffer?.drain();
    return usageSummary(session, session.samples ?? this.#buffer?.samples());
  }

  /** Stats, trend and suggestions over the last `days` of history, computed in a worker pool. */
  async getPerformanceStats(options: StatsOptions = {}): Promise<PerformanceStats & { warnings: string[] }> {
    const o = checkStatsOptions(options);
    if (!this.#usesPool) {
      this.#usesPool = true;
      retainAnalysisPool();
    }
    const res = await runStats({ dataDir: this.dataDir, now: Date.now(), ...o });
    for (const w of res.warnings) this.#report('warning', new HistorySkippedError(w));
    return { ...res.stats, warnings: res.warnings };
  }

  /** The history as msgpack bytes (every session file and index entry). */
  exportHistory(): Promise<Uint8Array> {
    return this.#store.exportHistory();
  }

  /** Add the sessions of an exported history that this data dir lacks. */
  importHistory(bytes: Uint8Array): Promise<{ imported: number; skipped: number }> {
    if (!(bytes instanceof Uint8Array)) throw new InvalidOption('bytes', 'a Uint8Array', bytes);
    return this.#store.importHistory(bytes);
  }

  /** Finish an open session as unsuccessful, stop sampling, release the analysis pool. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    if (this.#session) await this.finishSession(false);
    this.#closed = true;
    await this.#sampler.stop();
    if (this.#usesPool) await releaseAnalysisPool();
  }

  #createSampler(): Sampler {
    const sampler = createSessionSampler(this.#opts);
    sampler.on('error', (e) => this.#report('error', e));
    sampler.on('warning', (e) => this.#report('warning', e));
    return sampler;
  }

  /** Drain the ring, settle finished timings, feed the writer (housekeeping.ts). */
  #housekeep(finishing?: StartupSession): void {
    const session = this.#session ?? finishing;
    if (session && this.#buffer) housekeep({ session, buffer: this.#buffer, book: this.#book, writer: this.#writer }, finishing !== undefined);
  }

  #flushAtExit(): void {
    if (this.#session && this.#buffer && this.#writer) flushAtExit({ session: this.#session, buffer: this.#buffer, book: this.#book, writer: this.#writer }, EXIT_FLUSH_BUDGET_MS);
  }

  #report(event: 'error' | 'warning', err: ProcprobeError): void {
    emitOrWarn(this, event, err);
  }
}
