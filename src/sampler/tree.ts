/**
 * A process tree as one row: a root pid and its descendants, summed. The set of descendants is
 * rescanned at a lower rate than sampling; each member has its own probe, whose kept-open /proc
 * files tell when that exact process is gone even if its pid was reused.
 *
 * Cumulative counters (CPU time, context switches, page faults) stay monotonic when members exit:
 * a member's last reading is folded into an "exited" total, like getrusage(RUSAGE_CHILDREN).
 * Levels (RSS, VMS, fds, threads) are summed over live members only.
 */
import { F, FIELD_COUNT, ProbeStatus } from '../probe/layout.js';
import { createProbe, setCountsInterval, type Probe, type ProbeBackendOption } from '../probe/probe.js';
import { cpuPercent } from '../units.js';
import { Descendants } from './descendants.js';
import type { BirthSink, ForkEvents } from './fork-events.js';
import { decodeWaitStatus, EndedProcesses, newEntry, readCommand, readPpid, type TreeProcess } from './processes.js';
import { ReapedTotals } from './reaped.js';

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
  /** `last` as it was after the previous reading. */
  prev: Float64Array;
  /** Read at least once: its first reading's totals were used before adoption. */
  seen: boolean;
  /** Its parent pid and the parent's member at adoption (none for the root): who will reap it. */
  ppid: number;
  parent: Member | undefined;
  /** What the children it waited for used (CUMULATIVE index). */
  reaped: ReapedTotals;
  /** Its entry in the tree's process list. */
  info: TreeProcess;
}

function newMember(probe: Probe, ppid: number, parent: Member | undefined): Member {
  return { probe, last: new Float64Array(FIELD_COUNT).fill(NaN), prev: new Float64Array(FIELD_COUNT).fill(NaN), seen: false, ppid, parent, reaped: new ReapedTotals(), info: newEntry(probe.pid, ppid) };
}

export class TreeSource {
  readonly root: Probe;
  readonly #backend: ProbeBackendOption;
  readonly #members = new Map<number, Member>();
  /** pid -> start time of members that exited or became zombies: never re-adopted. */
  readonly #retired = new Map<number, number>();
  /** What members whose parent is not a counted member used (CUMULATIVE index). */
  readonly #exited = new Float64Array(CUMULATIVE.length);
  readonly #scratch = new Float64Array(FIELD_COUNT);
  readonly #gone: Array<[number, Member, ProbeStatus]> = [];
  readonly #ended = new EndedProcesses();
  #prevCpu = NaN;
  #prevTs = NaN;
  #joined = 0;
  #execsFollowed = false;

  /** CPU members used before they were adopted (µs): in the totals, but not in any interval. */
  get joinedCpuUs(): number {
    return this.#joined;
  }

  readonly #excludeRoot: boolean;
  #countsIntervalMs: number;
  /** The root is excluded and is this process (the CLI sampling its command): never read. */
  readonly #selfRoot: boolean;
  /** How rescan() finds descendants (sampler/descendants.ts). */
  readonly descendants: Descendants;

  /** countsIntervalMs: each member probe's (createProbe's option), so a tree's costly reads share one rate. */
  constructor(rootPid: number, backend: ProbeBackendOption, excludeRoot = false, descendants = Descendants.open(), countsIntervalMs = 0) {
    this.#backend = backend;
    this.#countsIntervalMs = countsIntervalMs;
    this.#excludeRoot = excludeRoot;
    this.descendants = descendants;
    this.#selfRoot = excludeRoot && rootPid === process.pid;
    this.root = createProbe({ pid: rootPid, backend, countsIntervalMs });
    const root = newMember(this.root, NaN, undefined);
    root.info.ppid = readPpid(rootPid);
    this.#members.set(rootPid, root);
  }

  /** Threads of the live members at their last reading (the counts budget's measure, tree-upkeep.ts). */
  liveThreads(): number {
    let n = 0;
    for (const m of this.#members.values()) if (m.last[F.threads]! > 0) n += m.last[F.threads]!;
    return n;
  }

  /** Every member's counts interval (createProbe's countsIntervalMs), and new members' from now on. */
  setCountsInterval(ms: number): void {
    this.#countsIntervalMs = ms;
    for (const m of this.#members.values()) setCountsInterval(m.probe, ms);
  }

  get processes(): number {
    return this.#members.size - (this.#excludeRoot && this.#members.has(this.root.pid) ? 1 : 0);
  }

  /**
   * Find descendants of the live members (from their children files, or a full scan: see
   * sampler/descendants.ts); adopt new ones. Allocates: call at the rescan rate.
   */
  rescan(): void {
    // Parents come before their children, so the parent's member exists by the child's adoption.
    for (const [pid, ppid] of this.descendants.find(this.#members.keys())) this.#adopt(pid, ppid);
    // A forked child execs after its adoption: without exec events its argv is read again at each rescan.
    if (!this.#execsFollowed) for (const [pid, m] of this.#members) if (this.#counted(m)) m.info.command = readCommand(pid, m.info.command);
    this.descendants.prune(this.#retired);
  }

  /**
   * Adopt the children born since the last call whose parent is a member, from fork events
   * (sampler/fork-events.ts reads them). Cheap: call every tick. False when events were lost:
   * then rescan().
   */
  adoptBorn(events: ForkEvents): boolean {
    return events.poll(this.#births);
  }

  readonly #births: BirthSink = {
    // A member gone since (a double fork's middle, read as a zombie by a tick between its fork
    // and its child's event) still parents into the tree: its retired entry lasts until /proc drops it.
    has: (pid) => this.#members.has(pid) || this.#retired.has(pid),
    adopt: (pid, ppid) => (this.#adopt(pid, ppid), this.#members.has(pid)),
    ended: (pid, status) => this.#noteExit(pid, status),
    execed: (pid) => this.#noteExec(pid),
  };

  /** Exec events come with the fork events: argv is read at each exec, not at every rescan. */
  followExecs(): void {
    this.#execsFollowed = true;
  }

  /** A member ran a new program: its argv now (allocates, once per exec). */
  #noteExec(pid: number): void {
    const m = this.#members.get(pid);
    if (m !== undefined && this.#counted(m)) m.info.command = readCommand(pid, m.info.command);
  }

  /**
   * A member's exit status from its exit event, kept on its entry. The kernel queues the event
   * just before the process becomes a zombie, but on another CPU: a tick may drain before the
   * event is queued and then read the zombie, folding the member, so the event comes the tick
   * after. Then the entry is the newest ended one of that pid without a status (a pid is not
   * reused before its zombie is reaped, and the event comes before that).
   */
  #noteExit(pid: number, status: number): void {
    const m = this.#members.get(pid);
    const info = m !== undefined ? (this.#counted(m) ? m.info : undefined) : this.#ended.lastUnfinished(pid);
    if (info !== undefined) Object.assign(info, decodeWaitStatus(status));
  }

  /** A new member, unless known: its parent's member at adoption (if any) is who will reap it. */
  #adopt(pid: number, ppid: number): void {
    if (this.#members.has(pid) || this.#retired.has(pid)) return;
    try {
      const probe = createProbe({ pid, backend: this.#backend, countsIntervalMs: this.#countsIntervalMs });
      this.#members.set(pid, newMember(probe, ppid, this.#members.get(ppid)));
    } catch {
      // exited between the scan (or its fork) and the open: nothing to count
    }
  }

  /**
   * Sum the tree into `row` at `offset`. EXITED only when the root is gone.
   *
   * A member's cumulative counters are its own plus what its reaped children used: the kernel's
   * reaped-children totals (cutime, cstime, cminflt, cmajflt: every child it waited for, even one
   * that lived 1 ms and was never seen) or, when larger, the totals of the members that were its
   * children and exited (the kernel's are in 10 ms ticks and lag the reap). A member whose parent
   * is not a counted member (the CLI, init) is folded into the exited totals, so the sums never go
   * down and nothing is counted twice: a child's counters move from its own to its parent's.
   */
  sampleInto(row: Float64Array, offset: number): ProbeStatus {
    let joined = 0; // CPU that new members used before they were adopted: not this interval's
    const now = performance.timeOrigin + performance.now();
    for (const m of this.#members.values()) {
      // An excluded root that is this process is never counted and cannot be gone while this
      // runs: not reading it saves a third of a one-command tree's tick.
      if (this.#selfRoot && m.probe === this.root) continue;
      const st = this.#read(m);
      if (st === ProbeStatus.OK && !m.seen) {
        m.seen = true;
        m.info.adoptedAt = now;
        m.info.startTime = m.last[F.startTime]!;
        m.reaped.settle(); // what it waited for before adoption is pre-adoption CPU too
        if (this.#counted(m)) joined += this.#cpuOf(m);
      }
      if (st !== ProbeStatus.OK) this.#gone.push([m.probe.pid, m, st]);
    }
    // Children before parents (adoption order is parents first): a child folds into its parent's
    // reaped totals before the parent itself is folded, if both went in the same tick.
    let rootStatus: ProbeStatus = ProbeStatus.OK;
    for (let i = this.#gone.length - 1; i >= 0; i--) {
      const [pid, m, st] = this.#gone[i]!;
      this.#fold(pid, m, now);
      if (m.probe === this.root) rootStatus = st === ProbeStatus.ZOMBIE ? ProbeStatus.EXITED : st;
    }
    this.#gone.length = 0;
    this.#sum(row, offset);
    this.#finishRow(row, offset, joined);
    this.#joined += joined;
    return rootStatus;
  }

  /** One member's reading into m.last and m.cut; a zombie's final CPU times and faults too. */
  #read(m: Member): ProbeStatus {
    const s = this.#scratch;
    const st = m.probe.sampleInto(s, 0);
    if (st !== ProbeStatus.OK && st !== ProbeStatus.ZOMBIE) return st;
    // Field by field: a member caught exiting may read OK with some fields NaN; keep their last value.
    for (let i = 0; i < FIELD_COUNT; i++) if (!Number.isNaN(s[i]!)) m.last[i] = s[i]!;
    if (st === ProbeStatus.OK) for (const i of LEVELS) m.last[i] = s[i]!; // levels are now's, NaN included
    // A zombie's CPU clock is gone: its times come from stat in 10 ms ticks, below the clock's last
    // reading. Counters only grow: keep the larger.
    for (const i of CUMULATIVE) if (m.last[i]! < m.prev[i]!) m.last[i] = m.prev[i]!;
    m.prev.set(m.last);
    m.reaped.observe(m.probe);
    return st;
  }

  /** Cumulative index k of a member: its own counter plus its reaped children's. */
  #total(m: Member, k: number): number {
    const own = m.last[CUMULATIVE[k]!]!;
    return (Number.isNaN(own) ? 0 : own) + m.reaped.value(k);
  }

  /** Its own CPU and its unadopted children's: what the process list shows, summing to the tree's. */
  #ownCpu(m: Member): number {
    const own = (k: number) => (Number.isNaN(m.last[CUMULATIVE[k]!]!) ? 0 : m.last[CUMULATIVE[k]!]!) + m.reaped.unadopted(k);
    return own(0) + own(1);
  }

  #cpuOf(m: Member): number {
    return this.#total(m, 0) + this.#total(m, 1);
  }

  #counted(m: Member): boolean {
    return !(this.#excludeRoot && m.probe === this.root);
  }

  /** A gone member's totals go to its parent's reaped totals if the parent is counted, else to exited. */
  #fold(pid: number, m: Member, now: number): void {
    if (this.#counted(m)) {
      m.reaped.settle();
      m.info.cpuMs = this.#ownCpu(m) / 1e3;
      m.info.endTime = now;
      if (m.seen) this.#ended.add(m.info);
      // The same member object, not just the pid: a reused pid is another process.
      const parent = this.#members.get(m.ppid);
      const total = (k: number) => this.#total(m, k);
      if (parent !== undefined && parent === m.parent && this.#counted(parent)) parent.reaped.fold(total);
      else for (let k = 0; k < CUMULATIVE.length; k++) this.#exited[k] = this.#exited[k]! + total(k);
    }
    this.#retired.set(pid, m.last[F.startTime]!);
    this.#members.delete(pid);
    m.probe.close();
  }

  /** The exited totals plus every live counted member's; levels of the live members. */
  #sum(row: Float64Array, offset: number): void {
    for (let k = 0; k < CUMULATIVE.length; k++) row[offset + CUMULATIVE[k]!] = this.#exited[k]!;
    for (const i of LEVELS) row[offset + i] = 0;
    for (const m of this.#members.values()) {
      if (!this.#counted(m)) continue;
      m.reaped.settle();
      this.#peaks(m);
      for (let k = 0; k < CUMULATIVE.length; k++) row[offset + CUMULATIVE[k]!] = row[offset + CUMULATIVE[k]!]! + this.#total(m, k);
      for (const i of LEVELS) row[offset + i] = row[offset + i]! + (Number.isNaN(m.last[i]!) ? 0 : m.last[i]!);
    }
  }

  /** The pids of the counted members read at least once: whose PSS a round reads (allocates). */
  pssPids(): number[] {
    const out: number[] = [];
    for (const [pid, m] of this.#members) if (this.#counted(m) && m.seen) out.push(pid);
    return out;
  }

  #peaks(m: Member): void {
    const info = m.info;
    if (m.last[F.rssBytes]! > info.peakRssBytes) info.peakRssBytes = m.last[F.rssBytes]!;
    if (m.last[F.threads]! > info.peakThreads) info.peakThreads = m.last[F.threads]!;
  }

  /**
   * Every process the tree counted since the last reset, ended ones first (in the order they
   * ended), then the live ones in adoption order; `dropped`: ended entries beyond MAX_ENDED.
   * Allocates: call on request, not per tick.
   */
  processList(): { list: TreeProcess[]; dropped: number } {
    const live: TreeProcess[] = [];
    for (const m of this.#members.values()) {
      if (!this.#counted(m) || !m.seen) continue;
      m.info.cpuMs = this.#ownCpu(m) / 1e3;
      live.push({ ...m.info });
    }
    return { list: [...this.#ended.list.map((p) => ({ ...p })), ...live], dropped: this.#ended.dropped };
  }

  /** pid, timestamp, start time and CPU % of the summed row. */
  #finishRow(row: Float64Array, offset: number, joined: number): void {
    const ts = performance.timeOrigin + performance.now();
    const cpu = row[offset + F.cpuUserUs]! + row[offset + F.cpuSystemUs]!;
    // Excluding the root (the CLI sampling its command), the tree is named after its oldest
    // member: the command, not the sampler's own process.
    let head = this.#members.get(this.root.pid)?.last ?? this.#scratch;
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
    row[offset + F.pid] = headPid;
    row[offset + F.timestamp] = ts;
    row[offset + F.startTime] = Number.isNaN(headPid) ? NaN : head[F.startTime]!;
    row[offset + F.cpuPercent] = Number.isNaN(this.#prevCpu)
      ? this.#excludeRoot ? 0 : head[F.cpuPercent]!
      : Math.max(0, cpuPercent(cpu - joined - this.#prevCpu, (ts - this.#prevTs) * 1e3));
    this.#prevCpu = cpu;
    this.#prevTs = ts;
  }

  /**
   * Forget what exited members used: the totals then hold the live members' own counters only
   * (none when the CLI's previous run was stopped). The totals step down once here, so the next
   * record starts a new CPU interval; the caller resets its CPU window too.
   */
  resetTotals(): void {
    this.#exited.fill(0);
    this.#ended.clear();
    for (const m of this.#members.values()) m.reaped.reset();
    this.#prevCpu = NaN;
    this.#prevTs = NaN;
  }

  close(): void {
    for (const m of this.#members.values()) m.probe.close();
    this.#members.clear();
  }
}
