/**
 * The error catalogue. Every error procprobe throws or emits is a {@link ProcprobeError} with a
 * stable `code` (listed in the README); the class names a failure, the code is what to match on.
 */
export class ProcprobeError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** An option or argument is missing, of the wrong type or out of range. */
export class InvalidOptionError extends ProcprobeError {
  readonly option: string;
  readonly value: unknown;
  constructor(option: string, expected: string, value: unknown) {
    super('ERR_PROCPROBE_INVALID_OPTION', `${option} must be ${expected}, got ${describe(value)}`);
    this.option = option;
    this.value = value;
  }
}

/** No process has that pid. */
export class ProcessNotFoundError extends ProcprobeError {
  readonly pid: number;
  constructor(pid: number, options?: { cause?: unknown }) {
    super('ERR_PROCPROBE_NO_SUCH_PROCESS', `no process with pid ${pid}`, options);
    this.pid = pid;
  }
}

/** The process exists but this user may not read it. */
export class AccessDeniedError extends ProcprobeError {
  readonly pid: number;
  constructor(pid: number, options?: { cause?: unknown }) {
    super('ERR_PROCPROBE_ACCESS_DENIED', `access denied reading process ${pid}`, options);
    this.pid = pid;
  }
}

/** The process exited, or its pid now belongs to another process, since the probe was created. */
export class ProcessExitedError extends ProcprobeError {
  readonly pid: number;
  constructor(pid: number) {
    super('ERR_PROCPROBE_PROCESS_EXITED', `process ${pid} has exited (or its pid was reused)`);
    this.pid = pid;
  }
}

/** The process has exited but its parent has not reaped it: only CPU times remain readable. */
export class ZombieProcessError extends ProcprobeError {
  readonly pid: number;
  constructor(pid: number) {
    super('ERR_PROCPROBE_ZOMBIE', `process ${pid} is a zombie (exited, not yet reaped)`);
    this.pid = pid;
  }
}

/** `backend: 'native'` was asked for and the addon could not be loaded. */
export class NativeUnavailableError extends ProcprobeError {
  /** Every path tried, with the reason each failed. */
  readonly attempts: readonly { path: string; error: string }[];
  constructor(reason: string, attempts: readonly { path: string; error: string }[]) {
    const tried = attempts.map((a) => `  ${a.path}: ${a.error}`).join('\n');
    super(
      'ERR_PROCPROBE_NATIVE_UNAVAILABLE',
      `the native probe is not available: ${reason}${tried ? `\ntried:\n${tried}` : ''}`,
    );
    this.attempts = attempts;
  }
}

/** A synchronous read was asked of a backend that can only read asynchronously. */
export class SyncUnsupportedError extends ProcprobeError {
  constructor(backend: string, method: string) {
    super('ERR_PROCPROBE_SYNC_UNSUPPORTED', `the ${backend} backend cannot ${method}(): use await sample()`);
  }
}

/** The probe (or monitor) was used after close(). */
export class ClosedError extends ProcprobeError {
  constructor(what: string) {
    super('ERR_PROCPROBE_CLOSED', `${what} is closed`);
  }
}

/** An unexpected read or parse failure of the operating system's process information. */
export class ProbeReadError extends ProcprobeError {
  readonly pid: number;
  constructor(pid: number, detail: string, options?: { cause?: unknown }) {
    super('ERR_PROCPROBE_READ', `reading process ${pid} failed: ${detail}`, options);
    this.pid = pid;
  }
}

/**
 * The data dir, or a folder in it, is something other than a directory (a file, a FIFO, a link to
 * a device): nothing in it can be listed, and an empty history would hide that.
 */
export class DataDirLayoutError extends ProcprobeError {
  readonly path: string;
  /** What the path is instead, e.g. 'a regular file'. */
  readonly found: string;
  constructor(path: string, found: string, options?: { cause?: unknown }) {
    super('ERR_PROCPROBE_DATA_DIR_LAYOUT', `data dir: ${path} is ${found}, not a directory`, options);
    this.path = path;
    this.found = found;
  }
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'function') return 'a function';
  if (value === null || typeof value !== 'object') return String(value);
  if (Array.isArray(value)) return 'an array';
  return 'an object';
}
