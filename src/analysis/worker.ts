/**
 * The piscina task: load the history summaries and compute the stats, entirely off the host's
 * main thread (reading and decoding 1,000 sessions is tens of ms of work).
 */
import { DataDirLayoutError } from '../errors.js';
import { DataDirError, HistoryStore } from '../history/store.js';
import { computeStats } from './compute.js';
import type { PerformanceStats } from './types.js';

export interface StatsTask {
  dataDir: string;
  days: number;
  now: number;
  /** Only sessions whose metadata.label equals this. */
  label?: string;
}

export interface StatsResult {
  stats: PerformanceStats;
  warnings: string[];
}

/**
 * A data dir the loader refused, as data: an error thrown here reaches the caller as a plain
 * Error (structured clone keeps the message, not the class or `code`), so runStats rebuilds it.
 */
export interface DataDirFailure {
  failure: { layout: boolean; path: string; detail: string };
}

export default async function statsTask(task: StatsTask): Promise<StatsResult | DataDirFailure> {
  const store = new HistoryStore(task.dataDir);
  const since = task.now - task.days * 86_400_000;
  try {
    const { value, warnings } = await store.loadSummaries(since);
    const sessions = task.label === undefined ? value : value.filter((s) => s.metadata?.label === task.label);
    return { stats: computeStats(sessions, { days: task.days, now: task.now }), warnings };
  } catch (err) {
    if (err instanceof DataDirLayoutError) return { failure: { layout: true, path: err.path, detail: err.found } };
    if (err instanceof DataDirError) return { failure: { layout: false, path: err.path, detail: err.detail } };
    throw err;
  }
}
