/**
 * A process tree as one row: a root pid and its descendants, summed. The set of descendants is
 * rescanned at a lower rate than sampling; each member has its own probe, whose kept-open /proc
 * files tell when that exact process is gone even if its pid was reused.
 *
 * Cumulative counters (CPU time, context switches, page faults) stay monotonic when members exit:
 * a member's last reading is folded into an "exited" total, like getrusage(RUSAGE_CHILDREN).
 * Levels (RSS, VMS, fds, threads) are summed over live members only.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { F, FIELD_COUNT, ProbeStatus } from '../probe/layout.js';
import { createProbe, type Probe, type ProbeBackendOption } from '../probe/probe.js';
import { cpuPercent } from '../units.js';

const CUMULATIVE = [
  F.cpuUserUs,
  F.cpuSystemUs,
  F.voluntaryContextSwitches,
  F.involuntaryContextSwitches,
  F.minorPageFaults,
  F.majorPageFaults,
] as const;
const LEVELS = [F.rssBytes, F.vmsBytes, F.memoryPercent, F.openFds, F.threads] as const;

interface Member {
  probe: Probe;
  last: Float64Array;
  seen: boolean;
}

export class TreeSource {
  readonly root: Probe;
  readonly #backend: ProbeBackendOption;
  readonly #members = new Map<number, Member>();
  /** pid -> start time of members that exited or became zombies: never re-adopted. */
  readonly #retired = new Map<number, number>();
  readonly #exited = new Float64Array(FIELD_COUNT);
  readonly #scratch = new Float64Array(FIELD_COUNT);
  #prevCpu = NaN;
  #prevTs = NaN;
  #joined = 0;

  /** CPU members used before they were adopted (µs): in the totals, but not in any interval. */
  get joinedCpuUs(): number {
    return this.#joined;
  }

  readonly #excludeRoot: boolean;

  constructor(rootPid: number, backend: ProbeBackendOption, excludeRoot = false) {
    this.#backend = backend;
    this.#excludeRoot = excludeRoot;
    this.root = createProbe({ pid: rootPid, backend });
    this.#members.set(rootPid, { probe: this.root, last: new Float64Array(FIELD_COUNT).fill(NaN), seen: true });
  }

  get processes(): number {
    return this.#members.size - (this.#excludeRoot && this.#members.has(this.root.pid) ? 1 : 0);
  }

  /** Find descendants of the live members; adopt new ones. Allocates: call at the rescan rate. */
  rescan(): void {
    const { children, all } = scanProcesses();
    const queue = [...this.#members.keys()];
    const found = new Set<number>(queue);
    while (queue.length > 0) {
      for (const child of children.get(queue.pop()!) ?? []) {
        if (found.has(child)) continue;
        found.add(child);
        queue.push(child);
      }
    }
    for (const pid of found) {
      if (this.#members.has(pid) || this.#retired.has(pid)) continue;
      try {
        const probe = createProbe({ pid, backend: this.#backend });
        this.#members.set(pid, { probe, last: new Float64Array(FIELD_COUNT).fill(NaN), seen: false });
      } catch {
        // exited between the scan and the open: nothing to count
      }
    }
    // A retired pid that no longer exists may be reused by a new descendant later: forget it.
    for (const pid of this.#retired.keys()) if (!all.has(pid)) this.#retired.delete(pid);
  }

  /** Sum the tree into `row` at `offset`. EXITED only when the root is gone. */
  sampleInto(row: Float64Array, offset: number): ProbeStatus {
    const s = this.#scratch;
    for (const i of CUMULATIVE) row[offset + i] = this.#exited[i]!;
    for (const i of LEVELS) row[offset + i] = 0;
    let rootStatus: ProbeStatus = ProbeStatus.OK;
    let joined = 0; // CPU that new members used before they were adopted: not this interval's
    for (const [pid, m] of this.#members) {
      const st = m.probe.sampleInto(s, 0);
      const counted = !(this.#excludeRoot && m.probe === this.root);
      if (st === ProbeStatus.OK) {
        if (Number.isNaN(m.last[F.cpuUserUs]!) && counted) joined += s[F.cpuUserUs]! + s[F.cpuSystemUs]!;
        // Field by field: a member caught exiting may read OK with some fields NaN; keep their last value.
        for (let i = 0; i < FIELD_COUNT; i++) if (!Number.isNaN(s[i]!)) m.last[i] = s[i]!;
        if (!counted) continue;
        for (const i of CUMULATIVE) row[offset + i] = row[offset + i]! + (Number.isNaN(m.last[i]!) ? 0 : m.last[i]!);
        for (const i of LEVELS) row[offset + i] = row[offset + i]! + (Number.isNaN(s[i]!) ? 0 : s[i]!);
        continue;
      }
      // Gone, or a zombie (its final CPU times and faults are in s, its switches are not): fold
      // the freshest value of each cumulative field, so the totals never go down.
      for (const i of counted ? CUMULATIVE : []) {
        const v = st === ProbeStatus.ZOMBIE && !Number.isNaN(s[i]!) ? s[i]! : m.last[i]!;
        if (!Number.isNaN(v)) {
          this.#exited[i] = this.#exited[i]! + v;
          row[offset + i] = row[offset + i]! + v;
        }
      }
      this.#retired.set(pid, m.last[F.startTime]!);
      this.#members.delete(pid);
      m.probe.close();
      if (m.probe === this.root) rootStatus = st === ProbeStatus.ZOMBIE ? ProbeStatus.EXITED : st;
    }
    const ts = performance.timeOrigin + performance.now();
    const cpu = row[offset + F.cpuUserUs]! + row[offset + F.cpuSystemUs]!;
    // Excluding the root (the CLI sampling its command), the tree is named after its oldest
    // member: the command, not the sampler's own process.
    let head = this.#members.get(this.root.pid)?.last ?? s;
    let headPid = this.root.pid;
    if (this.#excludeRoot) {
      headPid = NaN;
      for (const [pid, m] of this.#members) {
        if (m.probe === this.root) continue;
        headPid = pid;
        head = m.last;
        break; // Map order is adoption order: the first adopted is the command itself
      }
    }
    const rootLast = head;
    row[offset + F.pid] = headPid;
    row[offset + F.timestamp] = ts;
    row[offset + F.startTime] = Number.isNaN(headPid) ? NaN : rootLast[F.startTime]!;
    row[offset + F.cpuPercent] = Number.isNaN(this.#prevCpu)
      ? this.#excludeRoot ? 0 : rootLast[F.cpuPercent]!
      : Math.max(0, cpuPercent(cpu - joined - this.#prevCpu, (ts - this.#prevTs) * 1e3));
    this.#prevCpu = cpu;
    this.#prevTs = ts;
    this.#joined += joined;
    return rootStatus;
  }

  /**
   * Forget what exited members used: the totals then hold the live members' own counters only
   * (none when the CLI's previous run was stopped). The totals step down once here, so the next
   * record starts a new CPU interval; the caller resets its CPU window too.
   */
  resetTotals(): void {
    this.#exited.fill(0);
    this.#prevCpu = NaN;
    this.#prevTs = NaN;
  }

  close(): void {
    for (const m of this.#members.values()) m.probe.close();
    this.#members.clear();
  }
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
