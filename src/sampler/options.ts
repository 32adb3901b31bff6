/** The Sampler's options: what each means, its default, and the one place they are checked. */
import { assertProcessExists, PROBE_BACKENDS, type ProbeBackendOption } from '../probe/probe.js';
import { MAX_GAUGE_SLOTS, MAX_RING_CAPACITY } from '../ring/layout.js';
import { checkBoolean, checkInteger, checkNumber, checkOneOf, checkOptions, checkPid, optionKeys } from '../validate.js';

export interface SamplerOptions {
  /** Process to sample; default this process. */
  pid?: number;
  /** Sample the process and all its descendants, summed. Default false. */
  tree?: boolean;
  /** ms between samples, >= 0.1. Default 1000 (the seed's 1 s). */
  samplingIntervalMs?: number;
  /** Records kept in the ring (older ones are overwritten). Default 1000. */
  capacity?: number;
  /** Gauge slots in shared memory. Default 16. */
  maxGauges?: number;
  /** Probe tier, as createProbe's option. Default 'auto'. */
  backend?: ProbeBackendOption;
  /**
   * ms between rescans of a tree's descendants. Default 50; 1000 where fork and exec events are
   * live (sampler/fork-events.ts), which adopt children and refresh argv as they happen: the rescan
   * is then only the safety net (a lost event rescans at once).
   */
  rescanIntervalMs?: number;
  /** With tree: count only the descendants, not the root itself. Default false. */
  excludeRoot?: boolean;
  /**
   * ms between readings of PSS (/proc/PID/smaps_rollup, each member of a tree): it walks page
   * tables, so it runs at this lower rate; 0: never. Default 250.
   */
  pssIntervalMs?: number;
  /**
   * ms between readings of the costly counts (open fds, threads, another pid's context switches
   * summed over its threads: one /proc file per thread), each tree member on its own clock; a
   * record in between carries the last reading. CPU, memory, faults and timestamps are read every
   * tick. 0: every tick. Default 20 (README "Read rates"); never shorter than the sampling interval in effect.
   */
  countsIntervalMs?: number;
}

/** Every option's name: the Sampler's, and the share of a monitor's options it passes on. */
export const SAMPLER_OPTIONS = optionKeys<SamplerOptions>({
  pid: true,
  tree: true,
  samplingIntervalMs: true,
  capacity: true,
  maxGauges: true,
  backend: true,
  rescanIntervalMs: true,
  excludeRoot: true,
  pssIntervalMs: true,
  countsIntervalMs: true,
});

/**
 * The default rate of the costly counts: at 20 ms a Node child's 7-11 per-thread files cost
 * ~4 µs a millisecond instead of ~80 (README "Read rates", measured with bench/sampler.bench.mjs).
 */
export const COUNTS_INTERVAL_MS = 20;

/** The default ms between a tree's rescans without live events (rescanIntervalMs). */
export const DEFAULT_RESCAN_MS = 50;
/** With fork and exec events live, a default rescan is only the safety net: this often, ms. */
export const SAFETY_NET_RESCAN_MS = 1000;

const DEFAULTS = Object.freeze({
  tree: false,
  samplingIntervalMs: 1000,
  capacity: 1000,
  maxGauges: 16,
  backend: 'auto' as ProbeBackendOption,
  rescanIntervalMs: DEFAULT_RESCAN_MS,
  excludeRoot: false,
  pssIntervalMs: 250,
  countsIntervalMs: COUNTS_INTERVAL_MS,
});
/**
 * countsBudget: countsIntervalMs was the default, so a tree's budget may lengthen it;
 * rescanDefault: rescanIntervalMs was the default, so live events may lengthen it.
 */
export type ResolvedSamplerOptions = Required<Omit<SamplerOptions, 'pid'>> & { countsBudget: boolean; rescanDefault: boolean };

/**
 * PSS by default only where the sampler is not inside what it samples: a page-table walk of this
 * process runs on its own sampler thread and would show as this process's CPU (a 1 kHz record
 * after a 3 ms walk reads 300 %: spikes that keep a CPU alert from ever clearing). Sampling this
 * process (or a tree that includes it): 0, unless asked for; another pid or a tree without it: 250.
 */
function defaultPssInterval(pid: number, o: SamplerOptions): number {
  const includesSelf = pid === process.pid && !(o.tree === true && o.excludeRoot === true);
  return includesSelf ? 0 : DEFAULTS.pssIntervalMs;
}

/**
 * The costly counts (fds, threads, per-thread switches) at their own rate only where they cost:
 * another pid (every thread's `status` file, ~9 µs a thread) or a tree. This process alone reads
 * them cheaply, and its timings are often shorter than 20 ms: a phase that opens 20 fds for 20 ms
 * would otherwise show no change. `tree` or another pid: COUNTS_INTERVAL_MS.
 */
function defaultCountsInterval(pid: number, o: SamplerOptions): number {
  return pid === process.pid && o.tree !== true ? 0 : DEFAULTS.countsIntervalMs;
}

/** Every option checked (InvalidOptionError naming it) and defaulted; another pid must exist. */
export function resolveSamplerOptions(options: SamplerOptions | undefined): { pid: number; resolved: ResolvedSamplerOptions } {
  const o = checkOptions('options', options, SAMPLER_OPTIONS, 'Sampler') as SamplerOptions;
  const pid = o.pid === undefined ? process.pid : checkPid('options.pid', o.pid);
  if (pid !== process.pid) assertProcessExists(pid);
  return {
    pid,
    resolved: {
      tree: checkBoolean('options.tree', o.tree ?? DEFAULTS.tree),
      samplingIntervalMs: checkNumber('options.samplingIntervalMs', o.samplingIntervalMs ?? DEFAULTS.samplingIntervalMs, 0.1, 2 ** 31 - 1),
      capacity: checkInteger('options.capacity', o.capacity ?? DEFAULTS.capacity, 2, MAX_RING_CAPACITY),
      maxGauges: checkInteger('options.maxGauges', o.maxGauges ?? DEFAULTS.maxGauges, 0, MAX_GAUGE_SLOTS),
      backend: checkOneOf('options.backend', o.backend ?? DEFAULTS.backend, PROBE_BACKENDS),
      rescanIntervalMs: checkNumber('options.rescanIntervalMs', o.rescanIntervalMs ?? DEFAULTS.rescanIntervalMs, 1),
      excludeRoot: checkBoolean('options.excludeRoot', o.excludeRoot ?? DEFAULTS.excludeRoot),
      pssIntervalMs: checkNumber('options.pssIntervalMs', o.pssIntervalMs ?? defaultPssInterval(pid, o), 0, 2 ** 31 - 1),
      countsIntervalMs: checkNumber('options.countsIntervalMs', o.countsIntervalMs ?? defaultCountsInterval(pid, o), 0, 86_400_000),
      countsBudget: o.countsIntervalMs === undefined,
      rescanDefault: o.rescanIntervalMs === undefined,
    },
  };
}
