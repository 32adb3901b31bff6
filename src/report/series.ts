/**
 * The HTML page of a series of runs of one command (`procprobe run --runs N --html`, `procprobe
 * report --label L --html`): per phase the distribution of the runs (a strip plot, outliers
 * marked with their run number), the runs in order (drift, warm-up), the label's history over
 * time with its trend verdict, and each run's phase table one click away (a <details>). Same
 * rules as the single-session page (html.ts): one self-contained file, no script, all user
 * text escaped.
 */
import { runStatistics, type PhaseRunStats } from '../analysis/runs.js';
import type { Trend } from '../analysis/types.js';
import { phaseDurationMs, TOTAL_STARTUP, type SessionSummary } from '../session/types.js';
import { checkOptionalString, checkOptions, optionKeys } from '../validate.js';
import { fmtMs, num } from './format.js';
import { sessionPhaseTable } from './phase-table.js';
import { STYLE } from './style.js';
import { esc, niceTicks, tickLabel } from './svg.js';

export interface SeriesReportInput {
  /** The runs of the series, in the order they ran (warmups left out). */
  runs: readonly SessionSummary[];
  /** Earlier sessions of the same label (any order), drawn as its history; may be empty. */
  history?: readonly SessionSummary[];
  /** The label's trend over its history (analysis), shown under the history chart. */
  trend?: Trend;
}

export interface SeriesReportOptions {
  title?: string;
}

const W = 1280;
const LEFT = 230;
const RIGHT = W - 40;
const r1 = (x: number): number => Math.round(x * 10) / 10;

/** An x axis over [lo, hi] with its ticks (ms unless `label` formats them). */
function axis(lo: number, hi: number, y: number, top: number, unit: string, label = (v: number, step: number) => tickLabel(v, step)) {
  const { ticks, step } = niceTicks(lo, hi, 8);
  const x0 = Math.min(lo, ticks[0] ?? lo);
  const x1 = Math.max(hi, ticks[ticks.length - 1] ?? hi);
  const x = (v: number): number => LEFT + ((v - x0) / (x1 - x0 || 1)) * (RIGHT - LEFT);
  let s = '';
  for (const t of ticks) {
    s += `<line class="grid" x1="${r1(x(t))}" x2="${r1(x(t))}" y1="${top}" y2="${y - 14}"/>`;
    s += `<text class="tick" x="${r1(x(t))}" y="${y}" text-anchor="middle">${esc(label(t, step))}</text>`;
  }
  s += `<text class="tick unit" x="${LEFT - 10}" y="${y}" text-anchor="end">${esc(unit)}</text>`;
  return { s, x };
}

/** One row per phase: each run a dot at its duration, the median a bar, outliers red with their run number. */
function stripSvg(stats: PhaseRunStats[], runs: readonly SessionSummary[]): string {
  const values = stats.map((st) => runs.map((s) => phaseDurationMs(s, st.name)));
  const finite = values.flat().filter(Number.isFinite);
  if (finite.length === 0) return '<p class="note">No phase succeeded in any run.</p>';
  const rowH = 34;
  const top = 8;
  const h = top + stats.length * rowH + 30;
  const ax = axis(0, Math.max(...finite), h - 8, top, 'ms');
  let s = `<svg class="strip" viewBox="0 0 ${W} ${h}" role="img" aria-label="Durations of every run, per phase">${ax.s}`;
  stats.forEach((st, i) => {
    const y = top + i * rowH;
    if (i % 2 === 1) s += `<rect class="band" x="0" y="${y}" width="${W}" height="${rowH}"/>`;
    s += `<text class="plabel" x="12" y="${y + 21}">${esc(st.name.length > 28 ? `${st.name.slice(0, 27)}…` : st.name)}</text>`;
    const med = st.durations.median;
    if (Number.isFinite(med)) s += `<rect class="median" x="${r1(ax.x(med) - 1.5)}" y="${y + 4}" width="3" height="${rowH - 8}"><title>median ${esc(fmtMs(med))}</title></rect>`;
    values[i]!.forEach((v, k) => {
      if (!Number.isFinite(v)) return;
      const out = st.outliers.includes(k + 1);
      // Spread the dots of a row over 5 lanes by run number, so that equal durations stay visible.
      const cy = y + 9 + (k % 5) * 4;
      s += `<circle class="dot${out ? ' out' : ''}" cx="${r1(ax.x(v))}" cy="${cy}" r="${out ? 4.5 : 3.5}"><title>run ${k + 1}: ${esc(fmtMs(v))}${out ? ' (outlier)' : ''}</title></circle>`;
      if (out) s += `<text class="olabel" x="${r1(ax.x(v) + 7)}" y="${cy + 4}">run ${k + 1}</text>`;
    });
  });
  return `${s}</svg>`;
}

/** A line of y over x with dots (runs in order, or history over time); `mark` highlights points. */
function lineSvg(points: { x: number; y: number; tip: string; mark: boolean }[], xUnit: string, xLabel: (v: number, step: number) => string, aria: string): string {
  const h = 190;
  const top = 12;
  const bottom = h - 34;
  const ys = points.map((p) => p.y);
  const yt = niceTicks(0, Math.max(...ys, 1), 4);
  const yhi = Math.max(...ys, yt.ticks[yt.ticks.length - 1] ?? 1);
  const y = (v: number): number => bottom - (v / (yhi || 1)) * (bottom - top);
  const xs = points.map((p) => p.x);
  const ax = axis(Math.min(...xs), Math.max(...xs), h - 10, top, xUnit, xLabel);
  let s = `<svg class="chart" viewBox="0 0 ${W} ${h}" role="img" aria-label="${esc(aria)}">${ax.s}`;
  for (const t of yt.ticks) {
    s += `<line class="grid h" x1="${LEFT}" x2="${RIGHT}" y1="${r1(y(t))}" y2="${r1(y(t))}"/><text class="tick" x="${LEFT - 8}" y="${r1(y(t) + 4)}" text-anchor="end">${esc(tickLabel(t, yt.step))}</text>`;
  }
  s += `<text class="tick unit" x="12" y="${top + 12}">total_startup, ms</text>`;
  s += `<path class="line s-cpu" d="${points.map((p, i) => `${i ? 'L' : 'M'}${r1(ax.x(p.x))} ${r1(y(p.y))}`).join('')}"/>`;
  for (const p of points) s += `<circle class="dot${p.mark ? ' now' : ''}" cx="${r1(ax.x(p.x))}" cy="${r1(y(p.y))}" r="3.5"><title>${esc(p.tip)}</title></circle>`;
  return `${s}</svg>`;
}

function trendText(t: Trend | undefined): string {
  if (!t || t.verdict === 'insufficient_data') return 'Trend: too few sessions of this label for a verdict.';
  const change = `${t.delta >= 0 ? '+' : ''}${num(t.delta * 100, 1)} %`;
  return `Trend: ${t.verdict} — median of the last ${t.recentCount} against the ${t.baselineCount} before: ${change} (p = ${t.p.toPrecision(2)}, gate ${num(t.gate * 100, 1)} %).`;
}

function runsTableHtml(stats: PhaseRunStats[]): string {
  const body = stats.map((st) => {
    const d = st.durations;
    return `<tr><td class="name">${esc(st.name)}</td><td class="num">${num(d.count)}</td><td class="num">${fmtMs(d.median)}</td><td class="num">${fmtMs(d.mean)} ± ${fmtMs(d.stddev)}</td><td class="num">${fmtMs(d.min)} … ${fmtMs(d.max)}</td><td class="num">${fmtMs(d.p90)}</td><td>${st.outliers.length ? `<span class="pill warn">runs ${st.outliers.join(', ')}</span>` : ''}</td></tr>`;
  });
  return `<div class="card scroll"><table><thead><tr><th>Phase</th><th>Runs</th><th>Median</th><th>Mean ± σ</th><th>Min … max</th><th>p90</th><th>Outliers</th></tr></thead><tbody>\n${body.join('\n')}\n</tbody></table></div>`;
}

const SERIES_OPTIONS = optionKeys<SeriesReportOptions>({ title: true });

/** The series page as one self-contained HTML string. */
export function renderSeriesReport(input: SeriesReportInput, options: SeriesReportOptions = {}): string {
  checkOptions('options', options, SERIES_OPTIONS, 'renderSeriesReport');
  checkOptionalString('title', options.title);
  const runs = [...input.runs];
  // total_startup first: the figure the page is about, then the phases in their order.
  const stats = runStatistics(runs).sort((a, b) => Number(b.name === TOTAL_STARTUP) - Number(a.name === TOTAL_STARTUP));
  const totals = runs.map((s) => phaseDurationMs(s, TOTAL_STARTUP));
  const total = stats.find((st) => st.name === TOTAL_STARTUP);
  const label = String(runs[0]?.metadata?.label ?? '');
  const ok = runs.filter((s) => s.success).length;
  const now = new Set(runs.map((s) => s.id));
  const history = [...(input.history ?? []), ...runs.filter((s) => !(input.history ?? []).some((h) => h.id === s.id))]
    .filter((s) => Number.isFinite(phaseDurationMs(s, TOTAL_STARTUP)))
    .sort((a, b) => a.startTime - b.startTime);
  // Tick labels as precise as the history's span needs: days apart, or runs within a minute.
  const span = history.length ? history[history.length - 1]!.startTime - history[0]!.startTime : 0;
  const iso = (v: number): string => new Date(v).toISOString().replace('T', ' ');
  const day = (v: number): string => (span > 2 * 86_400_000 ? iso(v).slice(0, 10) : span > 3_600_000 ? iso(v).slice(5, 16) : iso(v).slice(11, 19));
  const ordered = totals.flatMap((v, i) => (Number.isFinite(v) ? [{ x: i + 1, y: v, tip: `run ${i + 1}: ${fmtMs(v)}`, mark: false }] : []));
  const stat = (k: string, v: string, sub = ''): string => `<div class="stat"><div class="k">${esc(k)}</div><div class="v">${esc(v)}</div>${sub ? `<div class="sub">${esc(sub)}</div>` : ''}</div>`;
  const details = runs
    .map((s, i) => `<details class="card run"><summary>run ${i + 1} · ${esc(fmtMs(totals[i]!))} · ${s.success ? 'ok' : 'failed'} · <code>${esc(s.id)}</code></summary>${sessionPhaseTable(s)}</details>`)
    .join('\n');
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(options.title ?? 'procprobe series')}${label ? ` · ${esc(label)}` : ''}</title>
<style>${STYLE}${SERIES_STYLE}</style></head>
<body><main>
<header class="head">
<div class="titlebar"><h1>${esc(options.title ?? 'procprobe series')}</h1><span class="badge ${ok === runs.length ? 'ok' : 'bad'}">${ok} of ${runs.length} ok</span></div>
${label ? `<div class="cmd"><code>${esc(label)}</code></div>` : ''}
<div class="stats">
${stat('Runs', num(runs.length))}${stat('Startup median', fmtMs(total?.durations.median ?? NaN), total ? `${fmtMs(total.durations.min)} … ${fmtMs(total.durations.max)}` : '')}${stat('Spread', total ? `± ${fmtMs(total.durations.stddev)}` : '—', 'standard deviation')}${stat('Outlier runs', num(total?.outliers.length ?? 0))}
</div></header>
<section><h2>Every run, per phase</h2><figure class="card">${stripSvg(stats, runs)}<figcaption>one dot per run · bar: median · <span class="key-sw failed"></span> outlier (modified z-score &gt; 3.5 and ≥ 1 ms from the median)</figcaption></figure>
${runsTableHtml(stats)}</section>
<section><h2>Runs in order</h2>${ordered.length > 1 ? `<figure class="card">${lineSvg(ordered, 'run', (v) => (Number.isInteger(v) ? String(v) : ''), 'total_startup of each run in order')}<figcaption>drift or warm-up shows as a slope</figcaption></figure>` : '<p class="note">Fewer than two runs finished their startup.</p>'}</section>
<section><h2>History of this label</h2>${history.length > 1 ? `<figure class="card">${lineSvg(history.map((s) => ({ x: s.startTime, y: phaseDurationMs(s, TOTAL_STARTUP), tip: `${s.id}: ${fmtMs(phaseDurationMs(s, TOTAL_STARTUP))}`, mark: now.has(s.id) })), 'UTC', (v) => day(v), 'total_startup over time')}<figcaption><span class="key-sw slowest"></span> this series · ${esc(trendText(input.trend))}</figcaption></figure>` : `<p class="note">No earlier sessions of this label. ${esc(trendText(input.trend))}</p>`}</section>
<section><h2>Each run</h2>${details}</section>
<footer>procprobe · ${runs.length} runs</footer>
</main></body></html>
`;
}

const SERIES_STYLE = `
svg .dot{fill:var(--c1)}svg .dot.out{fill:var(--bad)}svg .dot.now{fill:var(--hl)}svg .median{fill:var(--text);opacity:.7}
svg .olabel{font-size:11px;fill:var(--bad);font-weight:600}
details.run{margin:0 0 8px;padding:8px 12px}details.run summary{cursor:pointer;font-weight:600}details.run .card{margin-top:8px}
`;
