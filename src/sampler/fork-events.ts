/**
 * A tree's births as they happen: the Linux proc connector (native/forkwatch.h), drained once per
 * sampler tick, so a child is a member from the first tick after its fork instead of the next
 * rescan (up to rescanIntervalMs later, and never for a child that lives less than that). The
 * rescan (TreeSource.rescan) stays: it is the periodic safety net, it runs at once when events
 * were lost, and it is all there is when the connector cannot be opened (another OS, no addon, a
 * kernel that refuses: see openForkEvents).
 *
 * A tick reads a batch of events, oldest first, and adopts every child whose parent is a member
 * or was born into the tree earlier in the batch, so a grandchild forked in the same millisecond
 * joins with its parent. No allocation per tick: the addon fills a preallocated Int32Array, and
 * a tick with no event costs one recvfrom that finds nothing (about 1 µs).
 */
import { constants } from 'node:os';
import { loadNative, type NativeAddon } from '../probe/native.js';

/**
 * Event kinds, as native/forkwatch.h defines them. A record is [kind, pid, ppid, status]; builds
 * before exit statuses wrote [kind, pid, ppid] (the addon's forkWatchFields says which).
 */
const FORK = 1;
const EXIT = 2;
const EXEC = 3;
const FIELDS_WITH_STATUS = 4;
/** Events copied per addon call; a tick calls again while batches come back full. */
const BATCH = 1024;
/** Born into the tree but gone before adoption: remembered this many, this long (see #ghosts). */
const GHOSTS = 64;
const GHOST_MS = 1000;

/** The kill switch: PROCPROBE_FORK_EVENTS=0 keeps trees on rescans alone. */
export const FORK_EVENTS_ENV = 'PROCPROBE_FORK_EVENTS';

/** What the tree gives the event source: who is a member, and how to adopt one. */
export interface BirthSink {
  /** `pid` is a member, or was one until it exited: a child it forks is in the tree. */
  has(pid: number): boolean;
  /** Make `pid`, a new child of `ppid`, a member (a no-op for a pid the tree already knows); false when it is gone already. */
  adopt(pid: number, ppid: number): boolean;
  /** `pid` exited with `status` (waitpid's encoding), whoever reaps it (a no-op for a non-member). */
  ended(pid: number, status: number): void;
  /** `pid` ran a new program: its argv is the new one now (a no-op for a non-member). */
  execed(pid: number): void;
}

/** Why the kernel refused, in words (errno as native/forkwatch.h lists them). */
const REFUSALS: Record<string, string> = {
  EPERM: 'listening needs CAP_NET_ADMIN on this kernel',
  ETIMEDOUT: 'the kernel ignored the request: this process is in another pid or user namespace (a container)',
  ECONNREFUSED: 'no connector in this network namespace',
  EPROTONOSUPPORT: 'the kernel has no proc connector (CONFIG_PROC_EVENTS)',
  ENOSYS: 'not available on this platform',
  EMFILE: 'too many fork watches open in this thread',
};

function errnoName(err: number): string {
  for (const [name, value] of Object.entries(constants.errno)) if (value === err) return name;
  return `errno ${err}`;
}

export type ForkEventsOpen = { events: ForkEvents; reason: string } | { events: null; reason: string };

/**
 * Start listening for forks (before the tree's first scan: a child forked between the two is in
 * one or both). `events` is null when it cannot, and `reason` says why; a tree then finds its
 * descendants by scanning only.
 */
export function openForkEvents(): ForkEventsOpen {
  if (process.env[FORK_EVENTS_ENV] === '0') return { events: null, reason: `rescans only: ${FORK_EVENTS_ENV}=0` };
  const load = loadNative();
  const addon = load.addon;
  if (addon === null) return { events: null, reason: `rescans only: no native addon (${load.reason})` };
  if (addon.forkWatchOpen === undefined) return { events: null, reason: 'rescans only: the native addon predates fork events (rebuild it)' };
  const handle = addon.forkWatchOpen();
  if (handle < 0) {
    const name = errnoName(-handle);
    return { events: null, reason: `rescans only: the proc connector refused (${name}: ${REFUSALS[name] ?? 'unexpected'})` };
  }
  return { events: new ForkEvents(addon, handle), reason: 'fork events (Linux proc connector)' };
}

export class ForkEvents {
  readonly #addon: NativeAddon;
  #handle: number;
  /** Int32s per record: 4 with the exit status, 3 from builds before it. */
  readonly #fields: number;
  /** Whether the addon reports execs (builds before them do not: the tree re-reads argv at rescans). */
  readonly execs: boolean;
  /** [overflows, then BATCH records of #fields int32s], filled by the addon. */
  readonly #buf: Int32Array;
  /** Pids born into the tree in the current batch (adopted, or gone before they could be). */
  readonly #born = new Int32Array(BATCH);
  /** Records of forks whose parent is not known yet in the current batch. */
  readonly #waiting = new Int32Array(BATCH);
  /**
   * Children born into the tree that were gone before they could be adopted (a double fork's
   * middle exits, and its parent reaps it, microseconds after its fork), with when they were
   * seen: the fork events of their own children can come in a later batch, and those children
   * (the orphans a daemon leaves) are still in the tree. A ring; an entry counts for GHOST_MS, far
   * less than the time a pid takes to be reused.
   */
  readonly #ghosts = new Int32Array(GHOSTS);
  readonly #ghostAt = new Float64Array(GHOSTS).fill(-Infinity);
  #ghostNext = 0;

  constructor(addon: NativeAddon, handle: number) {
    this.#addon = addon;
    this.#handle = handle;
    this.#fields = addon.forkWatchFields ?? 3;
    this.execs = addon.forkWatchExec === EXEC;
    this.#buf = new Int32Array(1 + BATCH * this.#fields);
  }

  /**
   * Adopt into `sink` the children born since the last call. Returns false when the kernel dropped
   * events (its queue for us overflowed) or the socket failed: some birth may be missing, and the
   * caller must rescan.
   */
  poll(sink: BirthSink): boolean {
    if (this.#handle < 0) return false;
    let complete = true;
    for (;;) {
      const n = this.#addon.forkWatchDrain!(this.#handle, this.#buf);
      if (n < 0) {
        this.close(); // a socket error is not transient: scan from now on
        return false;
      }
      if (this.#buf[0]! > 0) complete = false;
      if (n > 0) this.#apply(n, sink);
      if (n < BATCH) return complete;
    }
  }

  /** Stop listening. Idempotent. */
  close(): void {
    if (this.#handle < 0) return;
    this.#addon.forkWatchClose!(this.#handle);
    this.#handle = -1;
  }

  #apply(n: number, sink: BirthSink): void {
    let born = 0;
    let waiting = 0;
    for (let i = 0; i < n; i++) {
      if (this.#kind(i) === EXIT && this.#fields >= FIELDS_WITH_STATUS) sink.ended(this.#pid(i), this.#buf[4 + i * this.#fields]!);
      // A child that execs before its fork event is read (later in this batch) reads its new argv at adoption.
      if (this.#kind(i) === EXEC) sink.execed(this.#pid(i));
      if (this.#kind(i) !== FORK) continue;
      if (this.#inTree(this.#ppid(i), sink, born)) born = this.#take(i, n, sink, born);
      else this.#waiting[waiting++] = i;
    }
    // The kernel queues a fork's event after the child is awake, and a child on another CPU may
    // fork first: its own child's event can come before its. Retry the rest until none joins.
    for (let joined = true; joined && waiting > 0; ) {
      joined = false;
      let kept = 0;
      for (let k = 0; k < waiting; k++) {
        const i = this.#waiting[k]!;
        if (this.#inTree(this.#ppid(i), sink, born)) {
          born = this.#take(i, n, sink, born);
          joined = true;
        } else this.#waiting[kept++] = i;
      }
      waiting = kept;
    }
  }

  /**
   * Record i's child is in the tree. It is adopted unless its exit is later in the same batch: then
   * it is gone already, there is nothing to read, and what it used reaches its parent's reaped
   * totals. Either way its own children in the batch join through it.
   */
  #take(i: number, n: number, sink: BirthSink, born: number): number {
    const pid = this.#pid(i);
    this.#born[born] = pid;
    if (this.#exitsAfter(pid, i, n) || !sink.adopt(pid, this.#ppid(i))) this.#haunt(pid);
    return born + 1;
  }

  #haunt(pid: number): void {
    this.#ghosts[this.#ghostNext] = pid;
    this.#ghostAt[this.#ghostNext] = performance.now();
    this.#ghostNext = (this.#ghostNext + 1) % GHOSTS;
  }

  #inTree(pid: number, sink: BirthSink, born: number): boolean {
    if (sink.has(pid)) return true;
    for (let k = 0; k < born; k++) if (this.#born[k] === pid) return true;
    const since = performance.now() - GHOST_MS;
    for (let k = 0; k < GHOSTS; k++) if (this.#ghosts[k] === pid && this.#ghostAt[k]! >= since) return true;
    return false;
  }

  #exitsAfter(pid: number, i: number, n: number): boolean {
    for (let j = i + 1; j < n; j++) if (this.#kind(j) === EXIT && this.#pid(j) === pid) return true;
    return false;
  }

  #kind(i: number): number {
    return this.#buf[1 + i * this.#fields]!;
  }

  #pid(i: number): number {
    return this.#buf[2 + i * this.#fields]!;
  }

  #ppid(i: number): number {
    return this.#buf[3 + i * this.#fields]!;
  }
}
