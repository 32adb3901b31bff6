/**
 * The profiled command as a child process: spawned without a shell in its own process group, its
 * output passed through or captured (and watched for --ready-pattern), its end as promises, and
 * stopped as a whole group.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadNative } from '../probe/native.js';
import { chunkReadAt, monoToNow } from '../probe/ready.js';
import { spawnNative, type NativeChild, type NativeRusage } from '../probe/spawn.js';
import type { RunOptions } from './args.js';

const CAPTURE_BYTES = 64 * 1024;

export interface ChildExit {
  code: number | null;
  /** The signal that ended it (code null), else null. */
  signal: NodeJS.Signals | null;
  /** When the exit happened, on the performance.now() clock (ms): exact with the native spawn. */
  atMono: number;
  /** The command's wait4 rusage (itself and the descendants it reaped): native spawn only. */
  rusage?: NativeRusage;
}

export interface StartedChild {
  readonly pid: number;
  /** 'native': posix_spawn and a wait4 thread (exact instants); 'node': child_process. */
  readonly how: 'native' | 'node';
  /** Just before the spawn, on the performance.now() clock (ms). */
  readonly spawnedAtMono: number;
  /** Settles when it exits; `exit` is then "code N" or "signal S". */
  readonly exited: Promise<ChildExit>;
  /** Settles if it could not be started at all. */
  readonly spawnError: Promise<Error>;
  /**
   * Settles when a line of its output matches --ready-pattern (never without one), with the
   * instant (performance.now() ms) the read of the chunk that completed the match returned: on
   * the native reader's thread with the addon, else when the event loop got the chunk.
   */
  readonly sawPattern: Promise<number>;
  exit: string | undefined;
  /** With --capture: the last 64 KiB of its output. */
  output: string;
  /** Signal its process group (the command and what it started), or it alone if that fails. */
  signal(sig: NodeJS.Signals): void;
  /** --keep: let it run on after procprobe exits (node spawn only). */
  release(): void;
}

/**
 * Spawn `path` as o.command with o.args; its output goes where the options say. With the addon
 * the spawn is posix_spawn (no fork of this large process) and the exit is stamped by a thread
 * blocked in wait4; --keep (the command outlives procprobe) and a missing addon use child_process.
 */
export function startChild(path: string, o: RunOptions, env: NodeJS.ProcessEnv = process.env): StartedChild {
  const pipe = o.readyPattern !== undefined || o.capture || o.json;
  const out = pipe ? 'pipe' : 'inherit';
  let seen = (_at: number): void => undefined;
  const sawPattern = new Promise<number>((resolve) => (seen = resolve));
  const started = (o.keep ? null : nativeChild(path, o, out, sawPattern, env)) ?? nodeChild(path, o, out, sawPattern, env);
  if (started.streams) {
    started.streams[0]?.on('data', watchOutput(o, started.child, o.json ? process.stderr : process.stdout, seen));
    started.streams[1]?.on('data', watchOutput(o, started.child, process.stderr, seen));
  }
  return started.child;
}

type Made = { child: StartedChild; streams: [Readable | null, Readable | null] | null };

const never = new Promise<never>(() => undefined);

function nativeChild(path: string, o: RunOptions, out: 'pipe' | 'inherit', sawPattern: Promise<number>, env: NodeJS.ProcessEnv): Made | null {
  const native = loadNative().addon;
  if (!native) return null;
  const toNow = monoToNow(native); // the addon's instants are CLOCK_MONOTONIC ms
  let c: NativeChild | null;
  try {
    c = spawnNative({ command: path, args: o.args, argv0: o.command, env, ...(o.cwd ? { cwd: o.cwd } : {}), stdio: ['ignore', out, out], newSession: true }); // as `detached` below: its own session
  } catch (err) {
    return { child: failed(err as Error, sawPattern), streams: null };
  }
  if (!c) return null;
  const nc = c;
  const child: StartedChild = {
    pid: nc.pid,
    how: 'native',
    spawnedAtMono: toNow(nc.spawnedAtMonoMs),
    exited: nc.exited.then((e) => {
      child.exit = e.signal ? `signal ${e.signal}` : `code ${e.code}`;
      return { code: e.code, signal: e.signal, atMono: toNow(e.exitedAtMonoMs), rusage: e.rusage };
    }),
    spawnError: never,
    sawPattern,
    exit: undefined,
    output: '',
    signal: (sig) => void (nc.kill(sig, true) || nc.kill(sig)),
    release: () => undefined,
  };
  return { child, streams: out === 'pipe' ? [nc.stdout, nc.stderr] : null };
}

/** A command that could not be started (not found, not executable, a bad cwd). */
function failed(err: Error, sawPattern: Promise<number>): StartedChild {
  return { pid: NaN, how: 'native', spawnedAtMono: performance.now(), exited: never, spawnError: Promise.resolve(err), sawPattern, exit: undefined, output: '', signal: () => undefined, release: () => undefined };
}

function nodeChild(path: string, o: RunOptions, out: 'pipe' | 'inherit', sawPattern: Promise<number>, env: NodeJS.ProcessEnv): Made {
  const spawnedAtMono = performance.now();
  const proc: ChildProcess = spawn(path, o.args, {
    cwd: o.cwd,
    argv0: o.command,
    env,
    detached: true, // its own process group: stopped as a whole, and Ctrl-C reaches us first
    stdio: ['ignore', out, out],
  });
  const child: StartedChild = {
    pid: proc.pid ?? NaN,
    how: 'node',
    spawnedAtMono,
    exited: once(proc, 'exit').then(([code, signal]) => {
      child.exit = signal ? `signal ${signal}` : `code ${code}`;
      return { code: code as number | null, signal: signal as NodeJS.Signals | null, atMono: performance.now() };
    }),
    spawnError: once(proc, 'error').then(([err]) => err as Error),
    sawPattern,
    exit: undefined,
    output: '',
    signal: (sig) => {
      try {
        process.kill(-proc.pid!, sig); // the group: the command and what it started
      } catch {
        proc.kill(sig);
      }
    },
    release: () => {
      proc.stdout?.destroy();
      proc.stderr?.destroy();
      proc.unref();
    },
  };
  return { child, streams: out === 'pipe' ? [proc.stdout, proc.stderr] : null };
}

/** One output stream: captured or forwarded, and its lines matched against --ready-pattern. */
function watchOutput(o: RunOptions, started: StartedChild, forward: NodeJS.WritableStream, seen: (at: number) => void): (chunk: Buffer) => void {
  let partial = '';
  return (chunk) => {
    const text = chunk.toString('utf8');
    if (o.capture) started.output = (started.output + text).slice(-CAPTURE_BYTES);
    else if (!o.quiet) forward.write(chunk);
    if (!o.readyPattern) return;
    const lines = (partial + text).split('\n');
    partial = lines.pop() ?? '';
    // The match is complete with this chunk: ready when its read returned.
    if (lines.some((l) => o.readyPattern!.test(l)) || o.readyPattern.test(partial)) seen(chunkReadAt(chunk) ?? performance.now());
  };
}

/** SIGTERM to the child's process group, SIGKILL after the grace period. */
export async function stopTree(child: StartedChild, graceMs: number): Promise<void> {
  child.signal('SIGTERM');
  const grace = new AbortController(); // cancel the grace timer once it exits: it must not hold the process
  const gone = await Promise.race([
    child.exited.then(() => true),
    sleep(graceMs, undefined, { signal: grace.signal }).then(
      () => false,
      () => true,
    ),
  ]);
  grace.abort();
  if (!gone) {
    child.signal('SIGKILL');
    await child.exited;
  }
}
