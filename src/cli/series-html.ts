/**
 * The HTML page of a series (report/series.ts) from the CLI: `procprobe run --runs N --html FILE`
 * writes it for the runs just made, `procprobe report --label L --html FILE` for the label's
 * latest runs in history. Both draw the label's whole history beside them with its trend.
 */
import { runStats } from '../analysis/pool.js';
import { HistoryStore } from '../history/store.js';
import { renderSeriesReport } from '../report/series.js';
import type { SessionSummary } from '../session/types.js';
import { UsageError } from '../errors.js';
import { writeOutput } from './files.js';

/** Sessions of `label` in the data dir, oldest first, warmups left out. */
export async function labelHistory(dataDir: string, label: string): Promise<{ sessions: SessionSummary[]; warnings: string[] }> {
  const { value, warnings } = await new HistoryStore(dataDir).loadSummaries(0);
  const sessions = value.filter((s) => s.metadata?.label === label && s.metadata?.warmup !== true).sort((a, b) => a.startTime - b.startTime);
  return { sessions, warnings };
}

/** Write the series page of `runs` to `file` (`flag` names it in errors). */
export async function writeSeriesHtml(flag: string, file: string, dataDir: string, label: string, runs: readonly SessionSummary[]): Promise<void> {
  const { sessions } = await labelHistory(dataDir, label);
  const { stats } = await runStats({ dataDir, days: 3650, now: Date.now(), label });
  writeOutput(flag, file, renderSeriesReport({ runs, history: sessions, trend: stats.totalTrend }));
}

/** `report --label L`: the label's latest `last` runs as a series. */
export async function reportLabel(file: string, dataDir: string, label: string, last: number): Promise<{ runs: number; warnings: string[] }> {
  const { sessions, warnings } = await labelHistory(dataDir, label);
  if (sessions.length === 0) throw new UsageError(`no sessions labelled ${JSON.stringify(label)} in ${dataDir}`);
  const runs = sessions.slice(-last);
  await writeSeriesHtml('--html', file, dataDir, label, runs);
  return { runs: runs.length, warnings };
}
