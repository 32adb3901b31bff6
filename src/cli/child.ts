/**
 * The profiled command as a child process: spawned without a shell in its own process group, its
 * output passed through or captured (and watched for --ready-pattern), its end as promises, and
 * stopped as a whole group.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RunOptions } from './args.js';

const CAPTURE_BYTES = 64 * 1024;

export interface StartedChild {
  readonly process: ChildProcess;
  /** Settles when it exits; `exit` is then "code N" or "signal S". */
  readonly exited: Promise<{ code: number | null }>;
  /** Settles if it could not be started at all. */
  readonly spawnError: Promise<Error>;
  /** Settles when a line of its output matches --ready-pattern (never without one). */
  readonly sawPattern: Promise<void>;
  exit: string | undefined;
  /** With --capture: the last 64 KiB of its output. */
  output: string;
}

/** Spawn `path` as o.command with o.args; its output goes where the options say. */
export function startChild(path: string, o: RunOptions): StartedChild {
  const pipe = o.readyPattern !== undefined || o.capture || o.json;
  const child = spawn(path, o.args, {
    cwd: o.cwd,
    argv0: o.command,
    detached: true, // its own process group: stopped as a whole, and Ctrl-C reaches us first
    stdio: ['ignore', pipe ? 'pipe' : 'inherit', pipe ? 'pipe' : 'inherit'],
  });
  let seen = (): void => undefined;
  const started: StartedChild = {
    process: child,
    exited: once(child, 'exit').then(([code, signal]) => {
      started.exit = signal ? `signal ${signal}` : `code ${code}`;
      return { code: code as number | null };
    }),
    spawnError: once(child, 'error').then(([err]) => err as Error),
    sawPattern: new Promise<void>((resolve) => (seen = resolve)),
    exit: undefined,
    output: '',
  };
  if (pipe) {
    child.stdout!.on('data', watchOutput(o, started, o.json ? process.stderr : process.stdout, seen));
    child.stderr!.on('data', watchOutput(o, started, process.stderr, seen));
  }
  return started;
}

/** One output stream: captured or forwarded, and its lines matched against --ready-pattern. */
function watchOutput(o: RunOptions, started: StartedChild, forward: NodeJS.WritableStream, seen: () => void): (chunk: Buffer) => void {
  let partial = '';
  return (chunk) => {
    const text = chunk.toString('utf8');
    if (o.capture) started.output = (started.output + text).slice(-CAPTURE_BYTES);
    else if (!o.quiet) forward.write(chunk);
    if (!o.readyPattern) return;
    const lines = (partial + text).split('\n');
    partial = lines.pop() ?? '';
    if (lines.some((l) => o.readyPattern!.test(l)) || o.readyPattern.test(partial)) seen();
  };
}

/** SIGTERM to the child's process group, SIGKILL after the grace period. */
export async function stopTree(child: ChildProcess, graceMs: number): Promise<void> {
  const exited = once(child, 'exit');
  const signal = (sig: NodeJS.Signals): void => {
    try {
      process.kill(-child.pid!, sig); // the group: the command and what it started
    } catch {
      child.kill(sig);
    }
  };
  signal('SIGTERM');
  const grace = new AbortController(); // cancel the grace timer once it exits: it must not hold the process
  const gone = await Promise.race([
    exited.then(() => true),
    sleep(graceMs, undefined, { signal: grace.signal }).then(
      () => false,
      () => true,
    ),
  ]);
  grace.abort();
  if (!gone) {
    signal('SIGKILL');
    await exited;
  }
}
