/**
 * createProbe: one process, read exactly and cheaply, through the best tier that loads here.
 *
 *   native            the C++ addon (native/): µs CPU, O(1) fd count, ~4 µs a sample
 *   builtin           Node built-ins and /proc from JavaScript: same fields, CPU of other pids in 10 ms ticks
 *   systeminformation spawns ps/PowerShell, rate-limited, async only, many fields NaN
 */
import { InvalidOptionError, NativeUnavailableError } from '../errors.js';
import { checkNumber, checkOneOf, checkOptions, checkPid, optionKeys } from '../validate.js';
import { builtinCanReadOthers } from './builtin.js';
import type { ProbeStatus, ProcessSample } from './layout.js';
import { loadNative, readNativeSwitch } from './native.js';
import { BuiltinProbe, NativeProbe, SystemInformationProbe } from './tiers.js';

export { assertProcessExists, statusError } from './tiers.js';

export type ProbeBackend = 'native' | 'builtin' | 'systeminformation';
export type ProbeBackendOption = 'auto' | 'native' | 'fallback' | ProbeBackend;

export interface ProbeOptions {
  /** Process to read; default this process. */
  pid?: number;
  /**
   * 'auto' (default): native, else the fallback. 'native': the addon or a NativeUnavailableError.
   * 'fallback': builtin where it can read the pid, else systeminformation. 'builtin' and
   * 'systeminformation' force that tier.
   */
  backend?: ProbeBackendOption;
  /**
   * ms between readings of the costly counts: open fds, thread count and (another pid) the
   * context switches summed over its threads, one /proc file per thread. Between readings a
   * sample carries the last one; CPU, memory, faults and the timestamp are read at every sample.
   * Default 0: every sample reads everything. Native tier on Linux only; elsewhere ignored.
   */
  countsIntervalMs?: number;
}

export interface Probe {
  readonly pid: number;
  readonly backend: ProbeBackend;
  /** Why this backend was chosen, in one line. */
  readonly backendReason: string;
  readonly closed: boolean;
  /** One sample now. Throws SyncUnsupportedError on the systeminformation tier. */
  sampleSync(): ProcessSample;
  /** One sample; every tier. */
  sample(): Promise<ProcessSample>;
  /**
   * The hot path: write FIELD_COUNT doubles at `row[offset..]` and return a ProbeStatus. Nothing is
   * allocated on the native tier. A non-OK status leaves the row untouched (ZOMBIE fills CPU
   * fields only). Throws SyncUnsupportedError on the systeminformation tier.
   */
  sampleInto(row: Float64Array, offset?: number): ProbeStatus;
  /**
   * What the children this process waited for used, they and their own waited-for descendants
   * (CHILDREN order: CPU user and system µs, minor and major faults into out[0..3]): for this
   * process read now (getrusage RUSAGE_CHILDREN), for another pid as of its last sampleInto
   * (/proc/PID/stat cutime..., 10 ms steps). Returns OK, or UNSUPPORTED where there is no source.
   */
  childrenInto(out: Float64Array): ProbeStatus;
  /** Release the kept-open handles. Idempotent. */
  close(): void;
}

const PROBE_OPTIONS = optionKeys<ProbeOptions>({ pid: true, backend: true, countsIntervalMs: true });

/** The longest options.countsIntervalMs: a day (the addon refuses more). */
const MAX_COUNTS_INTERVAL_MS = 86_400_000;

/** Every value options.backend takes (the probe's, the sampler's, the CLI's). */
export const PROBE_BACKENDS = ['auto', 'native', 'fallback', 'builtin', 'systeminformation'] as const satisfies readonly ProbeBackendOption[];

let warnedFallback = false;

/** One line, once per thread, when 'auto' falls back because the addon could not load. */
function noticeFallback(reason: string, tier: string): void {
  if (warnedFallback || readNativeSwitch().on === false) return; // switched off on purpose: nothing to warn of
  warnedFallback = true;
  process.emitWarning(`native addon unavailable (${reason}); using the ${tier} fallback`, {
    type: 'ProcprobeWarning',
    code: 'PROCPROBE_FALLBACK',
  });
}

/** Create a probe of one process (default: this one) on the best tier available. */
export function createProbe(options?: ProbeOptions): Probe {
  const opts = checkOptions('options', options, PROBE_OPTIONS, 'createProbe');
  const pid = opts.pid === undefined ? process.pid : checkPid('options.pid', opts.pid);
  const backend = opts.backend === undefined ? 'auto' : checkOneOf('options.backend', opts.backend, PROBE_BACKENDS);
  const countsIntervalMs = checkNumber('options.countsIntervalMs', opts.countsIntervalMs ?? 0, 0, MAX_COUNTS_INTERVAL_MS);
  const self = pid === process.pid;

  if (backend === 'auto' || backend === 'native') {
    const load = loadNative();
    if (load.addon) return new NativeProbe(load.addon, pid, `native: ${load.reason}`, countsIntervalMs);
    if (backend === 'native') throw new NativeUnavailableError(load.reason, load.attempts);
    const tier = self || builtinCanReadOthers ? 'builtin' : 'systeminformation';
    noticeFallback(load.reason, tier);
    return fallbackProbe(pid, tier, `${tier}: native addon ${load.reason}`);
  }
  if (backend === 'builtin' && !self && !builtinCanReadOthers) {
    throw new InvalidOptionError('options.backend', `'builtin' only for this process on ${process.platform}`, backend);
  }
  if (backend === 'fallback') {
    const tier = self || builtinCanReadOthers ? 'builtin' : 'systeminformation';
    return fallbackProbe(pid, tier, `${tier}: fallback requested`);
  }
  return fallbackProbe(pid, backend, `${backend}: requested`);
}

function fallbackProbe(pid: number, tier: 'builtin' | 'systeminformation', reason: string): Probe {
  return tier === 'builtin' ? new BuiltinProbe(pid, reason) : new SystemInformationProbe(pid, reason);
}

/** Elapsed ns of `iterations` raw C reads on a native probe (the benchmark baseline), else null. */
export function nativeBaselineNs(probe: Probe, iterations: number): number | null {
  return probe instanceof NativeProbe ? probe.baselineNs(iterations) : null;
}

/**
 * For the sampler: a native probe's combined sleep-and-read (one addon call per tick), or null
 * for the other tiers.
 */
export function nativeTick(probe: Probe): ((cell: Float64Array, row: Float64Array) => ProbeStatus) | null {
  return probe instanceof NativeProbe && !probe.closed ? (cell, row) => probe.tickInto(cell, row) : null;
}

/** For a tree's counts budget: a native probe's countsIntervalMs from now on; other tiers ignore it. */
export function setCountsInterval(probe: Probe, ms: number): void {
  if (probe instanceof NativeProbe && !probe.closed) probe.setCountsInterval(ms);
}

export type NativeLoop = (header: Int32Array, records: Float64Array, versions: Int32Array, gauges: Float64Array, layout: Int32Array, params: Float64Array, state: Float64Array, win: Float64Array) => number;

/** For the sampler: the native loop over a native probe, or null for the other tiers. */
export function nativeLoop(probe: Probe): NativeLoop | null {
  return probe instanceof NativeProbe && !probe.closed ? (...a) => probe.runLoop(...a) : null;
}

/**
 * When process `pid` started, ms since the epoch (NaN if it cannot be read). This process's own
 * from process.uptime(); another's from one probe read (its kernel start time).
 */
export function processStartEpochMs(pid: number): number {
  if (pid === process.pid) return Date.now() - process.uptime() * 1e3;
  try {
    const probe = createProbe({ pid });
    const t = probe.sampleSync().startTime;
    probe.close();
    return t;
  } catch {
    return NaN;
  }
}
