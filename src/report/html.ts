/**
 * renderHtmlReport: one session as a single self-contained HTML page. No network, no fonts or
 * scripts from anywhere: inline CSS and inline SVG only, and a Content-Security-Policy that forbids
 * everything else, so the page renders fully without JS and an escaping slip could not run code.
 * Every piece of user text (metadata, phase names, error messages) goes through esc().
 */
import type { Suggestion } from '../analysis/types.js';
import { samplerWarning } from '../session/sampler-account.js';
import { shownValue } from '../session/resources.js';
import { TOTAL_STARTUP, type SessionSummary } from '../session/types.js';
import { jsonSafe } from '../export/json-safe.js';
import type { ExportInput } from '../export/types.js';
import { F } from '../probe/layout.js';
import { R } from '../ring/layout.js';
import type { SessionSamples } from '../session/types.js';
import { evidenceText, fmtMiB, fmtMs, fmtPct, MiB, num } from './format.js';
import { phaseRows, phaseTable } from './phase-table.js';
import { processesHtml } from './processes.js';
import { nodeModulesHtml } from './node-modules.js';
import { STYLE } from './style.js';
import { checkOptionalString, checkOptions, optionKeys } from '../validate.js';
import { counterRate, decimateMinMax, esc, ganttSvg, lineChartSvg, type ChartSpec, type Frame, type PhaseRow, type Points } from './svg.js';

export interface HtmlReportOptions {
  /** Page title; default 'procprobe report'. */
  title?: string;
  /** The command shown in the header; default metadata.command (or label / name). */
  command?: string;
}

/** Points per chart at most (min/max buckets beyond). */
export const MAX_CHART_POINTS = 1000;
/** Intervals a counter's rate is averaged over: fewer, so that 1 ms reads of small counts are not all noise. */
export const RATE_INTERVALS = 300;
/**
 * Shortest interval for a rate, ms. Another process's CPU clock advances at scheduler ticks for
 * threads that run without a break (4 ms at HZ=250), so a rate over less than a few ticks is noise.
 */
export const MIN_RATE_INTERVAL_MS = 10;

/** How many rate intervals a span of `spanMs` gets: RATE_INTERVALS, fewer when they would be too short. */
function rateIntervals(spanMs: number): number {
  return Math.max(1, Math.min(RATE_INTERVALS, Math.floor(spanMs / MIN_RATE_INTERVAL_MS)));
}
const FRAME_W = 1280;
const fmtTime = (ms: number): string => (Number.isFinite(ms) ? new Date(ms).toISOString().replace('T', ' ').replace('Z', ' UTC') : '—');
/** User metadata as text; a bigint (msgpack's 64-bit integers load as one) as its digits, which JSON.stringify refuses. */
const text = (v: unknown): string =>
  typeof v === 'string' ? v : v === undefined ? '' : (JSON.stringify(v, jsonSafe) ?? String(v));

/** The command line (or label) to show: an argv array is joined with spaces. */
function commandOf(meta: Record<string, unknown>): string | undefined {
  for (const k of ['command', 'cmd', 'label', 'name']) {
    const v = meta[k];
    if (typeof v === 'string' && v) return v;
    if (Array.isArray(v) && v.length) return v.map(text).join(' ');
  }
  return undefined;
}

/**
 * Time (ms since the session start) and each of `fields` (record offsets) of every record whose
 * read gave a timestamp; a ProcessSample field as exports show it (shownValue: no figure from a
 * record that measured no process, no level from a process being torn down), so a chart neither
 * starts from the 0 of the tree before the spawn nor falls to the 0 of a process that is gone.
 */
function columns(s: SessionSamples, t0: number, fields: number[]): { ts: number[]; cols: number[][] } {
  const ts: number[] = [];
  const cols = fields.map((): number[] => []);
  for (let i = 0; i < s.count; i++) {
    const at = i * s.stride;
    const t = s.records[at + R.ROW + F.timestamp]!;
    if (!Number.isFinite(t)) continue;
    ts.push(t - t0);
    fields.forEach((f, k) => cols[k]!.push(f >= R.GAUGES ? (s.records[at + f] ?? NaN) : shownValue(s.records, at, f - R.ROW)));
  }
  return { ts, cols };
}

function stats(pts: Points): { min: number; max: number; last: number } {
  let min = Infinity;
  let max = -Infinity;
  let last = NaN;
  for (const v of pts.ys) if (Number.isFinite(v)) (min = Math.min(min, v)), (max = Math.max(max, v)), (last = v);
  return { min, max, last };
}

/** The metric charts (or a note for each metric that was not measured). */
function chartsHtml(input: ExportInput, frame: Frame, shades: PhaseRow[]): string {
  const { summary, samples } = input;
  const row = (f: number): number => R.ROW + f;
  const gauges = samples.gaugeNames.map((_, i) => R.GAUGES + i);
  const { ts, cols } = columns(samples, summary.startTime, [
    row(F.cpuUserUs), row(F.cpuSystemUs), row(F.cpuPercent), row(F.rssBytes), row(F.threads), row(F.openFds),
    row(F.voluntaryContextSwitches), row(F.involuntaryContextSwitches), ...gauges, R.PROCESSES,
  ]);
  const procs = cols[cols.length - 1];
  if (ts.length === 0) {
    return '<p class="note">No resource samples were recorded for this session, so there are no resource charts.</p>';
  }
  const [user, sys, pct, rss, threads, fds, vol, invol] = cols as [number[], number[], number[], number[], number[], number[], number[], number[]];
  const cpuUs = user.map((u, i) => u + sys[i]!);
  const intervals = rateIntervals(ts[ts.length - 1]! - ts[0]!);
  let cpu = counterRate(ts, cpuUs, 0.1, intervals); // µs per ms x 0.1 = % of one core
  if (!cpu.ys.some(Number.isFinite)) cpu = decimateMinMax(ts, pct, MAX_CHART_POINTS);
  const lvl = (ys: number[], k = 1): Points => decimateMinMax(ts, k === 1 ? ys : ys.map((v) => v / k), MAX_CHART_POINTS);
  const specs: ChartSpec[] = [];
  // key: the legend's short name (the title is above it; the y unit is along the axis).
  const add = (title: string, unit: string, cls: string, pts: Points, notes: (st: ReturnType<typeof stats>) => string[], integer = false, key = title): void => {
    const st = stats(pts);
    if (Number.isFinite(st.max)) specs.push({ title, unit, area: true, series: [{ name: key, cls, pts }], notes: notes(st), integer });
    else specs.push({ title, unit, area: false, series: [], notes: [] });
  };
  const cpuMean = summary.resources?.cpuPercent ?? NaN;
  add('CPU', '% of one core', 's-cpu', cpu, (st) => [`peak ${fmtPct(st.max)}`, ...(Number.isFinite(cpuMean) ? [`mean ${fmtPct(cpuMean)}`] : [])], false, 'CPU %');
  add('Resident memory', 'MiB', 's-rss', lvl(rss, MiB), (st) => [`peak ${num(st.max, 1)} MiB`, `end ${num(st.last, 1)} MiB`], false, 'RSS');
  const counted = (st: ReturnType<typeof stats>): string[] => [`peak ${num(st.max)}`, `end ${num(st.last)}`];
  // A tree's threads and fds are sums over its processes: said in a note (a long title would run into the axis).
  const summed = (st: ReturnType<typeof stats>): string[] => [...counted(st), ...(summary.processes ? ['all processes'] : [])];
  // A tree's members at each record (summed figures above are theirs): how many there were.
  if (summary.processes) add('Processes', 'count', 's-thr', lvl(procs!), counted, true, 'processes');
  add('Threads', 'count', 's-thr', lvl(threads), summed, true, 'threads');
  add('Open file descriptors', 'count', 's-fds', lvl(fds), summed, true, 'fds');
  const v = counterRate(ts, vol, 1000, intervals);
  const iv = counterRate(ts, invol, 1000, intervals);
  const sv = stats(v);
  const si = stats(iv);
  if (Number.isFinite(sv.max) || Number.isFinite(si.max)) {
    specs.push({
      title: 'Context switches',
      unit: 'per second',
      area: false,
      series: [{ name: 'voluntary', cls: 's-vol', pts: v }, { name: 'involuntary', cls: 's-inv', pts: iv }],
      notes: [`peak ${num(Math.max(sv.max, si.max === -Infinity ? 0 : si.max))}/s`],
    });
  } else specs.push({ title: 'Context switches', unit: 'per second', area: false, series: [], notes: [] });
  samples.gaugeNames.forEach((name, i) => {
    add(name, 'gauge', `s-g${i % 4}`, lvl(cols[8 + i]!), (st) => [`min ${num(st.min, 2)}`, `max ${num(st.max, 2)}`, `last ${num(st.last, 2)}`], false, name.length > 24 ? `${name.slice(0, 23)}…` : name);
  });
  return specs
    .map((spec, i) =>
      spec.series.length
        ? `<figure class="card chart-card">${lineChartSvg(spec, frame, shades, `clip${i}`)}</figure>`
        : `<p class="note">${esc(spec.title)}: not measured in this session.</p>`,
    )
    .join('\n');
}

function suggestionsHtml(list: Suggestion[] | undefined): string {
  if (!list?.length) return '<p class="note">No suggestions for this session.</p>';
  return `<ul class="cards">${list
    .map((s) => {
      const ev = Object.entries(s.evidence)
        .map(([k, v]) => evidenceText(k, v))
        .map(([k, v]) => `<span class="chip"><b>${esc(k)}</b> ${esc(v)}</span>`)
        .join(' ');
      return `<li class="card sugg"><div><span class="pill kind">${esc(s.kind.replace(/_/g, ' '))}</span>${s.phase ? ` <span class="pill">${esc(s.phase)}</span>` : ''}</div><p>${esc(s.message)}</p><div class="evidence">${ev}</div></li>`;
    })
    .join('')}</ul>`;
}

function errorsHtml(summary: SessionSummary): string {
  if (!summary.errors.length) return '<p class="note">No errors were recorded.</p>';
  return `<ul class="cards">${summary.errors
    .map((e) => `<li class="card errcard"><div><span class="pill bad">error</span> <span class="dim">+${esc(fmtMs(e.timestamp - summary.startTime))}</span>${e.operation ? ` <span class="pill">${esc(e.operation)}</span>` : ''}</div><pre class="msg">${esc(e.message)}</pre></li>`)
    .join('')}</ul>`;
}

const REPORT_OPTIONS = optionKeys<HtmlReportOptions>({ title: true, command: true });

/** The sampler's own cost as a stat card (absent for sessions saved before it was measured). */
function samplerStat(summary: SessionSummary, stat: (k: string, v: string, sub: string) => string): string {
  const a = summary.sampler;
  if (!a) return '';
  return stat('Sampler', Number.isFinite(a.corePercent) ? `${fmtPct(a.corePercent)} of a core` : 'CPU not measured', `${num(a.achievedHz)} Hz of ${num(a.targetHz)} Hz · ${num(a.missedDeadlines)} deadlines missed`);
}

/** The warning when the sampler perturbed the session (session/sampler-account.ts). */
function samplerNote(summary: SessionSummary): string {
  const w = summary.sampler ? samplerWarning(summary.sampler, '--interval (resourceSamplingIntervalMs)') : null;
  return w ? `<p class="note sampler-warning">${esc(w)}</p>` : '';
}

function checkReportOptions(options: unknown): HtmlReportOptions {
  const o = checkOptions('options', options, REPORT_OPTIONS, 'renderHtmlReport');
  const title = checkOptionalString('options.title', o.title);
  const command = checkOptionalString('options.command', o.command);
  return { ...(title !== undefined ? { title } : {}), ...(command !== undefined ? { command } : {}) };
}

/** The page's header: title, status, command and the stat cards. */
function headHtml(input: ExportInput, title: string, command: string | undefined, span: number): string {
  const { summary, samples } = input;
  const total = summary.phases.find((p) => p.name === TOTAL_STARTUP);
  const status = summary.incomplete ? ['incomplete', 'warn'] : summary.success ? ['success', 'ok'] : ['failed', 'bad'];
  const failedCount = summary.phases.filter((p) => !p.success).length;
  const durationText = Number.isFinite(summary.durationMs) ? fmtMs(summary.durationMs) : `≥ ${fmtMs(span)} (not finished)`;
  // The cards show the startup (total_startup), the figures the phase table's total row shows;
  // the session's own span (procprobe's setup and the teardown too) is their footnote.
  const startup = total && Number.isFinite(total.durationMs) ? total : undefined;
  const cpuOf = startup?.resources ?? summary.resources;
  const stat = (k: string, v: string, sub = '', wide = false): string => `<div class="stat${wide ? ' wide' : ''}"><div class="k">${esc(k)}</div><div class="v">${esc(v)}</div>${sub ? `<div class="sub">${esc(sub)}</div>` : ''}</div>`;
  return `<header class="head">
<div class="titlebar"><h1>${esc(title)}</h1><span class="badge ${status[1]}">${esc(status[0])}</span></div>
${command ? `<div class="cmd"><code>${esc(command)}</code></div>` : ''}
<div class="stats">
${stat('Session', summary.id, '', true)}${stat('Started', fmtTime(summary.startTime), '', true)}${startup ? stat('Startup', fmtMs(startup.durationMs), `session ${durationText} with setup and teardown`) : stat('Duration', durationText, Number.isFinite(summary.durationMs) && summary.durationMs >= 10_000 ? `${num(summary.durationMs / 1000, 1)} s` : '')}
${stat('Phases', String(summary.phases.length), failedCount ? `${failedCount} failed` : 'all succeeded')}
${stat('Samples', num(samples.count), samples.gaugeNames.length ? `${samples.gaugeNames.length} gauge${samples.gaugeNames.length > 1 ? 's' : ''}` : '')}
${stat('Peak RSS', fmtMiB(cpuOf?.rssPeakBytes ?? NaN), startup?.resources ? 'during startup' : '')}${stat(startup?.resources ? 'Startup CPU' : 'CPU time', fmtMs(cpuOf?.cpuMs ?? NaN), cpuOf ? `${fmtPct(cpuOf.cpuPercent)} of one core` : '')}
${stat('Errors', String(summary.errors.length))}${samplerStat(summary, stat)}
</div>${samplerNote(summary)}</header>`;
}

/** The whole report as one HTML document. */
export function renderHtmlReport(input: ExportInput, options: HtmlReportOptions = {}): string {
  const opts = checkReportOptions(options);
  const { summary, samples } = input;
  const total = summary.phases.find((p) => p.name === TOTAL_STARTUP);
  const lastSample = samples.count > 0 ? (samples.records[(samples.count - 1) * samples.stride + R.ROW + F.timestamp] ?? NaN) - summary.startTime : NaN;
  const phaseEnd = Math.max(0, ...summary.phases.map((p) => p.startOffsetMs + p.durationMs).filter(Number.isFinite));
  const span = Math.max(phaseEnd, Number.isFinite(summary.durationMs) ? summary.durationMs : 0, Number.isFinite(lastSample) ? lastSample : 0);
  const totalMs = total?.durationMs ?? (Number.isFinite(summary.durationMs) ? summary.durationMs : span);
  const frame: Frame = { width: FRAME_W, left: 230, right: FRAME_W - 120, x0: 0, x1: span > 0 ? span : 1 };
  const { rows, order } = phaseRows(summary.phases, totalMs);
  const command = opts.command ?? commandOf(summary.metadata);
  const title = opts.title ?? 'procprobe report';
  const meta = Object.entries(summary.metadata)
    .map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(text(v).slice(0, 2000))}</dd>`)
    .join('');
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}${command ? ` · ${esc(command)}` : ''}</title>
<style>${STYLE}</style></head>
<body><main>
${headHtml(input, title, command, span)}
<section><h2>Phases</h2>
${rows.length ? `<figure class="card">${ganttSvg(rows, frame)}<figcaption><span class="key-sw slowest"></span> slowest phase <span class="key-sw failed"></span> failed phase · times in ms since the session start</figcaption></figure>` : '<p class="note">No phases were timed in this session.</p>'}
</section>
${processesHtml(summary, frame)}
${nodeModulesHtml(summary, frame)}
<section><h2>Resources over time</h2>
${chartsHtml(input, frame, rows.filter((r) => !r.total))}
</section>
<section><h2>Phase details</h2>
${phaseTable(order, rows, totalMs)}
</section>
<section><h2>Suggestions</h2>
${suggestionsHtml(input.suggestions)}
</section>
<section><h2>Errors</h2>
${errorsHtml(summary)}
</section>
${meta ? `<section><h2>Metadata</h2><dl class="card meta">${meta}</dl></section>` : ''}
<footer>Generated by procprobe · session ${esc(summary.id)}</footer>
</main></body></html>
`;
}
