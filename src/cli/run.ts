/**
 * One startup of a command, timed in the seed's phases, with its process tree sampled:
 *
 *   environment_validation  command on PATH, cwd exists, --require-env set
 *   port_management         --port free before start (else who holds it)
 *   process_startup         spawn (never through a shell) until ready: port accepting,
 *                           --ready-pattern seen, or (one-shot) exit 0
 *   health_verification     --health-url answers 2xx
 *   total_startup           spawn to healthy
 *
 * The sampler runs in this process, over its descendants only (tree, excludeRoot), and is ready
 * before the spawn so the child's first millisecond is sampled.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { statSync } from 'node:fs';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import type { PerformanceMonitor } from '../performance-monitor.js';
import type { StartupSession } from '../session/session.js';
import { StartupPhase } from '../session/constants.js';
import type { RunOptions } from './args.js';
import { checkPortFree, resolveCommand, waitForHealth, waitForPort } from './checks.js';
import type { Progress } from './terminal.js';

export interface RunOutcome {
  session: StartupSession;
  ok: boolean;
  warmup: boolean;
  failedPhase?: string;
  reason?: string;
  /** The child's exit code or signal, if it exited before we stopped it. */
  childExit?: string;
  /** With --capture: the last 64 KiB of the child's output. */
  output?: string;
  interrupted: boolean;
}

const CAPTURE_BYTES = 64 * 1024;

export async function runOnce(
  o: RunOptions,
  pm: PerformanceMonitor,
  ctx: { run: number; warmup: boolean; progress: Progress; interrupt: AbortSignal },
): Promise<RunOutcome> {
  pm.startSession({ label: ctx.warmup ? `${o.label} (warmup)` : o.label, command: [o.command, ...o.args], run: ctx.run, warmup: ctx.warmup, cwd: o.cwd });
  // A holder, not a `let`: assigned inside closures, which TypeScript's narrowing cannot see.
  const state: { failed: { phase: string; reason: string } | null } = { failed: null };
  const fail = (phase: string, reason: string): void => {
    state.failed ??= { phase, reason };
    pm.recordError(reason, phase);
  };

  // 1. environment_validation
  const tEnv = pm.startTiming(StartupPhase.ENVIRONMENT_VALIDATION);
  const problems: string[] = [];
  let cwdOk = false;
  try {
    cwdOk = statSync(o.cwd).isDirectory();
  } catch {
    // reported below
  }
  if (!cwdOk) problems.push(`working directory ${o.cwd} does not exist`);
  const resolved = resolveCommand(o.command, cwdOk ? o.cwd : process.cwd(), process.env);
  if ('error' in resolved) problems.push(resolved.error);
  const missing = o.requireEnv.filter((n) => process.env[n] === undefined || process.env[n] === '');
  if (missing.length > 0) problems.push(`missing environment variable${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`);
  pm.finishTiming(tEnv, problems.length === 0, problems.join('; ') || undefined);
  if (problems.length > 0) fail('environment_validation', problems.join('; '));

  // 2. port_management
  if (!state.failed && o.port !== undefined) {
    const tPort = pm.startTiming(StartupPhase.PORT_MANAGEMENT, { port: o.port });
    const r = await checkPortFree(o.port, o.host);
    pm.finishTiming(tPort, r.free, r.free ? undefined : r.reason);
    if (!r.free) fail('port_management', r.reason);
  }

  let child: ChildProcess | null = null;
  let output = '';
  let childExit: string | undefined;
  const ac = new AbortController();
  const onInterrupt = (): void => ac.abort(new Error('interrupted'));
  ctx.interrupt.addEventListener('abort', onInterrupt, { once: true });
  if (ctx.interrupt.aborted) onInterrupt();

  if (!state.failed && !ac.signal.aborted) {
    ctx.progress.set('starting the sampler');
    await pm.samplingReady().catch(() => undefined); // without samples the phases are still timed
    const timer = setTimeout(() => ac.abort(new Error(`timeout after ${o.timeoutMs} ms`)), o.timeoutMs);
    const tTotal = pm.startTiming(StartupPhase.TOTAL_STARTUP);
    const tProc = pm.startTiming(StartupPhase.PROCESS_STARTUP);
    const pipe = o.readyPattern !== undefined || o.capture || o.json;
    child = spawn((resolved as { path: string }).path, o.args, {
      cwd: o.cwd,
      argv0: o.command,
      detached: true, // its own process group: stopped as a whole, and Ctrl-C reaches us first
      stdio: ['ignore', pipe ? 'pipe' : 'inherit', pipe ? 'pipe' : 'inherit'],
    });
    pm.rescan();
    const exited = once(child, 'exit').then(([code, signal]) => {
      childExit = signal ? `signal ${signal}` : `code ${code}`;
      return { code: code as number | null };
    });
    const spawnError = once(child, 'error').then(([err]) => err as Error);
    const sawPattern = new Promise<void>((seen) => {
      if (!pipe || !child) return;
      const watch = (forward: NodeJS.WritableStream) => {
        let partial = '';
        return (chunk: Buffer) => {
          const text = chunk.toString('utf8');
          if (o.capture) output = (output + text).slice(-CAPTURE_BYTES);
          else if (!o.quiet) forward.write(chunk);
          if (!o.readyPattern) return;
          const lines = (partial + text).split('\n');
          partial = lines.pop() ?? '';
          if (lines.some((l) => o.readyPattern!.test(l)) || o.readyPattern.test(partial)) seen();
        };
      };
      child.stdout!.on('data', watch(o.json ? process.stderr : process.stdout));
      child.stderr!.on('data', watch(process.stderr));
    });

    const waits = [o.port !== undefined ? `port ${o.port}` : '', o.readyPattern ? `/${o.readyPattern.source}/` : ''].filter(Boolean);
    const what = waits.length > 0 ? waits.join(' and ') : 'exit';
    ctx.progress.set(`process_startup: waiting for ${what}`);
    // The port wait polls: it gets its own controller, aborted as soon as this phase is settled
    // whatever the outcome (a command that dies before opening its port must not leave it polling).
    const portAc = new AbortController();
    const stopPortWait = (): void => portAc.abort();
    ac.signal.addEventListener('abort', stopPortWait, { once: true });
    // With both --port and --ready-pattern, ready means both.
    const conditions: Promise<boolean>[] = [];
    if (o.port !== undefined) conditions.push(waitForPort(o.port, o.host, portAc.signal));
    if (o.readyPattern) conditions.push(sawPattern.then(() => true));
    const ready: Promise<'ready' | 'exited'> =
      conditions.length > 0
        ? Promise.all(conditions).then((ok) => (ok.every(Boolean) ? 'ready' : 'exited'))
        : exited.then((e) => (e.code === 0 ? 'ready' : 'exited'));
    const aborted = new Promise<'aborted'>((r) => ac.signal.addEventListener('abort', () => r('aborted'), { once: true }));
    const first = await Promise.race([ready, exited.then(() => 'exited' as const), aborted, spawnError.then(() => 'spawn-error' as const)]);
    stopPortWait();
    ac.signal.removeEventListener('abort', stopPortWait);
    // A one-shot command is ready by exiting 0; everything else exiting first failed its startup.
    const oneShotOk = first === 'exited' && o.port === undefined && !o.readyPattern && (await exited).code === 0;
    if (first === 'ready' || oneShotOk) {
      pm.finishTiming(tProc, true);
    } else {
      const reason =
        first === 'spawn-error'
          ? `could not start ${o.command}: ${(await spawnError).message}`
          : first === 'aborted'
            ? `${(ac.signal.reason as Error).message} waiting for ${what}`
            : `${o.command} exited (${childExit}) during startup`;
      pm.finishTiming(tProc, false, reason);
      if (!(first === 'aborted' && ctx.interrupt.aborted)) fail('process_startup', reason);
    }

    if (!state.failed && !ac.signal.aborted && o.healthUrl) {
      ctx.progress.set(`health_verification: ${o.healthUrl}`);
      const tHealth = pm.startTiming(StartupPhase.HEALTH_VERIFICATION, { url: o.healthUrl });
      const healthAc = new AbortController();
      const stop = (): void => healthAc.abort();
      ac.signal.addEventListener('abort', stop, { once: true });
      void exited.then(stop);
      const h = await waitForHealth(o.healthUrl, healthAc.signal);
      const reason = h.ok
        ? undefined
        : childExit !== undefined
          ? `${o.command} exited (${childExit}) before ${o.healthUrl} answered (last: ${h.last})`
          : `${o.healthUrl} did not answer 2xx after ${h.attempts} attempts (last: ${h.last})${ac.signal.aborted ? `; ${(ac.signal.reason as Error).message}` : ''}`;
      pm.finishTiming(tHealth, h.ok, reason);
      if (!h.ok && !ctx.interrupt.aborted) fail('health_verification', reason!);
    }
    const failedPhase = current(state);
    pm.finishTiming(tTotal, !failedPhase && !ctx.interrupt.aborted, failedPhase ? `${failedPhase.phase} failed` : undefined);
    clearTimeout(timer);
    ctx.progress.clear();
  }
  ctx.interrupt.removeEventListener('abort', onInterrupt);

  if (child && child.exitCode === null && child.signalCode === null) {
    if (o.keep && !state.failed && !ctx.interrupt.aborted) {
      child.stdout?.destroy();
      child.stderr?.destroy();
      child.unref();
    } else {
      await stopTree(child, o.graceMs);
    }
  }
  const interrupted = ctx.interrupt.aborted;
  const session = await pm.finishSession(!state.failed && !interrupted, { incomplete: interrupted });
  return {
    session,
    ok: !state.failed && !interrupted,
    warmup: ctx.warmup,
    ...(state.failed ? { failedPhase: state.failed.phase, reason: state.failed.reason } : {}),
    ...(childExit !== undefined ? { childExit } : {}),
    ...(o.capture ? { output } : {}),
    interrupted,
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

/** Read through a call: TypeScript keeps narrowings across the closures that set it. */
function current<T>(holder: { failed: T }): T {
  return holder.failed;
}
