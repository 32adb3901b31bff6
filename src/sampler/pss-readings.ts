/**
 * PSS readings in the sampler, at their own lower rate (src/probe/pss.ts says why).
 *
 * PssSchedule: a reading is taken after a record is published, so the page-table walk never
 * holds a record open (its version odd) or delays a read that is due; the next record carries it
 * (R.PSS_BYTES, also through the native loop's state[3]), every other record NaN.
 *
 * PssRounds, a tree's PSS one member per tick: a reading walks that member's page tables on the sampler's
 * thread (src/probe/pss.ts), and reading every member in one tick would hold that tick for their
 * sum (a 5-process tree of 57 MiB each: ~10 ms of CPU). A round starts every pssIntervalMs with
 * the members of the moment and reads one of them per tick; when the last is read, the round's
 * sum is the tree's PSS (each shared page counted once over the tree) and the next record
 * carries it. A member gone before its turn, or whose file cannot be read (another user's), is
 * left out; a member adopted during a round waits for the next one.
 */
import { readPssBytes } from '../probe/pss.js';

export class PssRounds {
  #pids: number[] = [];
  #next = 0;
  #sum = 0;
  #read = 0;

  /** A round is under way: call step() at each tick until it returns true. */
  get active(): boolean {
    return this.#next < this.#pids.length;
  }

  /** The finished round's sum in bytes; NaN when no member could be read. */
  get sum(): number {
    return this.#read > 0 ? this.#sum : NaN;
  }

  /** Start a round over these pids (the caller's array is kept: a fresh one per round). */
  start(pids: number[]): void {
    this.#pids = pids;
    this.#next = 0;
    this.#sum = 0;
    this.#read = 0;
  }

  /** Read the next member; true when that was the last one (also for a round of none). */
  step(): boolean {
    if (this.#next < this.#pids.length) {
      const v = readPssBytes(this.#pids[this.#next++]!);
      if (!Number.isNaN(v)) {
        this.#sum += v;
        this.#read++;
      }
    }
    return this.#next >= this.#pids.length;
  }
}

/** What a schedule needs of a tree: whose PSS a round reads. */
export interface PssMembers {
  pssPids(): number[];
}

export class PssSchedule {
  readonly #every: number;
  readonly #pid: number;
  /** When the next reading is due, on performance.now()'s clock (ms); Infinity: never. */
  #next: number;
  readonly #rounds = new PssRounds();
  /** The reading for the next record, NaN for none. */
  #pending = NaN;

  /** `intervalMs` 0: never read. `pid`: the process read when there is no tree. */
  constructor(intervalMs: number, pid: number) {
    this.#every = intervalMs > 0 ? intervalMs : Infinity;
    this.#next = intervalMs > 0 ? 0 : Infinity;
    this.#pid = pid;
  }

  /** Read now if due (a tree: its round's next member, the sum once the round is done), else nothing. */
  take(now: number, tree: PssMembers | null): void {
    if (tree && this.#rounds.active) {
      if (this.#rounds.step()) this.#pending = this.#rounds.sum;
      return;
    }
    if (now < this.#next) return;
    this.#next = now + this.#every;
    if (!tree) this.#pending = readPssBytes(this.#pid);
    else {
      this.#rounds.start(tree.pssPids());
      if (this.#rounds.step()) this.#pending = this.#rounds.sum;
    }
  }

  /** The pending reading, which the caller's next record takes: NaN from now on. */
  takePending(): number {
    const v = this.#pending;
    this.#pending = NaN;
    return v;
  }

  /** ms until the next reading is due (0: now). */
  untilDue(now: number): number {
    return Math.max(0, this.#next - now);
  }
}
