/**
 * A tree's housekeeping between ticks, in the worker (worker.ts calls beforeRecord once a tick):
 * the main thread's requests through header words (reset totals, send the process list, rescan),
 * adopting children from fork events, the periodic rescan, and the costly-counts budget.
 *
 * The budget: open fds, threads and per-thread context switches cost ~9 µs a thread to read
 * (one /proc/PID/task/TID/status each), so as a tree grows its counts interval is lengthened to
 * keep their reading under COUNTS_BUDGET_US_PER_MS µs of CPU per ms (0.5 % of a core), unless
 * the user set countsIntervalMs. Recomputed every BUDGET_MS (a sum over the members' last
 * readings) and at each rescan, never per tick.
 */
import { H } from '../ring/layout.js';
import type { ForkEvents, ForkEventsOpen } from './fork-events.js';
import { DEFAULT_RESCAN_MS, SAFETY_NET_RESCAN_MS } from './options.js';
import type { WorkerMessage } from './messages.js';
import type { TreeSource } from './tree.js';

/** Measured: (79 µs - 15 µs) / 7 threads for a read of a 7-thread Node child with and without its counts. */
export const COUNTS_US_PER_THREAD = 9;
/** The counts' share of the sampler thread: µs of CPU per ms of wall time (5 = 0.5 % of a core). */
export const COUNTS_BUDGET_US_PER_MS = 5;
/** ms between budget checks: the old rescan cadence, kept when fork events stretch the rescan to 1 s. */
const BUDGET_MS = DEFAULT_RESCAN_MS;

/** The counts interval a tree of `threads` threads gets under the budget: at least `askedMs`. */
export function budgetedCountsInterval(askedMs: number, threads: number): number {
  if (!(threads > 0)) return askedMs;
  return Math.max(askedMs, Math.ceil((threads * COUNTS_US_PER_THREAD) / COUNTS_BUDGET_US_PER_MS));
}

/**
 * ms between a tree's rescans. Forks, execs and exits as they happen leave a rescan nothing to
 * find unless events were lost (then it runs at once), so with live exec events a default
 * interval becomes the safety net's; an interval the user set is kept.
 */
export function rescanInterval(events: ForkEvents | null, askedMs: number, isDefault: boolean): number {
  return events?.execs === true && isDefault ? Math.max(SAFETY_NET_RESCAN_MS, askedMs) : askedMs;
}

/** How a tree finds its members, in words: a monitor's treeDiscovery and `procprobe doctor`'s. */
export function discoveryReason(births: ForkEventsOpen, rescanMs: number, rescanReason: string): string {
  return `${births.reason}; rescans every ${rescanMs} ms: ${rescanReason}`;
}

export class TreeUpkeep {
  #nextRescan: number;
  #nextBudget: number;
  #countsMs: number;

  constructor(
    readonly tree: TreeSource,
    readonly births: ForkEvents | null,
    readonly header: Int32Array,
    readonly rescanIntervalMs: number,
    now: number,
    readonly post: (m: WorkerMessage) => void,
    /** The counts interval asked for, and whether the budget may lengthen it (not when the user set it). */
    readonly countsAskedMs = 0,
    readonly countsBudget = false,
  ) {
    this.#nextRescan = now + rescanIntervalMs;
    this.#nextBudget = now + BUDGET_MS;
    this.#countsMs = countsAskedMs;
  }

  /** Run the requests and the rescan due at deadline `next`; true when the totals were reset. */
  beforeRecord(next: number): boolean {
    const { tree, births, header } = this;
    let reset = false;
    if (Atomics.load(header, H.RESET_TOTALS) !== 0) {
      Atomics.store(header, H.RESET_TOTALS, 0);
      tree.resetTotals();
      reset = true;
    }
    if (Atomics.exchange(header, H.PROCESSES, 0) !== 0) this.post({ code: 'PROCESSES', ...tree.processList() });
    // Children born since the last tick join now; if the kernel dropped events, rescan at once.
    const lost = births !== null && !tree.adoptBorn(births);
    // A rescan asked for right after a spawn: with fork events, adoptBorn above has adopted the
    // child already (its fork event is queued before the spawn returns), so the full scan, which
    // reads every process's stat (milliseconds on a busy box, on a core the new command needs),
    // is left to the periodic safety net. Without fork events it runs at once.
    const asked = Atomics.exchange(header, H.RESCAN, 0) !== 0 && births === null;
    if (lost || next >= this.#nextRescan || asked) {
      tree.rescan();
      this.#nextRescan = next + this.rescanIntervalMs;
      this.#rebudget(next);
    } else if (next >= this.#nextBudget) this.#rebudget(next);
    return reset;
  }

  /** Lengthen (or shorten back) every member's counts interval to the budget for the tree's threads now. */
  #rebudget(now: number): void {
    this.#nextBudget = now + BUDGET_MS;
    if (!this.countsBudget) return;
    const ms = budgetedCountsInterval(this.countsAskedMs, this.tree.liveThreads());
    if (ms === this.#countsMs) return;
    this.#countsMs = ms;
    this.tree.setCountsInterval(ms);
    this.post({ code: 'COUNTS_INTERVAL', countsIntervalMs: ms });
  }
}
