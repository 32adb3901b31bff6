/**
 * The terminal report of `procprobe run` / `show`: a phase table like systemd-analyze blame (the
 * slowest phase highlighted), sparklines over the startup, hyperfine-style statistics for --runs,
 * and the comparison with history.
 */
import type { PhaseRunStats } from '../analysis/runs.js';
import { median } from '../analysis/stats.js';
import { mannWhitney } from '../analysis/trend.js';
import type { Suggestion, Trend } from '../analysis/types.js';
import { phaseTree, slowestPhase } from '../session/phase-tree.js';
import { exitText, rankProcesses, tailOf, tailPrograms, type ProcessTail } from '../session/process-list.js';
import { samplerWarning } from '../session/sampler-account.js';
import { totalStartupMs, type SessionSummary } from '../session/types.js';
import { escapeControls, fmtBytes, fmtMs, fmtNum, fmtPct, table, type Style } from './terminal.js';

/** The phase table of one session. */
export function phaseTable(summary: SessionSummary, style: Style): string {
  const total = totalStartupMs(summary);
  const slowest = slowestPhase(summary.phases);
  const rows = phaseTree(summary.phases).map(({ phase: p, depth }) => {
    const r = p.resources;
    const name = `${'  '.repeat(depth)}${escapeControls(p.name)}`; // any string is a phase name
    const mark = !p.success ? style.red(`${name} ✗`) : p === slowest ? style.yellow(style.bold(`${name} ◀ slowest`)) : name;
    return [
      mark,
      `+${fmtMs(p.startOffsetMs)}`,
      fmtMs(p.durationMs),
      fmtPct((p.durationMs / total) * 100),
      r ? fmtNum(r.cpuMs, 1) : '-',
      r ? fmtPct(r.cpuPercent) : '-',
      r ? fmtBytes(r.rssPeakBytes) : '-',
      r ? fmtNum(r.threadsPeak) : '-',
      r ? fmtNum(r.fdsPeak) : '-',
      r ? fmtNum(r.voluntaryContextSwitches + r.involuntaryContextSwitches) : '-',
    ];
  });
  return table(['phase', 'start', 'duration', 'share', 'CPU ms', 'CPU %', 'peak RSS', 'threads', 'fds', 'ctx sw'], rows, style);
}

/**
 * The processes of a tree, the most CPU first (like systemd-analyze blame): the `top` of them,
 * then the rest as one line (how many, which programs, their CPU). Empty when the session
 * sampled one process.
 */
export function processTable(summary: SessionSummary, style: Style, top = 8): string {
  const list = summary.processes ?? [];
  if (list.length === 0) return '';
  const ranked = rankProcesses(list, top);
  const at = (t: number) => `+${fmtMs(t - summary.startTime)}`;
  const rows = ranked.top.map((p) => {
    const exit = exitText(p);
    return [
      String(p.pid),
      String(p.ppid),
      fmtNum(p.cpuMs, 1),
      fmtBytes(p.peakRssBytes),
      fmtNum(p.peakThreads),
      at(p.startTime),
      p.endTime === null ? 'running' : at(p.endTime),
      exit === '' || exit === 'code 0' || exit === 'running' ? style.dim(exit || '-') : style.red(exit),
      escapeControls(p.command.length > 60 ? `${p.command.slice(0, 59)}…` : p.command), // argv is anyone's bytes
    ];
  });
  return table(['pid', 'ppid', 'CPU ms', 'peak RSS', 'threads', 'start', 'end', 'exit', 'command'], rows, style) + tailLine(tailOf(ranked.tail, summary.processesDropped ?? 0), style);
}

/** The long tail as one line: "+ 40 more processes (38 × date, 2 × sh), 12.3 CPU ms, largest 3.2 MiB". */
function tailLine(t: ProcessTail, style: Style): string {
  if (t.count + t.dropped === 0) return '';
  const programs = t.count > 0 ? ` (${escapeControls(tailPrograms(t))})` : ''; // program names are anyone's bytes
  const rss = t.count > 0 ? `, largest ${fmtBytes(t.peakRssBytes)}` : '';
  const dropped = t.dropped ? ` (${t.dropped} not kept)` : '';
  return `\n${style.dim(`+ ${t.count + t.dropped} more processes${programs}, ${fmtNum(t.cpuMs, 1)} CPU ms${rss}${dropped}`)}`;
}

/**
 * The sampler's own cost (one line, dim) and, when it perturbed the session, a warning naming
 * --interval; empty for a session saved before the self-accounting existed.
 */
export function samplerLines(summary: SessionSummary, style: Style): string[] {
  const a = summary.sampler;
  if (!a) return [];
  const cpu = Number.isFinite(a.cpuMs) ? `${fmtNum(a.cpuMs, 1)} ms CPU (${fmtNum(a.corePercent, 1)} % of a core)` : 'CPU not measured on this OS';
  const line = `sampler: ${cpu} over ${fmtMs(a.wallMs)}, ${fmtNum(a.achievedHz)} Hz of ${fmtNum(a.targetHz)} Hz, ${a.missedDeadlines} deadlines missed (${fmtNum(a.missedPercent, 1)} %)`;
  const warning = samplerWarning(a, '--interval');
  return [style.dim(line), ...(warning ? [style.yellow(`! ${warning}`)] : [])];
}

export { sparklines } from './sparklines.js';

export { runStatistics, type PhaseRunStats } from '../analysis/runs.js';

export function runsTable(stats: readonly PhaseRunStats[], style: Style): string {
  const rows = stats.map((s) => {
    const d = s.durations;
    return [
      escapeControls(s.name),
      `${fmtMs(d.mean)} ± ${fmtMs(d.stddev)}`,
      `${fmtMs(d.min)} … ${fmtMs(d.max)}`,
      fmtMs(d.median),
      fmtMs(d.p90),
      fmtMs(d.p99),
      s.outliers.length ? style.yellow(`runs ${s.outliers.join(', ')}`) : '',
    ];
  });
  return table(['phase', 'mean ± σ', 'min … max', 'p50', 'p90', 'p99', 'outliers'], rows, style);
}

export interface Comparison {
  /** Earlier successful sessions with the same label (at most 30). */
  baselineCount: number;
  baselineMedianMs: number;
  currentMedianMs: number;
  /** currentMedian / baselineMedian - 1. */
  change: number;
  /** One-sided Mann-Whitney p-value in the direction of the change. */
  p: number;
  trend: Trend;
  suggestions: Suggestion[];
}

/** Compare this invocation's total startups with the label's earlier ones. */
export function compare(current: readonly number[], baseline: readonly number[], trend: Trend, suggestions: Suggestion[]): Comparison {
  const b = baseline.slice(-30);
  const cm = median(current);
  const bm = median(b);
  const change = cm / bm - 1;
  const p = b.length > 0 && current.length > 0 ? mannWhitney(current, b, change >= 0 ? 'greater' : 'less').p : NaN;
  return { baselineCount: b.length, baselineMedianMs: bm, currentMedianMs: cm, change, p, trend, suggestions };
}

export function renderComparison(c: Comparison, style: Style): string {
  const lines: string[] = [];
  if (c.baselineCount === 0) {
    lines.push(style.dim('history: no earlier successful run of this command to compare with'));
  } else {
    const pct = `${c.change >= 0 ? '+' : ''}${(c.change * 100).toFixed(1)}%`;
    const sig = c.p < 0.01 ? (c.change > 0 ? style.red('significant') : style.green('significant')) : style.dim('not significant');
    lines.push(`vs history (${c.baselineCount} earlier runs, median ${fmtMs(c.baselineMedianMs)}): ${fmtMs(c.currentMedianMs)} ${pct}, p = ${c.p.toPrecision(2)} (${sig})`);
  }
  const t = c.trend;
  const verdict = t.verdict === 'degrading' ? style.red(t.verdict) : t.verdict === 'improving' ? style.green(t.verdict) : t.verdict;
  lines.push(
    t.verdict === 'insufficient_data'
      ? `trend: ${style.dim('insufficient data')} (needs 20 successful runs, has ${t.recentCount + t.baselineCount})`
      : `trend: ${verdict} (Δ ${(t.delta * 100).toFixed(1)}%, gate ${(t.gate * 100).toFixed(1)}%, p = ${t.p.toPrecision(2)})`,
  );
  for (const s of c.suggestions) lines.push(`${style.yellow('›')} ${escapeControls(s.message)}`); // they quote phase names
  return lines.join('\n');
}
