/**
 * createProbe: one process, read exactly and cheaply, through the best tier that loads here.
 *
 *   native            the C++ addon (native/): µs CPU, O(1) fd count, ~4 µs a sample
 *   builtin           Node built-ins and /proc from JavaScript: same fields, CPU of other pids in 10 ms ticks
 *   systeminformation spawns ps/PowerShell, rate-limited, async only, many fields NaN
 */
import {
  AccessDeniedError,
  ClosedError,
  InvalidOptionError,
  NativeUnavailableError,
  ProbeReadError,
  ProcessExitedError,
  ProcessNotFoundError,
  ProcprobeError,
  SyncUnsupportedError,
  ZombieProcessError,
} from '../errors.js';
import { checkInteger, checkNumber, checkOneOf, checkOptions, checkPid, optionKeys } from '../validate.js';
import { BuiltinReader, builtinCanReadOthers } from './builtin.js';
import { FIELD_COUNT, ProbeStatus, childrenError, rowError, rowToSample, type ProcessSample } from './layout.js';
import { loadNative, readNativeSwitch, type NativeAddon } from './native.js';
import { SystemInformationReader } from './si.js';

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

/** The typed error for a non-OK status. */
export function statusError(status: number, pid: number): ProcprobeError {
  switch (status) {
    case ProbeStatus.NOT_FOUND:
      return new ProcessNotFoundError(pid);
    case ProbeStatus.ACCESS_DENIED:
      return new AccessDeniedError(pid);
    case ProbeStatus.EXITED:
      return new ProcessExitedError(pid);
    case ProbeStatus.ZOMBIE:
      return new ZombieProcessError(pid);
    case ProbeStatus.UNSUPPORTED:
      return new ProbeReadError(pid, `not supported on ${process.platform}`);
    default:
      return new ProbeReadError(pid, `status ${status}`);
  }
}

abstract class BaseProbe implements Probe {
  readonly pid: number;
  abstract readonly backend: ProbeBackend;
  readonly backendReason: string;
  protected row = new Float64Array(FIELD_COUNT);
  protected isClosed = false;

  constructor(pid: number, reason: string) {
    this.pid = pid;
    this.backendReason = reason;
  }

  get closed(): boolean {
    return this.isClosed;
  }

  abstract sampleInto(row: Float64Array, offset?: number): ProbeStatus;
  abstract childrenInto(out: Float64Array): ProbeStatus;
  protected abstract release(): void;

  sampleSync(): ProcessSample {
    const status = this.sampleInto(this.row, 0);
    if (status !== ProbeStatus.OK) throw statusError(status, this.pid);
    return rowToSample(this.row, 0);
  }

  async sample(): Promise<ProcessSample> {
    return this.sampleSync();
  }

  protected assertOpen(): void {
    if (this.isClosed) throw new ClosedError(`probe of pid ${this.pid}`);
  }

  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.release();
  }
}

class NativeProbe extends BaseProbe {
  readonly backend = 'native' as const;
  readonly #addon: NativeAddon;
  readonly #handle: number;

  constructor(addon: NativeAddon, pid: number, reason: string, countsIntervalMs: number) {
    super(pid, reason);
    const handle = addon.open(pid === process.pid ? 0 : pid);
    if (handle < 0) throw statusError(-handle, pid);
    this.#addon = addon;
    this.#handle = handle;
    if (countsIntervalMs > 0) addon.setCountsInterval(handle, countsIntervalMs);
  }

  sampleInto(row: Float64Array, offset = 0): ProbeStatus {
    if (this.isClosed) this.assertOpen();
    try {
      return this.#addon.sampleInto(this.#handle, row, offset) as ProbeStatus;
    } catch (err) {
      // The addon refused an argument: the same refusal in its class (see rowError).
      throw rowError(row, offset) ?? err;
    }
  }

  childrenInto(out: Float64Array): ProbeStatus {
    this.assertOpen();
    try {
      return this.#addon.childrenInto(this.#handle, out) as ProbeStatus;
    } catch (err) {
      throw childrenError(out) ?? err; // the addon's refusal, in its class
    }
  }

  /** The sampler's tick: sleep to cell[1], wake-up time into cell[0], a read into row (see NativeAddon.tick). */
  tickInto(cell: Float64Array, row: Float64Array): ProbeStatus {
    return this.#addon.tick(this.#handle, cell, row) as ProbeStatus;
  }

  /** The sampler's loop in C over this probe (see NativeAddon.runLoop). */
  runLoop(header: Int32Array, records: Float64Array, versions: Int32Array, gauges: Float64Array, layout: Int32Array, params: Float64Array, state: Float64Array, win: Float64Array): number {
    return this.#addon.runLoop(this.#handle, header, records, versions, gauges, layout, params, state, win);
  }

  /** Elapsed ns of `iterations` reads of the same system calls in a C loop (benchmark baseline). */
  baselineNs(iterations: number): number {
    this.assertOpen();
    checkInteger('iterations', iterations, 0, 1e8);
    return this.#addon.baseline(this.#handle, iterations);
  }

  protected release(): void {
    this.#addon.close(this.#handle);
  }
}

class BuiltinProbe extends BaseProbe {
  readonly backend = 'builtin' as const;
  readonly #reader: BuiltinReader;

  constructor(pid: number, reason: string) {
    super(pid, reason);
    this.#reader = new BuiltinReader(pid);
    if (this.#reader.openStatus !== ProbeStatus.OK) {
      this.#reader.close();
      throw statusError(this.#reader.openStatus, pid);
    }
  }

  sampleInto(row: Float64Array, offset = 0): ProbeStatus {
    this.assertOpen();
    const bad = rowError(row, offset);
    if (bad) throw bad;
    return this.#reader.readInto(row, offset);
  }

  childrenInto(out: Float64Array): ProbeStatus {
    this.assertOpen();
    const bad = childrenError(out);
    if (bad) throw bad;
    return this.#reader.readChildren(out);
  }

  protected release(): void {
    this.#reader.close();
  }
}

class SystemInformationProbe extends BaseProbe {
  readonly backend = 'systeminformation' as const;
  readonly #reader: SystemInformationReader;

  constructor(pid: number, reason: string) {
    super(pid, reason);
    assertProcessExists(pid);
    this.#reader = new SystemInformationReader(pid);
  }

  sampleInto(): ProbeStatus {
    throw new SyncUnsupportedError(this.backend, 'sampleInto');
  }

  childrenInto(): ProbeStatus {
    return ProbeStatus.UNSUPPORTED; // systeminformation reports no reaped-children totals
  }

  override sampleSync(): ProcessSample {
    throw new SyncUnsupportedError(this.backend, 'sampleSync');
  }

  override async sample(): Promise<ProcessSample> {
    this.assertOpen();
    const status = await this.#reader.readInto(this.row, 0);
    if (status !== ProbeStatus.OK) throw statusError(status, this.pid);
    return rowToSample(this.row, 0);
  }

  protected release(): void {}
}

/** Signal 0 checks existence and permission without touching the process. */
export function assertProcessExists(pid: number): void {
  try {
    process.kill(pid, 0);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ESRCH') throw new ProcessNotFoundError(pid, { cause: err });
    if (code !== 'EPERM') throw new ProbeReadError(pid, String(code), { cause: err });
  }
}

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
