/**
 * The analysis pool: one lazily created piscina pool per process, a single thread that exits when
 * idle, so analysis never runs on the host's main thread and an idle pool costs nothing.
 */
import { Piscina } from 'piscina';
import type { StatsResult, StatsTask } from './worker.js';

let pool: Piscina | null = null;

function getPool(): Piscina {
  pool ??= new Piscina({
    filename: new URL('./worker.js', import.meta.url).href,
    minThreads: 0,
    maxThreads: 1,
    idleTimeout: 2000,
  });
  return pool;
}

/** Compute stats over the history in the pool. */
export function runStats(task: StatsTask): Promise<StatsResult> {
  return getPool().run(task) as Promise<StatsResult>;
}

/** Destroy the pool (it is recreated on the next use). */
export async function closeAnalysisPool(): Promise<void> {
  const p = pool;
  pool = null;
  await p?.destroy();
}
