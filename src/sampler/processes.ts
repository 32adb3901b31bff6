/**
 * The processes of a sampled tree, one entry each: who it was, when it lived, what it used. The
 * tree keeps one per member from its adoption; entries of members that exited stay (up to
 * MAX_ENDED) until the tree's totals are reset, so a session lists every process it saw.
 */
import { existsSync, readFileSync } from 'node:fs';
import { constants, uptime as osUptime } from 'node:os';
import { statFields } from '../probe/builtin.js';

/** One process of a tree, as the tree saw it. Times are ms since the Unix epoch. */
export interface TreeProcess {
  pid: number;
  /** Its parent when the tree adopted it. */
  ppid: number;
  /** argv joined by spaces (an empty argument as ''), else [comm] where argv is unreadable. */
  command: string;
  /** Process start (the kernel's, 10 ms resolution). */
  startTime: number;
  /** When the tree first read it. */
  adoptedAt: number;
  /** The first sample it was missing from (it had exited), or null while it lives. */
  endTime: number | null;
  /**
   * Its CPU at its last reading, with that of the children it waited for that the tree never
   * adopted (they are not listed): the list sums to the tree's CPU.
   */
  cpuMs: number;
  peakRssBytes: number;
  peakThreads: number;
  /**
   * How it ended, where known: its exit code with `signal` null, or the signal that killed it with
   * `exitCode` null. From the kernel's exit event (sampler/fork-events.ts: every member, whoever
   * reaps it), else {@link fillExits}. Both null while it runs, and where neither source had it (no
   * fork events, and a parent reaped it). Sessions saved before exit statuses were recorded lack
   * both fields: read them with `?? null`.
   */
  exitCode: number | null;
  signal: string | null;
}

/** An exit status told from outside the tree (the CLI's wait4 of its command). */
export interface ProcessExit {
  pid: number;
  exitCode: number | null;
  signal: string | null;
}

/** Ended entries kept at most: a build tool's thousands of compiler runs stay bounded (README). */
export const MAX_ENDED = 2000;

export function newEntry(pid: number, ppid: number): TreeProcess {
  return { pid, ppid, command: readCommand(pid), startTime: NaN, adoptedAt: NaN, endTime: null, cpuMs: 0, peakRssBytes: 0, peakThreads: 0, exitCode: null, signal: null };
}

/**
 * The process's argv from /proc/PID/cmdline, else (a zombie, a kernel thread) its comm in
 * brackets; `previous` is kept over a comm or a failed read (an exiting process loses its argv).
 */
export function readCommand(pid: number, previous = ''): string {
  try {
    const raw = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    if (raw.length > 0) {
      return raw.replace(/\0$/, '').split('\0').map((a) => (a === '' ? "''" : a)).join(' ');
    }
    return previous || `[${readFileSync(`/proc/${pid}/comm`, 'utf8').trim()}]`;
  } catch {
    return previous;
  }
}

/** The parent pid from /proc/PID/stat, NaN where unreadable. */
export function readPpid(pid: number): number {
  try {
    return Number(statFields(readFileSync(`/proc/${pid}/stat`, 'latin1'))?.[4 - 3] ?? NaN);
  } catch {
    return NaN;
  }
}

/** Entries of members that exited, oldest first, bounded. */
export class EndedProcesses {
  readonly list: TreeProcess[] = [];
  /** Entries dropped beyond MAX_ENDED since the last clear. */
  dropped = 0;

  add(p: TreeProcess): void {
    if (this.list.length >= MAX_ENDED) {
      this.list.shift();
      this.dropped++;
    }
    this.list.push(p);
  }

  clear(): void {
    this.list.length = 0;
    this.dropped = 0;
  }

  /** The newest entry of `pid` with no exit status yet (searched from the newest: an exit event comes within a tick or two). */
  lastUnfinished(pid: number): TreeProcess | undefined {
    for (let i = this.list.length - 1; i >= 0; i--) {
      const p = this.list[i]!;
      if (p.pid === pid) return p.exitCode === null && p.signal === null ? p : undefined;
    }
    return undefined;
  }
}

const SIGNAL_NAMES = new Map<number, string>(Object.entries(constants.signals).map(([name, n]) => [n, name]));
const CLK_TCK = 100; // USER_HZ is 100 on every Linux architecture Node supports
/**
 * How far a zombie's start time (ticks since boot, turned into epoch ms as the probes do) may be
 * from the entry's and still be that process: the two conversions read the clock at different
 * instants. A pid reused within a second of its first owner's start would need pid_max forks in
 * that second.
 */
const SAME_START_MS = 1000;

/**
 * The exit status of `pid` if it is still a zombie (exited, not yet reaped) and the same process
 * that started at `startTime` (ms since epoch); null otherwise. /proc/PID/stat field 52 is the
 * status in waitpid's form (Linux >= 3.5, readable by whoever may ptrace-read the process: our
 * own descendants). A zombie keeps it until its parent reaps it, which for the orphans
 * procprobe adopts as a subreaper (cli/daemon.ts) is never before procprobe exits.
 */
export function readZombieExit(pid: number, startTime: number): Omit<ProcessExit, 'pid'> | null {
  const path = `/proc/${pid}/stat`;
  // Most ended entries were reaped long ago: existsSync answers that without the cost of a thrown
  // ENOENT (2,000 entries, loaded 2-core VM: median 16 ms, min 5 ms, against 30-38 ms with the throw).
  if (!existsSync(path)) return null; // reaped: the status went to its parent
  let f: string[] | null;
  try {
    f = statFields(readFileSync(path, 'latin1'));
  } catch {
    return null; // reaped since
  }
  if (!f || f[0] !== 'Z' || f.length < 52 - 2) return null;
  const started = Date.now() - osUptime() * 1e3 + (Number(f[22 - 3]) / CLK_TCK) * 1e3;
  if (!(Math.abs(started - startTime) <= SAME_START_MS)) return null;
  const status = Number(f[52 - 3]);
  if (!Number.isInteger(status) || status < 0) return null;
  return decodeWaitStatus(status);
}

/** A status in waitpid's encoding: the low 7 bits a terminating signal (0: it exited), bits 8-15 the code. */
export function decodeWaitStatus(status: number): Omit<ProcessExit, 'pid'> {
  const sig = status & 0x7f;
  return sig === 0 ? { exitCode: (status >> 8) & 0xff, signal: null } : { exitCode: null, signal: SIGNAL_NAMES.get(sig) ?? `signal ${sig}` };
}

/**
 * Fill in the exit status of the ended entries that lack one: from `told` (matched by pid; the
 * CLI's own child, which its wait4 reaped), else from the process itself if it is still a zombie
 * (readZombieExit). One stat read per ended entry, most of them a fast ENOENT (reaped already):
 * done once, at the session's end.
 */
export function fillExits(list: TreeProcess[], told: readonly ProcessExit[] = []): void {
  const byPid = new Map(told.map((e) => [e.pid, e]));
  for (const p of list) {
    if (p.exitCode !== null || p.signal !== null) continue;
    const t = byPid.get(p.pid);
    // A process still listed as running cannot have been reaped by the CLI: the tree just missed its end.
    const e = t ? { exitCode: t.exitCode, signal: t.signal } : p.endTime !== null ? readZombieExit(p.pid, p.startTime) : null;
    if (e) Object.assign(p, e);
  }
}
