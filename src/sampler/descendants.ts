/**
 * How a tree's rescan finds descendants: downward from its members through the kernel's
 * /proc/PID/task/TID/children files (CONFIG_PROC_CHILDREN), in O(tree); or, where those files are
 * absent, by reading /proc/PID/stat of every process on the machine and following ppids, in
 * O(machine). Both find the same processes: every descendant of a live member. An orphan that is
 * reparented to a subreaper outside the tree (or init) is no longer below a member, so neither
 * finds it.
 *
 * A child is listed under the thread that forked it, so every thread's file is read; when that
 * thread exits, the kernel reparents its children to a live thread of the same process
 * (forget_original_parent), so each child is in exactly one of them. The kernel builds the file
 * from a position in the thread's child list: a child that exits while the file is being read can
 * make the next one skip. Fork events and the next rescan cover that, as they cover a scan that
 * raced a fork.
 */
import { accessSync, existsSync, readdirSync, readFileSync } from 'node:fs';

/** The test seam and kill switch: PROCPROBE_CHILDREN_FILE=0 rescans by the full scan. */
export const CHILDREN_FILE_ENV = 'PROCPROBE_CHILDREN_FILE';

export type RescanMode = 'children' | 'scan';

let childrenFile: boolean | undefined;

/** Whether this kernel has /proc/PID/task/TID/children, checked once per thread that asks. */
function hasChildrenFile(): boolean {
  if (childrenFile === undefined) {
    try {
      accessSync(`/proc/${process.pid}/task/${process.pid}/children`);
      childrenFile = true;
    } catch {
      childrenFile = false;
    }
  }
  return childrenFile;
}

const CHILDREN_REASON = "each member's /proc/PID/task/TID/children";

/** pid -> parent pid (NaN for the members the walk started from), parents before their children. */
export type Found = Map<number, number>;

export class Descendants {
  readonly mode: RescanMode;
  /** Which way, and why, in words (part of a monitor's treeDiscovery). */
  readonly reason: string;
  /** Every pid the last full scan saw (scan mode only). */
  #all = new Set<number>();

  constructor(mode: RescanMode, reason: string = mode === 'children' ? CHILDREN_REASON : 'full /proc scan') {
    this.mode = mode;
    this.reason = reason;
  }

  /** The children files where the kernel has them, unless PROCPROBE_CHILDREN_FILE=0; else the scan. */
  static open(): Descendants {
    if (process.env[CHILDREN_FILE_ENV] === '0') return new Descendants('scan', `full /proc scan: ${CHILDREN_FILE_ENV}=0`);
    if (hasChildrenFile()) return new Descendants('children');
    return new Descendants('scan', 'full /proc scan: this kernel has no /proc/PID/task/TID/children (CONFIG_PROC_CHILDREN)');
  }

  /** The members and every live descendant of theirs. Allocates: call at the rescan rate. */
  find(members: Iterable<number>): Found {
    const queue = [...members];
    const found: Found = new Map(queue.map((pid) => [pid, NaN]));
    const children = this.mode === 'scan' ? this.#scan() : null;
    // A child enters `found` only once its parent is in it, so the map's order is parents first.
    while (queue.length > 0) {
      const parent = queue.pop()!;
      for (const child of children ? (children.get(parent) ?? []) : childrenOf(parent)) {
        if (found.has(child)) continue;
        found.set(child, parent);
        queue.push(child);
      }
    }
    return found;
  }

  /**
   * Forget the retired pids (members that exited) that no longer exist: such a pid may be reused by
   * a new descendant later. One that still exists (a zombie nobody reaped yet) stays retired.
   */
  prune(retired: Map<number, number>): void {
    for (const pid of retired.keys()) {
      const exists = this.mode === 'scan' ? this.#all.has(pid) : existsSync(`/proc/${pid}/stat`);
      if (!exists) retired.delete(pid);
    }
  }

  #scan(): Map<number, number[]> {
    const { children, all } = scanProcesses();
    this.#all = all;
    return children;
  }
}

/** Children of `pid` from every one of its threads' children files (empty when it is gone). */
export function childrenOf(pid: number): number[] {
  const out: number[] = [];
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    let text: string;
    try {
      text = readFileSync(`/proc/${pid}/task/${tid}/children`, 'latin1'); // "PID PID ... " (a trailing space)
    } catch {
      continue; // the thread exited: its children are listed under another thread now
    }
    for (const s of text.split(' ')) if (s.length > 0) out.push(Number(s));
  }
  return out;
}

/** parent pid -> child pids, from /proc/[pid]/stat field 4 (Linux), and every pid seen. */
export function scanProcesses(): { children: Map<number, number[]>; all: Set<number> } {
  const map = new Map<number, number[]>();
  const all = new Set<number>();
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return { children: map, all }; // no /proc: the tree is the root alone
  }
  for (const name of entries) {
    const c = name.charCodeAt(0);
    if (c < 48 || c > 57) continue;
    let text: string;
    try {
      text = readFileSync(`/proc/${name}/stat`, 'latin1');
    } catch {
      continue;
    }
    const ppid = Number(text.slice(text.lastIndexOf(')') + 2).split(' ', 3)[1]);
    all.add(Number(name));
    const list = map.get(ppid);
    if (list) list.push(Number(name));
    else map.set(ppid, [Number(name)]);
  }
  return { children: map, all };
}
