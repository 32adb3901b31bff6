/**
 * spawnNative: start a command with the addon's posix_spawn and learn of its exit from a native
 * thread blocked in wait4 (native/spawn.h), for exact startup timing. Returns null where the addon
 * is absent, stale or has no native spawn (macOS, Windows): the caller then uses
 * child_process.spawn.
 *
 * Differences from child_process.spawn, on purpose:
 * - The spawn does not fork this (large) process: no page-table copy, and the main thread is
 *   blocked only until the child has exec'd. `spawnedAtMs` is CLOCK_REALTIME read just before
 *   posix_spawn, `exited.exitedAtMs` just after wait4 returned, on the waiter thread; neither
 *   waits for the event loop.
 * - The exit comes with the child's wait4 rusage (it and the descendants it reaped).
 * - No 'exit'/'close' events, no shell, no detached, no uid/gid, no IPC channel, no stdio beyond
 *   fds 0-2, no timeout or AbortSignal: the caller builds those on `exited` and `kill`.
 *
 * PATH lookup: a command with no '/' is searched for in the PATH of the child's environment
 * (`env.PATH`, else /bin:/usr/bin as execvp does), each entry resolved against the child's cwd;
 * the first regular file this user may execute wins. A command with a '/' is resolved against the
 * child's cwd. The lookup is synchronous (a few stat calls) and happens before the spawn, so it is
 * not inside the spawnedAtMs..spawnReturnedAtMs window.
 */
import { accessSync, constants as fsConstants, statSync } from 'node:fs';
import { Socket } from 'node:net';
import { constants as osConstants } from 'node:os';
import { delimiter, isAbsolute, resolve } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { getSystemErrorName } from 'node:util';
import { InvalidOptionError, SpawnError, type SpawnStep } from '../errors.js';
import { checkBoolean, checkObject, checkOptions, checkPath, checkString, optionKeys } from '../validate.js';
import { loadNative, type NativeRawExit, type NativeRusage } from './native.js';
import { nativePipeReadable } from './ready.js';

export type { NativeRusage } from './native.js';

/** What the child gets on one of its fds 0-2. */
export type NativeStdio = 'inherit' | 'pipe' | 'ignore';

export interface NativeSpawnOptions {
  /** A path, or a bare name looked up on the child's PATH. */
  command: string;
  /** Arguments after argv[0]. */
  args?: readonly string[];
  /** argv[0] as the child sees it; default: `command` as given. */
  argv0?: string;
  /** Exactly the child's environment (undefined values are left out); default: process.env. */
  env?: Readonly<Record<string, string | undefined>>;
  /** The child's working directory; default: this process's. */
  cwd?: string;
  /** One mode for fds 0-2, or one per fd; default 'pipe' (as child_process). 'ignore' is /dev/null. */
  stdio?: NativeStdio | readonly [NativeStdio, NativeStdio, NativeStdio];
  /** Start the child in a new process group (its pgid = its pid), so kill(sig, true) reaches its whole tree. */
  newProcessGroup?: boolean;
  /**
   * Start the child in a new session (setsid, as child_process's `detached`): a new process group
   * too, no controlling terminal, and, where the kernel schedules by autogroup, a CPU share of its
   * own instead of one shared with this process's threads. Implies newProcessGroup.
   */
  newSession?: boolean;
}

export interface NativeExit {
  /** Exit status, null when a signal ended it. */
  code: number | null;
  /** The signal that ended it, e.g. 'SIGTERM', else null. */
  signal: NodeJS.Signals | null;
  /** CLOCK_REALTIME ms (as Date.now(), sub-ms fraction) when wait4 returned on the waiter thread. */
  exitedAtMs: number;
  /** The same instant on CLOCK_MONOTONIC, ms (the clock of the addon's sampler deadlines). */
  exitedAtMonoMs: number;
  rusage: NativeRusage;
}

export interface NativeChild {
  readonly pid: number;
  /** CLOCK_REALTIME ms (sub-ms fraction) just before posix_spawn. */
  readonly spawnedAtMs: number;
  /** CLOCK_REALTIME ms just after posix_spawn returned (the child had exec'd). */
  readonly spawnReturnedAtMs: number;
  /** The same two instants on CLOCK_MONOTONIC, ms. */
  readonly spawnedAtMonoMs: number;
  readonly spawnReturnedAtMonoMs: number;
  /** Writable end of the child's fd 0 when stdio[0] is 'pipe', else null. */
  readonly stdin: Writable | null;
  /**
   * Readable ends of fds 1 and 2 when 'pipe', else null. They end when the child (and every
   * process holding the pipe) closes it. With the addon a native thread reads them, and
   * chunkReadAt(chunk) tells when each chunk's read returned.
   */
  readonly stdout: Readable | null;
  readonly stderr: Readable | null;
  /** Resolves once with the exit; rejects with SpawnError (step 'wait') only if the child could not be reaped. */
  readonly exited: Promise<NativeExit>;
  /** Send a signal (default SIGTERM) to the child, or to its process group when `group` (needs newProcessGroup or newSession). false once it has exited. */
  kill(signal?: NodeJS.Signals | number, group?: boolean): boolean;
}

const MODES: Readonly<Record<NativeStdio, number>> = { inherit: 0, pipe: 1, ignore: 2 };

/** Start `opts.command` natively, or null when this platform or build has no native spawn. */
export function spawnNative(options: NativeSpawnOptions): NativeChild | null {
  const opts = checkSpawnOptions(options);
  const addon = loadNative().addon;
  if (!addon || addon.spawnSupported !== true || typeof addon.spawn !== 'function') return null;
  const cwd = opts.cwd === undefined ? null : resolve(opts.cwd);
  const env = opts.env ?? process.env;
  const file = findCommand(opts.command, env.PATH, cwd ?? process.cwd());
  const argv = [opts.argv0 ?? opts.command, ...(opts.args ?? [])];
  const envp = Object.entries(env).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${v}`);
  const stdio = stdioModes(opts.stdio);
  let settle: ((e: NativeRawExit) => void) | undefined;
  const early: NativeRawExit[] = [];
  const r = addon.spawn(file, argv, envp, cwd, stdio, opts.newSession ? 2 : opts.newProcessGroup ? 1 : 0, (e) => (settle ? settle(e) : early.push(e)));
  if (!('pid' in r)) {
    const step = r.step as SpawnStep;
    throw new SpawnError(step === 'cwd' ? cwd! : file, step, getSystemErrorName(-r.err));
  }
  let done = false;
  const exited = new Promise<NativeExit>((ok, fail) => {
    settle = (e) => {
      done = true;
      if (e.err !== 0) fail(new SpawnError(file, 'wait', getSystemErrorName(-e.err)));
      else ok(toExit(e));
    };
    // The exit is delivered through the event loop, never during this call; kept for safety.
    if (early.length > 0) settle(early[0]!);
  });
  const pid = r.pid;
  return {
    pid,
    spawnedAtMs: r.beforeMs,
    spawnReturnedAtMs: r.afterMs,
    spawnedAtMonoMs: r.beforeMonoMs,
    spawnReturnedAtMonoMs: r.afterMonoMs,
    stdin: r.fds[0] >= 0 ? new Socket({ fd: r.fds[0], readable: false, writable: true }) : null,
    stdout: r.fds[1] >= 0 ? readEnd(r.fds[1]) : null,
    stderr: r.fds[2] >= 0 ? readEnd(r.fds[2]) : null,
    exited,
    kill(signal: NodeJS.Signals | number = 'SIGTERM', group = false): boolean {
      // After the waiter reaped it the pid may belong to someone else: never signal it then.
      // (Between wait4 returning and `done` being set here the same holds; that window is the
      // event loop's latency, and the same as child_process's.)
      if (done) return false;
      try {
        process.kill(group ? -pid : pid, signal);
        return true;
      } catch {
        return false;
      }
    },
  };
}

/** A read end: a native reader thread stamping each chunk (chunkReadAt), else a Socket on the event loop. */
function readEnd(fd: number): Readable {
  return nativePipeReadable(fd) ?? new Socket({ fd, readable: true, writable: false });
}

const SPAWN_OPTIONS = optionKeys<NativeSpawnOptions>({
  command: true,
  args: true,
  argv0: true,
  env: true,
  cwd: true,
  stdio: true,
  newProcessGroup: true,
  newSession: true,
});

/** Every option of spawnNative checked (stdio by stdioModes), on every platform: before it knows whether it can spawn. */
function checkSpawnOptions(options: unknown): NativeSpawnOptions {
  const o = checkOptions('options', options, SPAWN_OPTIONS, 'spawnNative') as Partial<NativeSpawnOptions>;
  checkString('options.command', o.command);
  if (o.args !== undefined) {
    if (!Array.isArray(o.args)) throw new InvalidOptionError('options.args', 'an array of strings', o.args);
    o.args.forEach((a, i) => checkText(`options.args[${i}]`, a));
  }
  if (o.argv0 !== undefined) checkText('options.argv0', o.argv0);
  if (o.cwd !== undefined) checkPath('options.cwd', o.cwd);
  if (o.env !== undefined) {
    checkObject('options.env', o.env);
    for (const [k, v] of Object.entries(o.env)) if (v !== undefined) checkText(`options.env.${k}`, v);
  }
  if (o.newProcessGroup !== undefined) checkBoolean('options.newProcessGroup', o.newProcessGroup);
  if (o.newSession !== undefined) checkBoolean('options.newSession', o.newSession);
  return o as NativeSpawnOptions;
}

/** A string the child gets in its argv or environment: C strings end at a NUL, so none inside. */
function checkText(name: string, value: unknown): void {
  if (typeof value !== 'string' || value.includes('\0')) throw new InvalidOptionError(name, 'a string without NUL', value);
}

function stdioModes(stdio: NativeSpawnOptions['stdio']): Int32Array {
  const list: readonly unknown[] = stdio === undefined ? ['pipe', 'pipe', 'pipe'] : typeof stdio === 'string' ? [stdio, stdio, stdio] : stdio;
  if (!Array.isArray(list) || list.length !== 3) throw new InvalidOptionError('options.stdio', "'inherit', 'pipe', 'ignore' or an array of 3 of them", stdio);
  return Int32Array.from(list, (m, i) => {
    const code = typeof m === 'string' ? MODES[m as NativeStdio] : undefined;
    if (code === undefined) throw new InvalidOptionError(`options.stdio[${i}]`, "'inherit', 'pipe' or 'ignore'", m);
    return code;
  });
}

/** The file execvp would run for `command` (see the module comment). */
export function findCommand(command: string, path: string | undefined, cwd: string): string {
  if (typeof command !== 'string' || command === '') throw new InvalidOptionError('options.command', 'a non-empty string', command);
  if (command.includes('/')) return isAbsolute(command) ? command : resolve(cwd, command);
  for (const dir of (path ?? '/bin:/usr/bin').split(delimiter)) {
    // An empty entry is the current directory (POSIX), here the child's.
    const file = resolve(cwd, dir === '' ? '.' : dir, command);
    try {
      if (!statSync(file).isFile()) continue;
      accessSync(file, fsConstants.X_OK);
      return file;
    } catch {
      // not there, or not executable: the next entry
    }
  }
  throw new SpawnError(command, 'path', 'ENOENT');
}

const SIGNAL_NAMES = new Map(Object.entries(osConstants.signals).map(([name, n]) => [n, name as NodeJS.Signals]));

function toExit(e: NativeRawExit): NativeExit {
  return {
    code: e.signal !== 0 ? null : e.code,
    signal: e.signal !== 0 ? (SIGNAL_NAMES.get(e.signal) ?? null) : null,
    exitedAtMs: e.exitedAtMs,
    exitedAtMonoMs: e.exitedAtMonoMs,
    rusage: { ...e.rusage },
  };
}
