/**
 * The bookkeeping of Sampler's worker (sampler.ts): one worker's life, the samplers alive in
 * this thread (stopped first at process exit), and the callers waiting for a tree's process list.
 */
import type { Worker } from 'node:worker_threads';
import type { ProcprobeError } from '../errors.js';
import type { TreeProcess } from './processes.js';

/** One worker's life: from its spawn to its exit. */
export interface WorkerRun {
  worker: Worker;
  running: boolean;
  /** Its first sample is in the ring. */
  ready: boolean;
  /** What went wrong, reported when it has exited. */
  failure: ProcprobeError | null;
  stoppedReason: 'target-exited' | null;
}

/** Samplers alive in this thread, so that process exit can stop their writers first. */
export const live = new Set<WeakRef<{ requestStop(): void }>>();
let exitHooked = false;

export function hookExit(): void {
  if (exitHooked) return;
  exitHooked = true;
  // On exit the ring must stop moving so that 'exit' handlers read the last samples as they are.
  process.once('exit', () => {
    for (const ref of live) ref.deref()?.requestStop();
  });
}

/** A tree's process list as the worker posts it. */
export interface ProcessList {
  list: TreeProcess[];
  dropped: number;
}

/** Callers of Sampler.processes(): each gets the next list the worker posts, or null at its timeout. */
export class ProcessWaiters {
  readonly #waiting: Array<(r: ProcessList | null) => void> = [];

  wait(timeoutMs: number): Promise<ProcessList | null> {
    return new Promise((resolve) => {
      // Not unref'd: the worker is, so an awaiting host would otherwise exit before the answer.
      // The wait is bounded by the timeout.
      const timer = setTimeout(() => done(null), timeoutMs);
      const done = (r: ProcessList | null): void => {
        clearTimeout(timer);
        const i = this.#waiting.indexOf(done);
        if (i >= 0) this.#waiting.splice(i, 1);
        resolve(r);
      };
      this.#waiting.push(done);
    });
  }

  /** The worker's answer (null: it stopped) to everyone waiting. */
  answer(r: ProcessList | null): void {
    for (const waiter of this.#waiting.splice(0)) waiter(r);
  }
}
