/**
 * The piscina task: load the history summaries and compute the stats, entirely off the host's
 * main thread (reading and decoding 1,000 sessions is tens of ms of work).
 */
import { errorData, ProcprobeError, type ErrorData } from '../errors.js';
import { HistoryStore } from '../history/store.js';
import { computeStats } from './compute.js';
import type { SessionSummary } from '../session/types.js';
import type { PerformanceStats } from './types.js';

export interface StatsTask {
  dataDir: string;
  days: number;
  now: number;
  /** Only sessions whose metadata.label equals this. */
  label?: string;
  /** Also the stats of each label apart (StatsResult.byLabel): `procprobe stats` without --label. */
  byLabel?: boolean;
}

export interface StatsResult {
  stats: PerformanceStats;
  warnings: string[];
  /** With `byLabel`: one entry per label (null: sessions without one), by label, null last. */
  byLabel?: LabelStats[];
}

export interface LabelStats {
  label: string | null;
  stats: PerformanceStats;
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
    const opts = { days: task.days, now: task.now };
    const result: StatsResult = { stats: computeStats(sessions, opts), warnings };
    if (task.byLabel) result.byLabel = groupByLabel(sessions).map(([label, group]) => ({ label, stats: computeStats(group, opts) }));
    return result;
  } catch (err) {
    if (err instanceof ProcprobeError) return { failure: errorData(err) };
    throw err;
  }
}

/** Sessions by their label (a string label, else null), sorted by label with null last. */
function groupByLabel(sessions: SessionSummary[]): [string | null, SessionSummary[]][] {
  const groups = new Map<string | null, SessionSummary[]>();
  for (const s of sessions) {
    const label = typeof s.metadata?.label === 'string' ? s.metadata.label : null;
    const group = groups.get(label);
    if (group) group.push(s);
    else groups.set(label, [s]);
  }
  return [...groups].sort(([a], [b]) => (a === null ? 1 : b === null ? -1 : a < b ? -1 : a > b ? 1 : 0));
}
