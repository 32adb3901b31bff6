/**
 * The error catalogue: every error procprobe throws or emits is a subclass of ProcprobeError with
 * a stable `code` (README "Errors" lists them 1:1, test/errors.catalogue.test.ts checks); the
 * class names a failure, the code is what to match on.
 *
 * `instanceof` works across threads and across duplicate copies of the package: an error crosses
 * a worker boundary as ErrorData and is rebuilt into its class by code (rebuildError), and every
 * procprobe error carries a brand under a registry symbol (Symbol.for), the same in every copy,
 * which `instanceof` checks together with the class's code.
 */
import type { EventEmitter } from 'node:events';

const BRAND = Symbol.for('procprobe.error');

export class ProcprobeError extends Error {
  /** The code of the class's errors; '' on ProcprobeError itself (it matches them all). */
  static readonly code: string = '';
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }

  get [BRAND](): true {
    return true;
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    if (typeof value !== 'object' || value === null || (value as { [BRAND]?: unknown })[BRAND] !== true) return false;
    const code = (this as typeof ProcprobeError).code;
    return code === '' || Function.prototype[Symbol.hasInstance].call(this, value) || (value as ProcprobeError).code === code;
  }
}

/** An option or argument is missing, of the wrong type or out of range. */
export class InvalidOptionError extends ProcprobeError {
  static override readonly code = 'ERR_PROCPROBE_INVALID_OPTION';
  readonly option: string;
  readonly value: unknown;
  constructor(option: string, expected: string, value: unknown) {
    super(InvalidOptionError.code, `${option} must be ${expected}, got ${describe(value)}`);
    this.option = option;
    this.value = value;
  }
}

/** No process has that pid. */
export class ProcessNotFoundError extends ProcprobeError {
  static override readonly code = 'ERR_PROCPROBE_NO_SUCH_PROCESS';
  readonly pid: number;
  constructor(pid: number, options?: { cause?: unknown }) {
    super(ProcessNotFoundError.code, `no process with pid ${pid}`, options);
    this.pid = pid;
  }
}

/** The process exists but this user may not read it. */
export class AccessDeniedError extends ProcprobeError {
  static override readonly code = 'ERR_PROCPROBE_ACCESS_DENIED';
  readonly pid: number;
  constructor(pid: number, options?: { cause?: unknown }) {
    super(AccessDeniedError.code, `access denied reading process ${pid}`, options);
    this.pid = pid;
  }
}

/** The process exited, or its pid now belongs to another process, since the probe was created. */
export class ProcessExitedError extends ProcprobeError {
  static override readonly code = 'ERR_PROCPROBE_PROCESS_EXITED';
  readonly pid: number;
  constructor(pid: number) {
    super(ProcessExitedError.code, `process ${pid} has exited (or its pid was reused)`);
    this.pid = pid;
  }
}

/** The process has exited but its parent has not reaped it: only CPU times remain readable. */
export class ZombieProcessError extends ProcprobeError {
  static override readonly code = 'ERR_PROCPROBE_ZOMBIE';
  readonly pid: number;
  constructor(pid: number) {
    super(ZombieProcessError.code, `process ${pid} is a zombie (exited, not yet reaped)`);
    this.pid = pid;
  }
}

/** `backend: 'native'` was asked for and the addon could not be loaded. */
export class NativeUnavailableError extends ProcprobeError {
  static override readonly code = 'ERR_PROCPROBE_NATIVE_UNAVAILABLE';
  /** Every path tried, with the reason each failed. */
  readonly attempts: readonly { path: string; error: string }[];
  constructor(reason: string, attempts: readonly { path: string; error: string }[]) {
    const tried = attempts.map((a) => `  ${a.path}: ${a.error}`).join('\n');
    super(
      NativeUnavailableError.code,
      `the native probe is not available: ${reason}${tried ? `\ntried:\n${tried}` : ''}`,
    );
    this.attempts = attempts;
  }
}

/** A synchronous read was asked of a backend that can only read asynchronously. */
export class SyncUnsupportedError extends ProcprobeError {
  static override readonly code = 'ERR_PROCPROBE_SYNC_UNSUPPORTED';
  constructor(backend: string, method: string) {
    super(SyncUnsupportedError.code, `the ${backend} backend cannot ${method}(): use await sample()`);
  }
}

/** The probe (or monitor) was used after close(). */
export class ClosedError extends ProcprobeError {
  static override readonly code = 'ERR_PROCPROBE_CLOSED';
  constructor(what: string) {
    super(ClosedError.code, `${what} is closed`);
  }
}

/** An unexpected read or parse failure of the operating system's process information. */
export class ProbeReadError extends ProcprobeError {
  static override readonly code = 'ERR_PROCPROBE_READ';
  readonly pid: number;
  constructor(pid: number, detail: string, options?: { cause?: unknown }) {
    super(ProbeReadError.code, `reading process ${pid} failed: ${detail}`, options);
    this.pid = pid;
  }
}

/** Where a native spawn failed (SpawnError.step). */
export type SpawnStep = 'path' | 'pipe' | 'setup' | 'exec' | 'cwd' | 'thread' | 'wait';

const SPAWN_STEPS: Readonly<Record<SpawnStep, string>> = {
  path: 'not found on the PATH',
  pipe: 'creating its stdio pipes failed',
  setup: 'setting up posix_spawn failed',
  exec: 'exec failed',
  cwd: 'its working directory cannot be entered',
  thread: 'no thread could be started to wait for it (the child was killed)',
  wait: 'waiting for its exit failed',
};

/** A command could not be started, or its exit not awaited, by the native spawn. */
export class SpawnError extends ProcprobeError {
  static override readonly code = 'ERR_PROCPROBE_SPAWN';
  /** The command (as given, or the resolved file), or the cwd when step is 'cwd'. */
  readonly path: string;
  readonly step: SpawnStep;
  /** The system error name, e.g. 'ENOENT', 'EACCES', 'ECHILD'. */
  readonly errno: string;
  constructor(path: string, step: SpawnStep, errno: string, options?: { cause?: unknown }) {
    const what = step === 'cwd' ? `a command in ${path}` : path;
    super(SpawnError.code, `cannot start ${what}: ${SPAWN_STEPS[step]} (${errno})`, options);
    this.path = path;
    this.step = step;
    this.errno = errno;
  }
}

/**
 * The data dir, or a folder in it, is something other than a directory (a file, a FIFO, a link to
 * a device): nothing in it can be listed, and an empty history would hide that.
 */
export class DataDirLayoutError extends ProcprobeError {
  static override readonly code = 'ERR_PROCPROBE_DATA_DIR_LAYOUT';
  readonly path: string;
  /** What the path is instead, e.g. 'a regular file'. */
  readonly found: string;
  constructor(path: string, found: string, options?: { cause?: unknown }) {
    super(DataDirLayoutError.code, `data dir: ${path} is ${found}, not a directory`, options);
    this.path = path;
    this.found = found;
  }
}

/** A failure its message describes alone: the subclass gives only its code (and its doc). */
abstract class MessageError extends ProcprobeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super((new.target as unknown as typeof ProcprobeError).code, message, options);
  }
}

/** Misuse of the timing or session API (a second finish, an unknown id, no open session). */
export class SessionStateError extends MessageError {
  static override readonly code = 'ERR_PROCPROBE_SESSION_STATE';
}

/** The data dir cannot be created, written or listed. */
export class DataDirError extends ProcprobeError {
  static override readonly code = 'ERR_PROCPROBE_DATA_DIR';
  readonly path: string;
  /** What is wrong with it, e.g. 'not writable'. */
  readonly detail: string;
  constructor(path: string, detail: string, options?: { cause?: unknown }) {
    super(DataDirError.code, `data dir ${path}: ${detail}`, options);
    this.path = path;
    this.detail = detail;
  }
}

/** Writing a session file failed (emitted as 'error'; the session is still returned). */
export class HistoryWriteError extends MessageError {
  static override readonly code = 'ERR_PROCPROBE_HISTORY_WRITE';
}

/** Bytes given to importHistory are not a history export. */
export class HistoryFormatError extends MessageError {
  static override readonly code = 'ERR_PROCPROBE_HISTORY_FORMAT';
}

/**
 * A baseline file (`run --baseline`) is not one: not JSON, another program's JSON, a newer
 * format, or missing the runs or phases a comparison needs. The CLI exits 2 (the command line
 * named the wrong file).
 */
export class BaselineFormatError extends MessageError {
  static override readonly code = 'ERR_PROCPROBE_BASELINE_FORMAT';
}

/** A history file was skipped or repaired while loading (emitted as 'warning', naming it). */
export class HistorySkippedError extends MessageError {
  static override readonly code = 'ERR_PROCPROBE_HISTORY_SKIPPED';
}

/** A custom metric callback misbehaved (emitted once per problem as 'warning'). */
export class CallbackError extends MessageError {
  static override readonly code = 'ERR_PROCPROBE_CALLBACK';
}

/** The sampler stopped before its first sample, or its worker reported a failure. */
export class SamplerError extends MessageError {
  static override readonly code = 'ERR_PROCPROBE_SAMPLER';
}

/** The sampler's worker thread died (emitted as 'error'). */
export class WorkerFailedError extends MessageError {
  static override readonly code = 'ERR_PROCPROBE_WORKER_FAILED';
}

/** The systeminformation tier raised the sampling interval to what it can do (emitted as 'warning'). */
export class IntervalClampedWarning extends MessageError {
  static override readonly code = 'PROCPROBE_INTERVAL_CLAMPED';
}

/** Bad command-line usage: the CLI prints its one line and exits 2. */
export class UsageError extends MessageError {
  static override readonly code = 'ERR_PROCPROBE_USAGE';
}

/** Every class of the catalogue, by code. */
export const ERROR_CLASSES: Readonly<Record<string, typeof ProcprobeError>> = Object.freeze(
  Object.fromEntries(
    [
      InvalidOptionError, ProcessNotFoundError, AccessDeniedError, ProcessExitedError, ZombieProcessError, NativeUnavailableError,
      SyncUnsupportedError, ClosedError, ProbeReadError, SpawnError, DataDirLayoutError, SessionStateError, DataDirError, HistoryWriteError,
      HistoryFormatError, BaselineFormatError, HistorySkippedError, CallbackError, SamplerError, WorkerFailedError, IntervalClampedWarning, UsageError,
    ].map((c) => [c.code, c as typeof ProcprobeError]),
  ),
);

/** An error as data, for a message between threads (structured clone keeps no class). */
export interface ErrorData {
  name: string;
  code: string | undefined;
  message: string;
  stack: string | undefined;
  /** The error's own fields (pid, path, option...), those that survive a structured clone. */
  props: Record<string, unknown>;
}

export function errorData(err: unknown): ErrorData {
  const e = (err instanceof Error ? err : new Error(String(err))) as Error & { code?: unknown };
  const props: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(e)) {
    if (k === 'code' || k === 'name' || k === 'message' || k === 'stack' || k === 'cause') continue;
    try {
      props[k] = structuredClone(v);
    } catch {
      // a function or the like: the message already describes it
    }
  }
  return { name: e.name, code: typeof e.code === 'string' ? e.code : undefined, message: e.message, stack: e.stack, props };
}

/** The error back in its class (by code); one without a known code becomes a `fallback`. */
export function rebuildError(d: ErrorData, fallback: new (message: string) => ProcprobeError = SamplerError): ProcprobeError {
  const cls = d.code === undefined ? undefined : ERROR_CLASSES[d.code];
  if (!cls) return new fallback(d.message);
  // Not through the constructor: each builds its message from its own arguments.
  const err = Object.create(cls.prototype) as ProcprobeError;
  Object.defineProperties(err, {
    message: { value: d.message, writable: true, configurable: true },
    stack: { value: d.stack, writable: true, configurable: true },
  });
  Object.assign(err, d.props, { code: d.code, name: cls.name });
  return err;
}

/** An 'error' or 'warning' for an emitter's listeners, or a process warning when it has none (never a throw). */
export function emitOrWarn(emitter: EventEmitter, event: 'error' | 'warning', err: ProcprobeError): void {
  if (emitter.listenerCount(event) > 0) emitter.emit(event, err);
  else process.emitWarning(err.message, { type: 'ProcprobeWarning', code: err.code });
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'function') return 'a function';
  if (value === null || typeof value !== 'object') return String(value);
  if (Array.isArray(value)) return 'an array';
  const proto = Object.getPrototypeOf(value);
  // A Map, a Date, a class instance: say which, since "an object" is what was expected.
  if (proto !== Object.prototype && proto !== null && typeof proto?.constructor?.name === 'string') {
    const name: string = proto.constructor.name;
    return `${/^[AEIO]/.test(name) ? 'an' : 'a'} ${name}`; // 'a Uint8Array', 'an Int32Array'
  }
  return 'an object';
}
