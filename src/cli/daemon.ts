/**
 * Commands that fork into the background (nginx's `daemon on`, `redis-server --daemonize yes`,
 * `pg_ctl start`): the command exits 0 while a descendant lives on in a session of its own. With
 * the addon, procprobe is a child subreaper (prctl PR_SET_CHILD_SUBREAPER), so such an orphan is
 * reparented to procprobe instead of init: it stays in the sampled tree, it is found here as a
 * child of this process that procprobe did not spawn, and it is stopped at the end like the
 * command would have been (unless --keep).
 */
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { statFields } from '../probe/builtin.js';
import { loadNative } from '../probe/native.js';
import { scanProcesses } from '../sampler/descendants.js';
import { decodeWaitStatus, readZombieExit, type ProcessExit, type TreeProcess } from '../sampler/processes.js';

let subreaper: boolean | null = null;

/** Become a child subreaper once (Linux with the addon); false where that cannot be. */
export function adoptOrphans(): boolean {
  subreaper ??= loadNative().addon?.setChildSubreaper?.() === 0;
  return subreaper;
}

/** Live children of this process that it did not start itself: orphans of the command's tree. */
export function orphans(): number[] {
  if (!subreaper) return [];
  const kids = scanProcesses().children.get(process.pid) ?? [];
  return kids.filter((pid) => !isZombie(pid));
}

/** Exited (a zombie: reparented here, nobody reaps it until procprobe exits) or gone. */
function isZombie(pid: number): boolean {
  try {
    return statFields(readFileSync(`/proc/${pid}/stat`, 'latin1'))?.[0] === 'Z';
  } catch {
    return true; // gone
  }
}

/** One line for the report: what was found and how to run the command in the foreground. */
export function daemonNote(command: string, pids: number[]): string {
  return `${command} forked into the background and exited 0: procprobe followed pid ${pids.join(', ')} (adopted as a subreaper); to time the server alone, run it in the foreground (nginx -g 'daemon off;', redis-server --daemonize no, postgres instead of pg_ctl start)`;
}

/** SIGTERM each daemon and its process group, SIGKILL what is left after the grace period. */
export async function stopDaemons(pids: number[], graceMs: number): Promise<void> {
  const signal = (sig: NodeJS.Signals): void => {
    for (const pid of pids) {
      for (const target of [-pid, pid]) {
        try {
          process.kill(target, sig); // -pid: a daemon that called setsid leads its own group
        } catch {
          // no such group, or already gone
        }
      }
    }
  };
  signal('SIGTERM');
  const deadline = performance.now() + graceMs;
  while (performance.now() < deadline && pids.some((p) => !isZombie(p))) await sleep(10);
  if (pids.some((p) => !isZombie(p))) signal('SIGKILL');
}

/** An orphan reaped at a run's end: its exit status and its wait4 CPU (its own and its waited-for children's). */
export interface ReapedOrphan extends ProcessExit {
  cpuUs: number;
}

/**
 * Reap the exited orphans of a run's tree, so `--runs N` of a daemonizing command does not pile
 * up zombies (a subreaper's orphans stay zombies until it waits for them). Only processes the
 * tree listed that are now zombie children of this process and not the command (the spawn
 * thread's wait4 owns it): with the addon (the only case with a subreaper) procprobe spawns
 * nothing else during a session (hooks run while the session is closed, the node-hooks receiver's
 * execFileSync reaps its own), so such a zombie is an orphan reparented here, never a child
 * libuv waits for (stealing that status would leave its exit callback waiting forever). Its
 * recorded parent is no guide: a rescan that adopts an orphan after its reparenting records us.
 */
export function reapOrphans(list: readonly TreeProcess[], commandPid: number): ReapedOrphan[] {
  const reap = loadNative().addon?.reapOrphan;
  if (!subreaper || reap === undefined) return [];
  const out = new Float64Array(7);
  const reaped: ReapedOrphan[] = [];
  for (const p of list) {
    // readZombieExit: still the process the tree listed (same start), not a reuse of its pid.
    if (p.pid === commandPid || !isOrphanZombie(p.pid) || readZombieExit(p.pid, p.startTime) === null) continue;
    const r = reap(p.pid, out);
    if (typeof r === 'number') continue; // 0: not exited after all; -errno: not ours
    reaped.push({ pid: p.pid, ...decodeWaitStatus(r[1]), cpuUs: out[0]! + out[1]! });
  }
  return reaped;
}

/** A zombie whose parent is now this process. */
function isOrphanZombie(pid: number): boolean {
  try {
    const f = statFields(readFileSync(`/proc/${pid}/stat`, 'latin1'));
    return f?.[0] === 'Z' && Number(f[1]) === process.pid;
  } catch {
    return false; // gone
  }
}
