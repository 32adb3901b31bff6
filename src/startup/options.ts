/** PerformanceMonitor's options: what each means, its default, and the one place they are checked. */
import { InvalidOptionError } from '../errors.js';
import type { ProbeBackendOption } from '../probe/probe.js';
import { checkBoolean, checkInteger, checkNumber, DEFAULT_DATA_DIR } from '../validate.js';

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
   * Read process.resourceUsage() at every timing's start and finish for exact CPU, faults and
   * switches (this process alone: ignored with another pid or a tree). Default true; false saves
   * the caller ~3 µs per timing, and the figures are then the samples' around it.
   */
  boundaryReads?: boolean;
}

export type ResolvedOptions = Required<Omit<PerformanceMonitorOptions, 'pid' | 'dataDir'>> & { pid: number; dataDir: string };

/** Every option checked (InvalidOptionError naming it) and defaulted. */
export function resolveOptions(o: PerformanceMonitorOptions): ResolvedOptions {
  const dataDir = o.dataDir ?? DEFAULT_DATA_DIR;
  if (typeof dataDir !== 'string' || dataDir.length === 0) throw new InvalidOptionError('options.dataDir', 'a non-empty path', dataDir);
  return {
    dataDir,
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
  };
}
