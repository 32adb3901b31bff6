/**
 * The piscina task: load the history summaries and compute the stats, entirely off the host's
 * main thread (reading and decoding 1,000 sessions is tens of ms of work).
 */
import { errorData, ProcprobeError, type ErrorData } from '../errors.js';
import { HistoryStore } from '../history/store.js';
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
 * An error of procprobe's thrown here, as data: structured clone keeps its message but not its
 * class or `code`, so runStats rebuilds it (rebuildError).
 */
export interface TaskFailure {
  failure: ErrorData;
}

export default async function statsTask(task: StatsTask): Promise<StatsResult | TaskFailure> {
  const store = new HistoryStore(task.dataDir);
  const since = task.now - task.days * 86_400_000;
  try {
    const { value, warnings } = await store.loadSummaries(since);
    const sessions = task.label === undefined ? value : value.filter((s) => s.metadata?.label === task.label);
    return { stats: computeStats(sessions, { days: task.days, now: task.now }), warnings };
  } catch (err) {
    if (err instanceof ProcprobeError) return { failure: errorData(err) };
    throw err;
  }
}
