/**
 * SVG pieces of the HTML report: escaping, ticks, decimation and the two kinds of chart (the
 * phase Gantt and the metric line charts). Pure string building: no DOM, no script. Colours are
 * CSS classes styled by the page (see html.ts), so a chart follows the page's light/dark theme.
 */
import { decimateIndices } from '../export/decimate.js';
import { num } from './format.js';

/** Escape text for HTML text and attribute values (both quotes, so any attribute quoting is safe). */
export function esc(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Round for SVG coordinates (keeps the file small). */
export const r1 = (v: number): string => String(Math.round(v * 10) / 10);

/**
 * About `count` round tick values covering [lo, hi] (steps of 1, 2, 2.5 or 5 x 10^k), none closer
 * than `minStep` (1 for counts: no "0.25 threads").
 */
export function niceTicks(lo: number, hi: number, count: number, minStep = 0): { ticks: number[]; step: number } {
  if (!(hi > lo)) hi = lo + 1;
  const raw = Math.max((hi - lo) / Math.max(1, count), minStep);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 2.5, 5, 10].find((m) => m * mag >= raw && (minStep < 1 || Number.isInteger(m * mag))) ?? 10) * mag;
  const ticks: number[] = [];
  for (let i = Math.ceil(lo / step - 1e-9); i * step <= hi + step * 1e-9; i++) ticks.push(i * step + 0); // + 0: no '-0'
  return { ticks, step };
}

/** A tick label with as many decimals as the step needs, thousands separated. */
export function tickLabel(v: number, step: number): string {
  const decimals = Math.max(0, Math.min(6, -Math.floor(Math.log10(step) + 1e-9) + (step / 10 ** Math.floor(Math.log10(step) + 1e-9) === 2.5 ? 1 : 0)));
  return num(v, decimals);
}

/** A data value: integers as such, others with 0 to 2 decimals by size. */
export function valueLabel(v: number): string {
  const d = Number.isInteger(v) || Math.abs(v) >= 100 ? 0 : Math.abs(v) >= 10 ? 1 : 2;
  return num(v, d);
}

export interface Points {
  xs: number[];
  ys: number[];
}

/**
 * At most about `maxPoints` points of a level series for a line chart, by the exporters' min/max
 * rule (export/decimate.ts: every bucket's extremes, the first and last point), plus one NaN
 * point wherever the kept points skip over values that are not finite (a failed read, a process
 * gone), so the chart breaks its line there instead of drawing across the gap.
 */
export function decimateMinMax(xs: ArrayLike<number>, ys: ArrayLike<number>, maxPoints = 1000): Points {
  const n = Math.min(xs.length, ys.length);
  const y = (i: number): number => (Number.isFinite(ys[i]!) ? ys[i]! : NaN);
  const keep = decimateIndices(n, y, maxPoints);
  // gaps[i]: non-finite values among the first i (a prefix count: "any gap between a and b" in O(1)).
  const gaps = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) gaps[i + 1] = gaps[i]! + (Number.isNaN(y(i)) ? 1 : 0);
  const out: Points = { xs: [], ys: [] };
  keep.forEach((i, k) => {
    const prev = keep[k - 1];
    if (prev !== undefined && gaps[i]! - gaps[prev + 1]! > 0) {
      out.xs.push(xs[prev + 1]!);
      out.ys.push(NaN);
    }
    out.xs.push(xs[i]!);
    out.ys.push(ys[i]!);
  });
  return out;
}

/**
 * Rate of a cumulative counter, `scale` x d(counter)/d(time), over at most `maxPoints` intervals of
 * equal time: per interval, the change between the last usable sample of the previous interval and
 * the last of this one (an average over the interval, not the noise of single 1 ms reads). The
 * point sits at the interval's end. A counter that goes backwards (a process of a sampled tree
 * exited) leaves a gap, and so does an interval with records that measured nothing in it (NaN: a
 * failed read, the tree before its spawn): the chart draws no line across what was not sampled.
 */
export function counterRate(ts: ArrayLike<number>, cs: ArrayLike<number>, scale: number, maxPoints = 1000): Points {
  const idx: number[] = [];
  for (let i = 0; i < Math.min(ts.length, cs.length); i++) if (Number.isFinite(ts[i]!) && Number.isFinite(cs[i]!)) idx.push(i);
  const out: Points = { xs: [], ys: [] };
  if (idx.length < 2) return out;
  // used[i]: usable records among the first i (a prefix count: "any unusable between a and b" in O(1)).
  const used = new Int32Array(Math.min(ts.length, cs.length) + 1);
  for (let i = 0, k = 0; i < used.length - 1; i++) used[i + 1] = used[i]! + (idx[k] === i ? (k++, 1) : 0);
  const t0 = ts[idx[0]!]!;
  const width = (ts[idx[idx.length - 1]!]! - t0) / maxPoints;
  const bounds = [idx[0]!];
  for (let k = 1; k < idx.length; k++) {
    const i = idx[k]!;
    const next = idx[k + 1];
    const bucket = (j: number): number => (width > 0 ? Math.min(maxPoints - 1, Math.floor((ts[j]! - t0) / width)) : j);
    if (next === undefined || bucket(next) !== bucket(i)) bounds.push(i);
  }
  for (let k = 1; k < bounds.length; k++) {
    const a = bounds[k - 1]!;
    const b = bounds[k]!;
    const dt = ts[b]! - ts[a]!;
    const dc = cs[b]! - cs[a]!;
    const unsampled = used[b + 1]! - used[a]! !== b - a + 1; // a record between a and b measured nothing
    out.xs.push(ts[b]!);
    out.ys.push(dt > 0 && dc >= 0 && !unsampled ? (dc / dt) * scale : NaN);
  }
  return out;
}

/** The horizontal frame shared by the Gantt and every chart, so that their time axes line up. */
export interface Frame {
  width: number;
  /** Plot area in SVG units. */
  left: number;
  right: number;
  /** Time domain, ms since the session start. */
  x0: number;
  x1: number;
}

export const xOf = (f: Frame, ms: number): number => f.left + ((ms - f.x0) / (f.x1 - f.x0 || 1)) * (f.right - f.left);

/** Vertical grid lines and tick labels (ms) of the time axis, labels at `labelY`. */
export function timeAxis(f: Frame, top: number, bottom: number, labelY: number): string {
  const { ticks, step } = niceTicks(f.x0, f.x1, Math.round((f.right - f.left) / 110));
  let s = '';
  for (const t of ticks) {
    const x = r1(xOf(f, t));
    s += `<line class="grid" x1="${x}" x2="${x}" y1="${top}" y2="${bottom}"/>`;
    s += `<text class="tick" x="${x}" y="${labelY}" text-anchor="middle">${esc(tickLabel(t, step))}</text>`;
  }
  return s + `<text class="tick unit" x="${f.left - 10}" y="${labelY}" text-anchor="end">ms</text>`;
}

/** One phase as drawn: rows in tree order (parents before their children). */
export interface PhaseRow {
  name: string;
  start: number;
  end: number;
  depth: number;
  failed: boolean;
  slowest: boolean;
  total: boolean;
  /** Palette slot, 0..7. */
  colour: number;
  /** Tooltip text. */
  tip: string;
  /** Text after the bar, e.g. '420 ms · 21 %'. */
  label: string;
}

const ROW_H = 30;

/** The phase Gantt: one row per phase, indented by nesting, time axis on top. */
export function ganttSvg(rows: PhaseRow[], f: Frame): string {
  const top = 26;
  const h = top + rows.length * ROW_H + 8;
  let s = `<svg class="gantt" viewBox="0 0 ${f.width} ${h}" role="img" aria-label="Phase timeline">`;
  s += timeAxis(f, top - 4, h - 4, 14);
  rows.forEach((p, i) => {
    const y = top + i * ROW_H;
    const x = xOf(f, p.start);
    const w = Math.max(2, xOf(f, p.end) - x);
    const cls = `bar ${p.failed ? 'failed' : p.slowest ? 'slowest' : `pc${p.colour}`}${p.slowest ? ' hl' : ''}${p.total ? ' total' : ''}`;
    if (i % 2 === 1) s += `<rect class="band" x="0" y="${y}" width="${f.width}" height="${ROW_H}"/>`;
    s += `<g class="row"><title>${esc(p.tip)}</title>`;
    const indent = 12 + Math.min(p.depth, 6) * 16;
    const room = Math.max(6, Math.floor((f.left - indent - (p.depth ? 34 : 20)) / 7.4));
    const name = p.name.length > room ? `${p.name.slice(0, room - 1)}…` : p.name;
    s += `<text class="plabel${p.failed ? ' bad' : ''}" x="${indent}" y="${y + 19}">${p.depth > 0 ? '<tspan class="tree">└ </tspan>' : ''}${esc(name)}</text>`;
    s += `<rect class="${cls}" x="${r1(x)}" y="${y + 6}" width="${r1(w)}" height="${ROW_H - 12}" rx="3"/>`;
    const lx = x + w + 6;
    const inside = lx > f.right - 10;
    s += `<text class="pval${inside ? (p.total ? ' in total' : ' in') : ''}" x="${r1(inside ? x + w - 6 : lx)}" y="${y + 19}" text-anchor="${inside ? 'end' : 'start'}">${esc(p.label)}${p.slowest ? ' · slowest' : ''}${p.failed ? ' · failed' : ''}</text>`;
    s += '</g>';
  });
  return s + '</svg>';
}

export interface Series {
  name: string;
  /** CSS class giving its colour, e.g. 's-cpu'. */
  cls: string;
  pts: Points;
}

export interface ChartSpec {
  title: string;
  unit: string;
  series: Series[];
  /** Fill under the first series. */
  area: boolean;
  /** Short lines under the title, e.g. 'peak 123 MiB'. */
  notes: string[];
  /** A count (threads, fds, processes): whole-number ticks only. */
  integer?: boolean;
}

const CHART_H = 170;
const PAD_T = 12;
const PAD_B = 26;

/**
 * Spacing between points beyond which the line breaks: 10 x the median spacing. A sampler that
 * stalled (a loaded machine: 180 ms without a record was seen) left no sample there, and a straight
 * line across would draw values nobody measured.
 */
function breakSpacing(xs: number[]): number {
  const d = xs.slice(1).map((x, i) => x - xs[i]!).filter((v) => v > 0).sort((a, b) => a - b);
  return d.length ? 10 * d[Math.floor(d.length / 2)]! : Infinity;
}

/** The path of each run of finite points (broken at non-finite values and at long gaps), with its first and last x. */
function pathOf(pts: Points, f: Frame, y: (v: number) => number): { d: string; a: string; b: string }[] {
  const segs: { d: string; a: string; b: string }[] = [];
  const gap = breakSpacing(pts.xs);
  let cur = { d: '', a: '', b: '' };
  for (let i = 0; i <= pts.xs.length; i++) {
    const v = pts.ys[i];
    if (cur.d && i < pts.xs.length && pts.xs[i]! - pts.xs[i - 1]! > gap) {
      segs.push(cur);
      cur = { d: '', a: '', b: '' };
    }
    if (v === undefined || !Number.isFinite(v)) {
      if (cur.d) segs.push(cur);
      cur = { d: '', a: '', b: '' };
      continue;
    }
    const x = r1(xOf(f, pts.xs[i]!));
    cur.d += `${cur.d ? 'L' : 'M'}${x} ${r1(y(v))}`;
    if (!cur.a) cur.a = x;
    cur.b = x;
  }
  return segs;
}

/**
 * A chart's left margin: its title, notes and legend (a swatch per series, even a single one:
 * the colour names the figure), and the y axis's unit written along the axis.
 */
function chartKey(spec: ChartSpec, bottom: number): string {
  let s = `<text class="ctitle" x="12" y="${PAD_T + 12}">${esc(spec.title)}</text>`;
  spec.notes.forEach((n, i) => (s += `<text class="cnote" x="12" y="${PAD_T + 32 + i * 17}">${esc(n)}</text>`));
  spec.series.forEach((se, i) => {
    const ly = PAD_T + 32 + (spec.notes.length + i) * 17 + 4;
    s += `<g class="legend"><rect class="key ${se.cls}" x="12" y="${ly - 9}" width="10" height="10" rx="2"/><text class="cnote" x="28" y="${ly}">${esc(se.name)}</text></g>`;
  });
  const ax = 180; // left of the tick labels (right-aligned at left - 8 = 222, up to '1,000' wide)
  const ay = r1((PAD_T + bottom) / 2);
  return s + `<text class="tick unit yunit" x="${ax}" y="${ay}" text-anchor="middle" transform="rotate(-90 ${ax} ${ay})">${esc(spec.unit)}</text>`;
}

/** A line chart of `spec` over time, phases shaded behind it. */
export function lineChartSvg(spec: ChartSpec, f: Frame, shades: PhaseRow[], id: string): string {
  let lo = 0;
  let hi = 0;
  for (const s of spec.series) for (const v of s.pts.ys) if (Number.isFinite(v)) (lo = Math.min(lo, v)), (hi = Math.max(hi, v));
  const yt = niceTicks(lo, hi === lo ? lo + 1 : hi, 4, spec.integer ? 1 : 0);
  const ylo = Math.min(lo, yt.ticks[0] ?? lo);
  const yhi = Math.max(hi, yt.ticks[yt.ticks.length - 1] ?? hi);
  const bottom = CHART_H - PAD_B;
  const y = (v: number): number => bottom - ((v - ylo) / (yhi - ylo || 1)) * (bottom - PAD_T);
  let s = `<svg class="chart" viewBox="0 0 ${f.width} ${CHART_H}" role="img" aria-label="${esc(spec.title)}">`;
  s += `<clipPath id="${id}"><rect x="${f.left}" y="0" width="${f.right - f.left}" height="${CHART_H}"/></clipPath>`;
  for (const p of shades) {
    const x = xOf(f, p.start);
    s += `<rect class="shade ${p.failed ? 'failed' : `pc${p.colour}`}" x="${r1(x)}" y="${PAD_T}" width="${r1(Math.max(1, xOf(f, p.end) - x))}" height="${bottom - PAD_T}"><title>${esc(p.tip)}</title></rect>`;
  }
  s += timeAxis(f, PAD_T, bottom, CHART_H - 8);
  for (const t of yt.ticks) {
    const yy = r1(y(t));
    s += `<line class="grid h" x1="${f.left}" x2="${f.right}" y1="${yy}" y2="${yy}"/>`;
    s += `<text class="tick" x="${f.left - 8}" y="${r1(y(t) + 4)}" text-anchor="end">${esc(tickLabel(t, yt.step))}</text>`;
  }
  s += `<line class="axis" x1="${f.left}" x2="${f.right}" y1="${bottom}" y2="${bottom}"/>`;
  s += `<line class="axis" x1="${f.left}" x2="${f.left}" y1="${PAD_T}" y2="${bottom}"/>`;
  s += chartKey(spec, bottom);
  s += `<g clip-path="url(#${id})">`;
  spec.series.forEach((se, i) => {
    for (const { d, a, b } of pathOf(se.pts, f, y)) {
      const base = r1(y(0));
      if (i === 0 && spec.area) s += `<path class="area ${se.cls}" d="${d}L${b} ${base}L${a} ${base}Z"/>`;
      s += `<path class="line ${se.cls}" d="${d}"/>`;
    }
  });
  s += '</g>';
  const only = spec.series.length === 1 ? spec.series[0]! : undefined;
  const k = only ? only.pts.ys.findLastIndex((v) => Number.isFinite(v)) : -1;
  if (only && k >= 0) {
    const v = only.pts.ys[k]!;
    s += `<text class="endval ${only.cls}" x="${r1(Math.min(f.right, xOf(f, only.pts.xs[k]!)) + 6)}" y="${r1(Math.max(PAD_T + 8, y(v) + 4))}">${esc(valueLabel(v))}</text>`;
  }
  return s + '</svg>';
}
