/**
 * The probe tiers behind createProbe (probe.ts): one class per tier over a shared base (the sync
 * and async sample forms, close()), and the typed error for a read's status. Only probe.ts
 * constructs them; the sampler reaches the native tier's extras through probe.ts's hooks.
 */
import {
  AccessDeniedError,
  ClosedError,
  ProbeReadError,
  ProcessExitedError,
  ProcessNotFoundError,
  ProcprobeError,
  SyncUnsupportedError,
  ZombieProcessError,
} from '../errors.js';
import { checkInteger } from '../validate.js';
import { BuiltinReader } from './builtin.js';
import { FIELD_COUNT, ProbeStatus, childrenError, rowError, rowToSample, type ProcessSample } from './layout.js';
import type { NativeAddon } from './native.js';
import type { Probe, ProbeBackend } from './probe.js';
import { SystemInformationReader } from './si.js';

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

export class NativeProbe extends BaseProbe {
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

  /** The costly counts at most every `ms` from the next read on (setCountsInterval in probe.ts). */
  setCountsInterval(ms: number): void {
    this.#addon.setCountsInterval(this.#handle, ms);
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

export class BuiltinProbe extends BaseProbe {
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

export class SystemInformationProbe extends BaseProbe {
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
