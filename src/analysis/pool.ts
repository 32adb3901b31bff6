/**
 * The analysis pool: one lazily created piscina pool per process, a single thread that exits when
 * idle, so analysis never runs on the host's main thread and an idle pool costs nothing.
 */
import { Piscina } from 'piscina';
import { rebuildError } from '../errors.js';
import { workerOptions } from '../worker-options.js';
import type { StatsResult, StatsTask, TaskFailure } from './worker.js';

let pool: Piscina | null = null;

function getPool(): Piscina {
  pool ??= new Piscina({
    // A file URL, not a path: piscina's worker tries require() first and falls back to import();
    // require(esm) of a task file aborts the whole process when the pool is destroyed mid-load
    // (see src/worker-options.ts), a URL goes straight to import().
    filename: new URL('./worker.js', import.meta.url).href,
    ...workerOptions(),
    minThreads: 0,
    maxThreads: 1,
    idleTimeout: 2000,
  });
  return pool;
}

/** Compute stats over the history in the pool. Throws the loader's errors in their classes (DataDirLayoutError, DataDirError). */
export async function runStats(task: StatsTask): Promise<StatsResult> {
  const reply = (await getPool().run(task)) as StatsResult | TaskFailure;
  if (!('failure' in reply)) return reply;
  throw rebuildError(reply.failure);
}

let users = 0;

/** Note one more user of the pool (a PerformanceMonitor); pair with releaseAnalysisPool. */
export function retainAnalysisPool(): void {
  users++;
}

/**
 * One user is done; the pool is destroyed when the last one is (another monitor's stats call in
 * flight is never cut off). Callers that never retained it rely on its idle timeout.
 */
export async function releaseAnalysisPool(): Promise<void> {
  users = Math.max(0, users - 1);
  if (users > 0) return;
  const p = pool;
  pool = null;
  await p?.destroy();
}
