/** PerformanceMonitor's options and its methods' arguments: what each means, its default, and the one place they are checked. */
import { InvalidOptionError } from '../errors.js';
import type { ProbeBackendOption } from '../probe/probe.js';
import type { ProcessExit } from '../sampler/processes.js';
import type { ExactTotals } from '../session/resources.js';
import type { SessionError } from '../session/types.js';
import {
  checkBoolean,
  checkInteger,
  checkNumber,
  checkOptionalString,
  checkOptions,
  checkPath,
  checkPid,
  checkPlainObject,
  checkString,
  DEFAULT_DATA_DIR,
  optionKeys,
} from '../validate.js';

export interface PerformanceMonitorOptions {
  /** Where history is kept. Default '.procprobe'. */
  dataDir?: string;
  /** Finished sessions kept in memory. Default 100. */
  maxSessions?: number;
  /** ms between resource samples during a session, >= 0.1. Default 1. */
  resourceSamplingIntervalMs?: number;
  /** Process to sample; default this process. */
  pid?: number;
  /** Sample the process and its descendants. Default false. */
  tree?: boolean;
  /** Probe tier. Default 'auto'. */
  backend?: ProbeBackendOption;
  /** Sessions older than this are removed from disk. Default 30 days. */
  maxHistoryDays?: number;
  /** Oldest sessions are removed beyond this total size. Default 256 MiB. */
  maxHistoryBytes?: number;
  /** ms between appends of samples to the session file (the most a crash loses). Default 250. */
  flushIntervalMs?: number;
  /** Samples kept in memory per session (all are on disk). Default 120,000 (2 min at 1 kHz). */
  maxSessionSamples?: number;
  /** Record Node's bootstrap milestones when a session opens within 10 s of process start. Default true. */
  nodeBootstrap?: boolean;
  /** With tree: sample only the descendants of pid, not pid itself. Default false. */
  excludeRoot?: boolean;
  /**
   * Read getrusage(RUSAGE_SELF) at every timing's start and finish for exact CPU, faults and
   * switches (this process alone: ignored with another pid or a tree). Default true; false saves
   * the caller the two reads (~1.5 µs per timing), and the figures are then the samples' around it.
   */
  boundaryReads?: boolean;
  /** ms between PSS readings (the sampler's option of that name); 0: none. Default 250. */
  pssIntervalMs?: number;
}

export type ResolvedOptions = Required<Omit<PerformanceMonitorOptions, 'pid' | 'dataDir' | 'pssIntervalMs'>> & { pid: number; dataDir: string; pssIntervalMs: number | undefined };

const MONITOR_OPTIONS = optionKeys<PerformanceMonitorOptions>({
  dataDir: true,
  maxSessions: true,
  resourceSamplingIntervalMs: true,
  pid: true,
  tree: true,
  backend: true,
  maxHistoryDays: true,
  maxHistoryBytes: true,
  flushIntervalMs: true,
  maxSessionSamples: true,
  nodeBootstrap: true,
  excludeRoot: true,
  boundaryReads: true,
  pssIntervalMs: true,
});

/** Every option checked (InvalidOptionError naming it, unknown names too) and defaulted. */
export function resolveOptions(options: PerformanceMonitorOptions | undefined): ResolvedOptions {
  const o = checkOptions('options', options, MONITOR_OPTIONS, 'PerformanceMonitor') as PerformanceMonitorOptions;
  return {
    dataDir: checkPath('options.dataDir', o.dataDir ?? DEFAULT_DATA_DIR),
    maxSessions: checkInteger('options.maxSessions', o.maxSessions ?? 100, 1),
    resourceSamplingIntervalMs: checkNumber('options.resourceSamplingIntervalMs', o.resourceSamplingIntervalMs ?? 1, 0.1, 2 ** 31 - 1),
    pid: o.pid === undefined ? process.pid : checkInteger('options.pid', o.pid, 1, 0x7fffffff),
    tree: checkBoolean('options.tree', o.tree ?? false),
    backend: (o.backend ?? 'auto') as ProbeBackendOption, // checked by the Sampler
    maxHistoryDays: checkNumber('options.maxHistoryDays', o.maxHistoryDays ?? 30, 0),
    maxHistoryBytes: checkNumber('options.maxHistoryBytes', o.maxHistoryBytes ?? 256 * 1048576, 0),
    flushIntervalMs: checkNumber('options.flushIntervalMs', o.flushIntervalMs ?? 250, 1, 60_000),
    maxSessionSamples: checkInteger('options.maxSessionSamples', o.maxSessionSamples ?? 120_000, 2),
    nodeBootstrap: checkBoolean('options.nodeBootstrap', o.nodeBootstrap ?? true),
    excludeRoot: checkBoolean('options.excludeRoot', o.excludeRoot ?? false),
    boundaryReads: checkBoolean('options.boundaryReads', o.boundaryReads ?? true),
    // Undefined: the sampler's default (PSS only where it does not sample itself, sampler/options.ts).
    pssIntervalMs: o.pssIntervalMs === undefined ? undefined : checkNumber('options.pssIntervalMs', o.pssIntervalMs, 0, 2 ** 31 - 1),
  };
}

/*
 * The arguments of PerformanceMonitor's methods. Checked before any state changes, and before
 * they reach the history writer's worker: a value a structured clone cannot carry (a function as
 * an operation name, a bigint in totals) would otherwise fail there, untyped, after the caller's
 * call had returned.
 */

/** finishSession's options. */
export interface FinishOptions {
  /** Mark the session incomplete (the CLI's interrupted run). Default false. */
  incomplete?: boolean;
  /**
   * Exit statuses of tree processes that the caller reaped itself (the CLI's command), for the
   * session's `processes` entries: `exitCode` 0..255 and `signal` null, or `exitCode` null and a
   * signal name. Default none (zombies still unreaped at the end are read from /proc).
   */
  exits?: readonly ProcessExit[];
}

/** getPerformanceStats's options. */
export interface StatsOptions {
  /** Sessions of the last this many days. Default 7. */
  days?: number;
  /** Only sessions whose metadata.label is this. Default all. */
  label?: string;
}

const FINISH_OPTIONS = optionKeys<FinishOptions>({ incomplete: true, exits: true });
const EXIT_KEYS = optionKeys<ProcessExit>({ pid: true, exitCode: true, signal: true });
const STATS_OPTIONS = optionKeys<StatsOptions>({ days: true, label: true });
const TOTALS = optionKeys<ExactTotals>({
  cpuUs: true,
  voluntaryContextSwitches: true,
  involuntaryContextSwitches: true,
  minorPageFaults: true,
  majorPageFaults: true,
});

export function checkFinishSession(success: unknown, options: unknown): { success: boolean; incomplete: boolean; exits: ProcessExit[] } {
  const o = checkOptions('options', options, FINISH_OPTIONS, 'finishSession');
  return { success: checkBoolean('success', success), incomplete: checkBoolean('options.incomplete', o.incomplete ?? false), exits: checkExits(o.exits) };
}

/** finishSession's options.exits: an array of { pid, exitCode, signal }, exactly one of the two set. */
function checkExits(value: unknown): ProcessExit[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new InvalidOptionError('options.exits', 'an array', value);
  return value.map((v: unknown, i) => {
    const name = `options.exits[${i}]`;
    const e = checkOptions(name, v, EXIT_KEYS, 'an exit status');
    const pid = checkPid(`${name}.pid`, e.pid);
    if (e.exitCode === null || e.exitCode === undefined) {
      if (typeof e.signal !== 'string' || e.signal === '') throw new InvalidOptionError(`${name}.signal`, 'a signal name when exitCode is null', e.signal);
      return { pid, exitCode: null, signal: e.signal };
    }
    if (e.signal !== null && e.signal !== undefined) throw new InvalidOptionError(`${name}.signal`, 'null when exitCode is set', e.signal);
    return { pid, exitCode: checkInteger(`${name}.exitCode`, e.exitCode, 0, 255), signal: null };
  });
}

export function checkStatsOptions(options: unknown): { days: number; label?: string } {
  const o = checkOptions('options', options, STATS_OPTIONS, 'getPerformanceStats');
  const days = checkNumber('options.days', o.days ?? 7, 0);
  return o.label === undefined ? { days } : { days, label: checkString('options.label', o.label) };
}

/**
 * startTiming's metadata: a plain object or nothing. Only the shape is checked (the call is on the
 * caller's path, and the metadata stays on the TimingMetric in memory: it is never written to the
 * history file nor sent to a worker, so nothing downstream needs it JSON-like, unlike a session's).
 */
export function checkTimingStart(operation: unknown, metadata: unknown): { operation: string; metadata: Record<string, unknown> | undefined } {
  return { operation: checkString('operation', operation), metadata: checkPlainObject('metadata', metadata) };
}

export function checkTimingFinish(timingId: unknown, success: unknown, errorMessage: unknown): { id: string; success: boolean; message: string | undefined } {
  return { id: checkString('timingId', timingId), success: checkBoolean('success', success), message: checkOptionalString('errorMessage', errorMessage) };
}

/** finishTimingAt's totals: the five counters, each a finite number >= 0, nothing else. */
export function checkTotals(totals: unknown): ExactTotals | undefined {
  if (totals === undefined) return undefined;
  const o = checkOptions('totals', totals, TOTALS, 'finishTimingAt totals');
  const out = {} as Record<string, number>;
  for (const k of TOTALS) out[k] = checkNumber(`totals.${k}`, o[k], 0);
  return out as unknown as ExactTotals;
}

/** recordError's arguments: a message (an Error gives its own) and an optional operation name. */
export function checkRecordError(error: unknown, operation: unknown): Omit<SessionError, 'timestamp'> {
  const message = error instanceof Error ? String(error.message) : error;
  if (typeof message !== 'string') throw new InvalidOptionError('errorMessage', 'a string or an Error', error);
  const op = checkOptionalString('operation', operation);
  return { message, ...(op ? { operation: op } : {}) };
}
