/**
 * A cgroup of its own for a command's tree: the kernel then counts, for the whole tree and every
 * descendant however short-lived (a child is born in its parent's group), its CPU time
 * (usage_usec, user_usec, system_usec), its memory peak and its peak process count. Those are
 * exact where the samples and wait4 are not: no process is missed between two reads, none needs
 * a parent that waits for it, and orphans stay in.
 *
 * Made where the machine lets this process (root, or a delegated v2 subtree): a group named
 * `procprobe-<pid>-<n>` inside our own group in each hierarchy that has the figure: cgroup v2
 * (cpu.stat exists in every v2 group, memory.peak and pids.peak where those controllers are
 * enabled for it) and, on a v1 or hybrid machine, v1's cpuacct, memory and pids. Anything
 * refused leaves that figure unset, never an error: the caller keeps its other sources.
 *
 * The command is moved in right after its spawn (cgroup.procs), so what it ran before that (its
 * exec, a few hundred µs) is in no group: each process moved has its own CPU clock read just
 * before the move (/proc/PID/schedstat, ns) and that is added, so the CPU stays whole. A child
 * it forked before the move is moved too, and its children after it (enter()), so every
 * descendant ends up inside, each with its CPU before its move added; what runs between a
 * process's schedstat read and its move (microseconds) is counted nowhere.
 */
import { mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hierarchies, type Hierarchy } from './mounts.js';

/** What the kernel counted for the group; NaN where this machine does not give it to us. */
export interface CgroupCounters {
  /** CPU time of every process that was in the group (µs), plus what the moved ones used before the move (in cpuUs only: user and system are the group's). */
  cpuUs: number;
  userUs: number;
  systemUs: number;
  /** The group's memory peak (bytes): every member's resident and page-cache charges at once. */
  memoryPeakBytes: number;
  /** Most tasks in the group at once (the pids controller counts threads as tasks). */
  pidsPeak: number;
  /** Where each came from: `v2` or `v1` (the hierarchy that gave it), or null. */
  from: { cpu: 'v2' | 'v1' | null; memory: 'v2' | 'v1' | null; pids: 'v2' | 'v1' | null };
}

/** The figures each hierarchy gives: files read at the end and how to parse them. */
interface Made {
  h: Hierarchy;
  dir: string;
}

let made = 0;
/** Processes moved at most by one enter(): a command moments old has forked a few at most. */
const MAX_MOVED = 256;

export class TreeCgroup {
  readonly #groups: Made[];
  /** CPU (µs) the moved processes used before their move: in no group. */
  #before = 0;
  #movedAll = true;

  private constructor(groups: Made[]) {
    this.#groups = groups;
  }

  /**
   * A new empty group in every hierarchy that lets us make one; null (with the reason) where
   * none does (not Linux, no permission, no cgroup mounted). Call before the spawn: mkdir is not
   * part of the command's time.
   */
  static create(): { group: TreeCgroup; reason: string } | { group: null; reason: string } {
    const name = `procprobe-${process.pid}-${++made}`;
    const groups: Made[] = [];
    let why = 'no cgroup hierarchy mounted';
    for (const h of hierarchies()) {
      if (h.version === 1 && !h.controllers.some((c) => c === 'cpuacct' || c === 'memory' || c === 'pids')) continue;
      const dir = join(h.dir, name);
      try {
        mkdirSync(dir);
        groups.push({ h, dir });
      } catch (e) {
        why = `cannot make a cgroup in ${h.dir} (${(e as NodeJS.ErrnoException).code})`;
      }
    }
    if (groups.length === 0) return { group: null, reason: why };
    return { group: new TreeCgroup(groups), reason: `own cgroup (${groups.map((g) => g.dir).join(', ')})` };
  }

  /** The directories made: one per hierarchy. */
  get dirs(): string[] {
    return this.#groups.map((g) => g.dir);
  }

  /**
   * Move `pid` and every descendant it has already forked into the group. false when a hierarchy
   * refused the command itself (the figures are then not the whole tree's: read() gives NaN).
   *
   * Each process is moved before its children are listed: a child forked before its parent's
   * move is in that list (and moved in turn, its own children after it), one forked after it is
   * born inside. Listing first would lose a child forked between the list and the move (GNU time
   * forking its command did, once in four runs).
   */
  enter(pid: number): boolean {
    const queue = [pid];
    for (let i = 0; i < queue.length && i < MAX_MOVED; i++) {
      const p = queue[i]!;
      const before = schedstatUs(p); // read first: from the move on, the group counts it
      let ok = true;
      for (const g of this.#groups) {
        try {
          writeFileSync(join(g.dir, 'cgroup.procs'), `${p}\n`);
        } catch {
          ok = false; // ESRCH: it exited already (its CPU went to its parent's wait4); else refused
        }
      }
      if (ok) this.#before += before;
      else if (p === pid) this.#movedAll = false;
      queue.push(...childrenOf(p));
    }
    return this.#movedAll;
  }

  /** What the kernel counted; call after the tree has exited (or at readiness, for levels so far). */
  read(): CgroupCounters {
    const c: CgroupCounters = { cpuUs: NaN, userUs: NaN, systemUs: NaN, memoryPeakBytes: NaN, pidsPeak: NaN, from: { cpu: null, memory: null, pids: null } };
    if (!this.#movedAll) return c;
    // v2 first: its usage_usec is the scheduler's exact runtime and its user/system split is
    // scaled to it, where v1 cpuacct's usage_user/usage_sys are whole ticks (a 30 ms postgres
    // start read user 0, system 20 ms).
    const ordered = [...this.#groups].sort((a, b) => b.h.version - a.h.version);
    for (const { h, dir } of ordered) {
      const v = h.version === 2 ? 'v2' : 'v1';
      if (c.from.cpu === null) {
        const cpu = h.version === 2 ? v2Cpu(dir) : h.controllers.includes('cpuacct') ? v1Cpu(dir) : null;
        if (cpu) Object.assign(c, { cpuUs: cpu.usage + this.#before, userUs: cpu.user, systemUs: cpu.system }, { from: { ...c.from, cpu: v } });
      }
      if (c.from.memory === null) {
        const peak = num(join(dir, h.version === 2 ? 'memory.peak' : 'memory.max_usage_in_bytes'));
        if (!Number.isNaN(peak) && (h.version === 2 || h.controllers.includes('memory'))) Object.assign(c, { memoryPeakBytes: peak, from: { ...c.from, memory: v } });
      }
      if (c.from.pids === null) {
        const peak = num(join(dir, 'pids.peak'));
        if (!Number.isNaN(peak) && (h.version === 2 || h.controllers.includes('pids'))) Object.assign(c, { pidsPeak: peak, from: { ...c.from, pids: v } });
      }
    }
    return c;
  }

  /**
   * Remove the groups. A group with a live process cannot be removed (--keep leaves the command
   * running): it is moved out first, back to ours, and the group removed. Never throws.
   */
  remove(): void {
    for (const { h, dir } of this.#groups) {
      try {
        for (const p of readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean)) writeFileSync(join(h.dir, 'cgroup.procs'), `${p}\n`);
        rmdirSync(dir);
      } catch {
        // gone already, or busy: the kernel keeps an empty group until its last task is released
      }
    }
  }
}

/** cpu.stat (every v2 group): usage_usec, user_usec, system_usec. */
function v2Cpu(dir: string): { usage: number; user: number; system: number } | null {
  try {
    const kv = new Map(readFileSync(join(dir, 'cpu.stat'), 'utf8').split('\n').map((l) => l.split(' ') as [string, string]));
    const usage = Number(kv.get('usage_usec'));
    return Number.isFinite(usage) ? { usage, user: Number(kv.get('user_usec')), system: Number(kv.get('system_usec')) } : null;
  } catch {
    return null;
  }
}

/** v1 cpuacct: usage, usage_user, usage_sys, in ns. */
function v1Cpu(dir: string): { usage: number; user: number; system: number } | null {
  const usage = num(join(dir, 'cpuacct.usage'));
  return Number.isNaN(usage) ? null : { usage: usage / 1e3, user: num(join(dir, 'cpuacct.usage_user')) / 1e3, system: num(join(dir, 'cpuacct.usage_sys')) / 1e3 };
}

function num(path: string): number {
  try {
    const v = Number(readFileSync(path, 'utf8').trim());
    return Number.isFinite(v) ? v : NaN;
  } catch {
    return NaN;
  }
}

/** A process's CPU clock (µs) from /proc/PID/schedstat (its first field: ns on a CPU); 0 if unreadable. */
function schedstatUs(pid: number): number {
  try {
    let ns = 0;
    // Every thread's: the process's own schedstat is its main thread's only.
    for (const tid of readdirSync(`/proc/${pid}/task`)) ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    return Number.isFinite(ns) ? ns / 1e3 : 0;
  } catch {
    return 0;
  }
}

/** Children `pid` has forked already, from each of its threads' children files. */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      for (const c of readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').split(' ')) if (c.trim() !== '') out.push(Number(c));
    }
  } catch {
    // exited, or no CONFIG_PROC_CHILDREN: only the command is moved
  }
  return out;
}
