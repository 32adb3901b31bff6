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
import { statSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ExactTotals } from '../session/resources.js';
import type { PerformanceMonitor } from '../startup/performance-monitor.js';
import { StartupPhase } from '../session/constants.js';
import type { StartupSession } from '../session/session.js';
import type { RunOptions } from './args.js';
import { checkPortFree, resolveCommand, waitForHealth, waitForPort } from './checks.js';
import { startChild, stopTree, type ChildExit, type StartedChild } from './child.js';
import { daemonNote, orphans, reapOrphans, stopDaemons, type ReapedOrphan } from './daemon.js';
import type { Progress } from './terminal.js';
import { openNodeHooks, type NodeHooks } from '../node-hooks/receiver.js';
import { recordNodeProfile } from '../node-hooks/record.js';
import { TreeCgroup } from '../cgroup/tree-cgroup.js';
import { treeAccount } from '../session/tree-sources.js';

/** How long a port found open waits for the Node server's own listen message (written before it). */
const LISTEN_GRACE_MS = 50;

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
  /** Exited orphans of the tree reaped at the run's end (cli/daemon.ts reapOrphans), with their wait4 status and CPU. */
  orphansReaped: ReapedOrphan[];
  /** The command daemonized: the adopted pids, the report's line, whether --keep left them running. */
  daemon?: { pids: number[]; note: string; kept: boolean };
  interrupted: boolean;
}

export interface RunContext {
  run: number;
  warmup: boolean;
  progress: Progress;
  /** Ctrl-C: the command is stopped and the session saved as incomplete. */
  interrupt: AbortSignal;
}

/** One startup: the phases in order, each its own function below; the first failure is kept. */
export async function runOnce(o: RunOptions, pm: PerformanceMonitor, ctx: RunContext): Promise<RunOutcome> {
  // Made before the session: the channel's mkfifo must not be sampled as one of the command's processes.
  const hooks = o.nodeHooks ? openHooks(o.nodeEsmHooks) : null;
  const cgroup = o.cgroup ? TreeCgroup.create().group : null; // mkdir before the session, like the hooks' channel
  pm.startSession({ label: ctx.warmup ? `${o.label} (warmup)` : o.label, command: [o.command, ...o.args], run: ctx.run, warmup: ctx.warmup, cwd: o.cwd });
  const run = new StartupRun(o, pm, ctx);
  run.hooks = hooks;
  run.cgroup = cgroup;
  const path = run.environmentValidation();
  if (!run.failed && o.port !== undefined) await run.portManagement(o.port);
  // The run's own abort: Ctrl-C or --timeout, whichever comes first.
  const onInterrupt = (): void => run.ac.abort(new Error('interrupted'));
  ctx.interrupt.addEventListener('abort', onInterrupt, { once: true });
  if (ctx.interrupt.aborted) onInterrupt();
  if (!run.failed && !run.ac.signal.aborted && path !== null) await run.totalStartup(path);
  ctx.interrupt.removeEventListener('abort', onInterrupt);
  return run.finish();
}

function openHooks(esmHooks: boolean): NodeHooks | null {
  const h = openNodeHooks({ esmHooks });
  if ('error' in h) process.stderr.write(`procprobe: ${h.error}\n`);
  return 'error' in h ? null : h;
}

class StartupRun {
  readonly o: RunOptions;
  readonly pm: PerformanceMonitor;
  readonly ctx: RunContext;
  readonly ac = new AbortController();
  failed: { phase: string; reason: string } | null = null;
  child: StartedChild | null = null;
  /** total_startup, opened with process_startup at the spawn's instant. */
  totalId = '';
  /** Descendants left running by a command that daemonized (cli/daemon.ts). */
  daemons: number[] = [];
  /** process_startup's end: the exit of a one-shot command (with its wait4 totals, when known) or readiness (ms since epoch). */
  startupEnd: { atMs: number; totals?: ExactTotals } | undefined = undefined;
  /** The node-hooks channel of this run (node-hooks/), null with --no-node-hooks or when it could not be made. */
  hooks: NodeHooks | null = null;
  /** The tree's own cgroup (null: --no-cgroup, or the machine does not let us make one). */
  cgroup: TreeCgroup | null = null;

  constructor(o: RunOptions, pm: PerformanceMonitor, ctx: RunContext) {
    this.o = o;
    this.pm = pm;
    this.ctx = ctx;
  }

  fail(phase: string, reason: string): void {
    this.failed ??= { phase, reason };
    this.pm.recordError(reason, phase);
  }

  /** 1. The command resolves on PATH, the cwd exists, every --require-env is set. Returns the command's path. */
  environmentValidation(): string | null {
    const { o, pm } = this;
    const t = pm.startTiming(StartupPhase.ENVIRONMENT_VALIDATION);
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
    pm.finishTiming(t, problems.length === 0, problems.join('; ') || undefined);
    if (problems.length > 0) this.fail(StartupPhase.ENVIRONMENT_VALIDATION, problems.join('; '));
    return 'path' in resolved ? resolved.path : null;
  }

  /** 2. --port is free before the start (else the report names who holds it). */
  async portManagement(port: number): Promise<void> {
    const t = this.pm.startTiming(StartupPhase.PORT_MANAGEMENT, { port });
    const r = await checkPortFree(port, this.o.host);
    this.pm.finishTiming(t, r.free, r.free ? undefined : r.reason);
    if (!r.free) this.fail(StartupPhase.PORT_MANAGEMENT, r.reason);
  }

  /** 5. Spawn to healthy, around process_startup and health_verification, within --timeout. */
  async totalStartup(path: string): Promise<void> {
    const { o, pm, ctx } = this;
    ctx.progress.set('starting the sampler');
    await pm.samplingReady().catch(() => undefined); // without samples the phases are still timed
    const timer = setTimeout(() => this.ac.abort(new Error(`timeout after ${o.timeoutMs} ms`)), o.timeoutMs);
    await this.processStartup(path); // opens total_startup too, at the spawn's instant
    if (!this.failed && !this.ac.signal.aborted && o.healthUrl) await this.healthVerification(o.healthUrl);
    const failed = this.failed as { phase: string } | null; // set by the awaited phases
    const ok = !failed && !ctx.interrupt.aborted;
    const why = failed ? `${failed.phase} failed` : undefined;
    // Nothing after process_startup: the startup ended when the command exited or was ready.
    const end = this.startupEnd;
    if (end && !o.healthUrl) pm.finishTimingAt(this.totalId, end.atMs, ok, why, end.totals);
    else pm.finishTiming(this.totalId, ok, why);
    clearTimeout(timer);
    ctx.progress.clear();
  }

  /** 3. Spawn (never through a shell) until ready: the port accepts, the pattern is seen, or a one-shot command exits 0. */
  async processStartup(path: string): Promise<void> {
    const { o, pm, ctx, ac } = this;
    // The phase starts just before the spawn: with the addon that instant is read by the spawn
    // itself (posix_spawn), so the mark is taken after it, at the instant it reports.
    const child = (this.child = startChild(path, o, this.hooks?.env(process.env)));
    if (!Number.isNaN(child.pid)) this.cgroup?.enter(child.pid); // at once: its children are born inside (cgroup/tree-cgroup.ts)
    const spawnedAt = performance.timeOrigin + child.spawnedAtMono;
    this.totalId = pm.startTimingAt(StartupPhase.TOTAL_STARTUP, spawnedAt);
    const t = pm.startTimingAt(StartupPhase.PROCESS_STARTUP, spawnedAt);
    pm.rescan();
    const waits = [o.port !== undefined ? `port ${o.port}` : '', o.readyPattern ? `/${o.readyPattern.source}/` : ''].filter(Boolean);
    const what = waits.length > 0 ? waits.join(' and ') : 'exit';
    ctx.progress.set(`process_startup: waiting for ${what}`);
    // The port wait polls: it gets its own controller, aborted as soon as this phase is settled
    // whatever the outcome (a command that dies before opening its port must not leave it polling).
    const portAc = new AbortController();
    const stopPortWait = (): void => portAc.abort();
    ac.signal.addEventListener('abort', stopPortWait, { once: true });
    const { ready, checks, instant } = this.readiness(child, portAc.signal);
    const aborted = new Promise<'aborted'>((r) => ac.signal.addEventListener('abort', () => r('aborted'), { once: true }));
    let first = await Promise.race([ready, child.exited.then(() => 'exited' as const), aborted, child.spawnError.then(() => 'spawn-error' as const)]);
    // Exited 0 before it was ready, leaving a descendant adopted by procprobe: a daemon. Follow it.
    if (first === 'exited' && checks > 0 && (await child.exited).code === 0) {
      this.daemons = orphans();
      if (this.daemons.length > 0) {
        ctx.progress.set(`process_startup: ${o.command} daemonized; waiting for ${what}`);
        first = await Promise.race([ready, aborted]);
      }
    }
    stopPortWait();
    ac.signal.removeEventListener('abort', stopPortWait);
    // Ready at the instant the check succeeded (stamped where it happened: the native port poll,
    // the pipe's reader, the child's own listen()), not when this loop got to it.
    if (first === 'ready' && Number.isFinite(instant.at)) return this.finishAt(t, performance.timeOrigin + instant.at);
    // A one-shot command is ready by exiting 0; everything else exiting first failed its startup.
    const oneShotOk = (first === 'ready' || first === 'exited') && checks === 0 && (await child.exited).code === 0;
    if (oneShotOk) return this.finishAtExit(t, await child.exited);
    const reason =
      first === 'spawn-error'
        ? `could not start ${o.command}: ${(await child.spawnError).message}`
        : first === 'aborted'
          ? `${(ac.signal.reason as Error).message} waiting for ${what}`
          : `${o.command} exited (${child.exit}) during startup`;
    pm.finishTiming(t, false, reason);
    if (!(first === 'aborted' && ctx.interrupt.aborted)) this.fail(StartupPhase.PROCESS_STARTUP, reason);
  }

  /**
   * What ends process_startup: 'ready' when every check passed (instant.at: the latest of their
   * instants, performance.now() scale, NaN for a one-shot's exit 0), 'exited' when the command
   * exited first; `checks`: how many of --port / --ready-pattern there are.
   */
  readiness(child: StartedChild, portSignal: AbortSignal): { ready: Promise<'ready' | 'exited'>; checks: number; instant: { at: number } } {
    const o = this.o;
    // With both --port and --ready-pattern, ready means both: at the later of their instants
    // (performance.now() scale). A Node server's own listen() is the exact instant (node-hooks/);
    // the poll stays for the rest, and for a command with no check it ends the startup too.
    const listened = this.hooks?.listened(o.port).then((l) => l.atMs - performance.timeOrigin);
    const conditions: Promise<number | null>[] = [];
    if (o.port !== undefined) {
      const polled = waitForPort(o.port, o.host, portSignal);
      // The native poll often hears of it first (the listen message is in the FIFO already, waiting
      // for this event loop): the server's own listen instant wins when it comes (the README's
      // definition); the first connect is the instant only for a server that sends none.
      const exact = (at: number | null): Promise<number | null> =>
        at === null || !listened ? Promise.resolve(at) : Promise.race([listened, sleep(LISTEN_GRACE_MS).then(() => NaN)]).then((l) => (Number.isFinite(l) ? l : at));
      conditions.push(listened ? Promise.race([polled, listened]).then(exact) : polled);
    }
    if (o.readyPattern) conditions.push(child.sawPattern);
    const instant = { at: NaN };
    const ready: Promise<'ready' | 'exited'> =
      conditions.length > 0
        ? Promise.all(conditions).then((at) => {
            if (at.some((x) => x === null)) return 'exited';
            instant.at = Math.max(...(at as number[]));
            return 'ready';
          })
        : Promise.race([
            child.exited.then((e): 'ready' | 'exited' => (e.code === 0 ? 'ready' : 'exited')),
            ...(listened ? [listened.then((at) => ((instant.at = at), 'ready' as const))] : []),
          ]);
    return { ready, checks: conditions.length, instant };
  }

  /**
   * A one-shot command is done when it exits: the phase ends at the exit's instant (stamped by
   * the wait4 thread with the addon), and its CPU, faults and switches are the command's own
   * wait4 rusage (it and every descendant it waited for), exact where samples are not.
   */
  finishAtExit(t: string, e: ChildExit): void {
    const r = e.rusage;
    const totals = r && { cpuUs: r.userUs + r.systemUs, voluntaryContextSwitches: r.voluntaryCtx, involuntaryContextSwitches: r.involuntaryCtx, minorPageFaults: r.minorFaults, majorPageFaults: r.majorFaults };
    this.finishAt(t, performance.timeOrigin + e.atMono, totals);
  }

  /** process_startup ends successfully at `atMs` (ms since epoch), where total_startup ends too unless health follows. */
  finishAt(t: string, atMs: number, totals?: ExactTotals): void {
    this.startupEnd = { atMs, ...(totals ? { totals } : {}) };
    this.pm.finishTimingAt(t, atMs, true, undefined, totals);
  }

  /** 4. --health-url answers 2xx (retried with backoff) before the command exits or time runs out. */
  async healthVerification(url: string): Promise<void> {
    const { o, pm, ctx, ac } = this;
    const child = this.child!;
    ctx.progress.set(`health_verification: ${url}`);
    const t = pm.startTiming(StartupPhase.HEALTH_VERIFICATION, { url });
    const healthAc = new AbortController();
    const stop = (): void => healthAc.abort();
    ac.signal.addEventListener('abort', stop, { once: true });
    void child.exited.then(stop);
    const h = await waitForHealth(url, healthAc.signal);
    const reason = h.ok
      ? undefined
      : child.exit !== undefined
        ? `${o.command} exited (${child.exit}) before ${url} answered (last: ${h.last})`
        : `${url} did not answer 2xx after ${h.attempts} attempts (last: ${h.last})${ac.signal.aborted ? `; ${(ac.signal.reason as Error).message}` : ''}`;
    pm.finishTiming(t, h.ok, reason);
    if (!h.ok && !ctx.interrupt.aborted) this.fail(StartupPhase.HEALTH_VERIFICATION, reason!);
  }

  /** Leave the command running (--keep) or stop its group, then save the session. */
  async finish(): Promise<RunOutcome> {
    const { o, pm, ctx } = this;
    const child = this.child;
    const keep = o.keep && !this.failed && !ctx.interrupt.aborted;
    if (child && !Number.isNaN(child.pid) && child.exit === undefined) {
      if (keep) child.release();
      else await stopTree(child, o.graceMs);
    }
    if (this.daemons.length > 0 && !keep) await stopDaemons(this.daemons, o.graceMs);
    if (this.hooks) recordNodeProfile(pm, this.hooks.close(o.cwd), child?.pid ?? NaN);
    const interrupted = ctx.interrupt.aborted;
    // The command's exit status for its `processes` entry: our wait4 reaped it, so only we know it.
    // (child.exit is set once `exited` has settled: awaiting it then does not wait.)
    const e = child && child.exit !== undefined ? await child.exited : null;
    const exits = e && child && (e.signal !== null || e.code !== null) ? [{ pid: child.pid, exitCode: e.signal ? null : e.code, signal: e.signal }] : [];
    // The tree has exited or been stopped: its cgroup's counters are final (--keep: so far).
    const cgroup = this.cgroup?.read() ?? null;
    this.cgroup?.remove();
    if (pm.currentSession) pm.currentSession.tree = treeAccount(cgroup, this.startupEnd?.totals !== undefined);
    const session = await pm.finishSession(!this.failed && !interrupted, { incomplete: interrupted, exits });
    const orphansReaped = reapOrphans(session.processes?.list ?? [], child?.pid ?? NaN); // after the list read their zombie statuses
    const exit = this.child?.exit;
    return {
      session,
      ok: !this.failed && !interrupted,
      warmup: ctx.warmup,
      ...(this.failed ? { failedPhase: this.failed.phase, reason: this.failed.reason } : {}),
      ...(exit !== undefined ? { childExit: exit } : {}),
      ...(o.capture ? { output: this.child?.output ?? '' } : {}),
      ...(this.daemons.length > 0 ? { daemon: { pids: this.daemons, note: daemonNote(o.command, this.daemons), kept: keep } } : {}),
      interrupted,
      orphansReaped,
    };
  }
}
