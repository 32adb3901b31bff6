/**
 * The terminal report of `procprobe run` / `show`: a phase table like systemd-analyze blame (the
 * slowest phase highlighted), sparklines over the startup, hyperfine-style statistics for --runs,
 * and the comparison with history.
 */
import { describe as distribution, median, modifiedZScores } from '../analysis/stats.js';
import { mannWhitney } from '../analysis/trend.js';
import type { Distribution, Suggestion, Trend } from '../analysis/types.js';
import { phaseNames, phaseTree, slowestPhase } from '../session/phase-tree.js';
import { phaseDurationMs, totalStartupMs, type SessionSummary } from '../session/types.js';
import { F } from '../probe/layout.js';
import { R } from '../ring/layout.js';
import type { SessionSamples } from '../session/types.js';
import { escapeControls, fmtBytes, fmtMs, fmtNum, fmtPct, sparkline, table, type Style } from './terminal.js';
import { cpuPercent } from '../units.js';

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
 * then the rest as one line. Empty when the session sampled one process.
 */
export function processTable(summary: SessionSummary, style: Style, top = 8): string {
  const list = [...(summary.processes ?? [])].sort((a, b) => b.cpuMs - a.cpuMs);
  if (list.length === 0) return '';
  const at = (t: number) => `+${fmtMs(t - summary.startTime)}`;
  const rows = list.slice(0, top).map((p) => [
    String(p.pid),
    String(p.ppid),
    fmtNum(p.cpuMs, 1),
    fmtBytes(p.peakRssBytes),
    fmtNum(p.peakThreads),
    at(p.startTime),
    p.endTime === null ? 'running' : at(p.endTime),
    escapeControls(p.command.length > 60 ? `${p.command.slice(0, 59)}…` : p.command), // argv is anyone's bytes
  ]);
  const rest = list.slice(top);
  const dropped = summary.processesDropped ?? 0;
  const more = rest.length + dropped > 0
    ? `\n${style.dim(`+ ${rest.length + dropped} more processes, ${fmtNum(rest.reduce((a, p) => a + p.cpuMs, 0), 1)} CPU ms${dropped ? ` (${dropped} not kept)` : ''}`)}`
    : '';
  return table(['pid', 'ppid', 'CPU ms', 'peak RSS', 'threads', 'start', 'end', 'command'], rows, style) + more;
}

/** Sparklines of CPU %, RSS and threads over the session's samples. */
export function sparklines(samples: SessionSamples, style: Style, width = 48): string {
  if (samples.count < 2) return style.dim('(too few samples for charts)');
  const col = (f: number) => Array.from({ length: samples.count }, (_, i) => samples.records[i * samples.stride + R.ROW + f]!);
  const cpu = cpuPerBucket(samples, width);
  const rss = col(F.rssBytes);
  const threads = col(F.threads);
  // reduce, not Math.max(...v): spreading a long session's samples throws RangeError.
  const max = (v: number[]) => v.reduce((m, x) => (Number.isFinite(x) && x > m ? x : m), -Infinity);
  return [
    `CPU %    ${style.cyan(sparkline(cpu, width))}  peak ${fmtPct(max(cpu))}`,
    `RSS      ${style.cyan(sparkline(rss, width))}  peak ${fmtBytes(max(rss))}`,
    `threads  ${style.cyan(sparkline(threads, width))}  peak ${fmtNum(max(threads))}`,
  ].join('\n');
}

/**
 * CPU % per time bucket from the cumulative CPU time (Δcpu / Δt of each bucket). Per-sample
 * percentages of another process are noisy at 1 kHz (its CPU clock advances at scheduler ticks),
 * bucket averages are not.
 */
function cpuPerBucket(samples: SessionSamples, buckets: number): number[] {
  const at = (i: number, f: number) => samples.records[i * samples.stride + R.ROW + f]!;
  const cpu = (i: number) => at(i, F.cpuUserUs) + at(i, F.cpuSystemUs);
  // Buckets of at least 20 ms: another process's CPU time advances in scheduler ticks (4 ms at HZ=250).
  const spanMs = at(samples.count - 1, F.timestamp) - at(0, F.timestamp);
  const n = Math.max(1, Math.min(buckets, samples.count - 1, Math.floor(spanMs / 20)));
  const out: number[] = [];
  for (let b = 0; b < n; b++) {
    const i = Math.floor((b * (samples.count - 1)) / n);
    const j = Math.floor(((b + 1) * (samples.count - 1)) / n);
    const dt = (at(j, F.timestamp) - at(i, F.timestamp)) * 1e3;
    out.push(cpuPercent(cpu(j) - cpu(i), dt));
  }
  return out;
}

export interface PhaseRunStats {
  name: string;
  durations: Distribution;
  /** 1-based run numbers whose duration is an outlier (modified z-score > 3.5). */
  outliers: number[];
}

/** Per-phase statistics over several runs (failed timings left out). */
export function runStatistics(runs: readonly SessionSummary[]): PhaseRunStats[] {
  return phaseNames(runs).map((name) => {
    // A run where this phase failed or did not happen contributes NaN, which the statistics skip.
    const values = runs.map((s) => phaseDurationMs(s, name));
    const z = modifiedZScores(values);
    const outliers = z.flatMap((v, i) => (Math.abs(v) > 3.5 ? [i + 1] : []));
    return { name, durations: distribution(values), outliers };
  });
}

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
