/**
 * The report's per-process Gantt: a tree session's processes (SessionSummary.processes), one bar
 * each from its start to its end (or the session's end while it ran on), on the same time axis
 * as the phase Gantt. The {@link MAX_GANTT_PROCESSES} that used the most CPU get a row each, in
 * start order (session/process-list.ts ranks them); the rest share the last row, one bar from
 * the first start to the last end. Each row's <title> (the browser's tooltip) has the whole
 * command, CPU, peak RSS, threads and exit status. Commands are anyone's bytes: every piece goes
 * through esc(), like all user text in the report.
 */
import type { TreeProcess } from '../sampler/processes.js';
import { exitText, rankProcesses, shortCommand, tailOf, tailPrograms, type ProcessTail } from '../session/process-list.js';
import type { SessionSummary } from '../session/types.js';
import { fmtMiB, fmtMs, num } from './format.js';
import { esc, r1, timeAxis, xOf, type Frame } from './svg.js';

/** Processes with a row of their own; the rest share one. */
export const MAX_GANTT_PROCESSES = 30;
const ROW_H = 22;
const TOP = 26;

/** One drawn row: a process or the grouped tail. */
interface Row {
  label: string;
  /** ms since the session start. */
  start: number;
  end: number;
  cls: string;
  tip: string;
  value: string;
}

/** An exit that says something went wrong: a signal, or a code other than 0. */
const badExit = (p: TreeProcess): boolean => (p.signal ?? null) !== null || ((p.exitCode ?? null) !== null && p.exitCode !== 0);

function processRow(p: TreeProcess, t0: number, endMs: number): Row {
  const start = (Number.isFinite(p.startTime) ? p.startTime : p.adoptedAt) - t0;
  const end = p.endTime === null ? endMs : p.endTime - t0;
  const exit = exitText(p);
  const outcome = exit === 'running' ? 'still running at the end' : exit === '' ? 'exit status unknown (its parent reaped it)' : `exit: ${exit}`;
  return {
    label: `${p.pid} ${shortCommand(p.command)}`, // the tooltip has the whole command
    start,
    end,
    cls: badExit(p) ? 'failed' : p.endTime === null ? 'pc2 running' : 'pc1',
    tip: `pid ${p.pid} (parent ${p.ppid}): ${p.command}\nCPU ${fmtMs(p.cpuMs)} · peak RSS ${fmtMiB(p.peakRssBytes)} · ${num(p.peakThreads)} threads\nfrom ${fmtMs(start)} to ${fmtMs(end)} · ${outcome}`,
    value: `${fmtMs(p.cpuMs)} CPU · ${fmtMiB(p.peakRssBytes)}${badExit(p) ? ` · ${exit}` : ''}`,
  };
}

function tailRow(t: ProcessTail, t0: number, endMs: number): Row {
  const n = t.count + t.dropped;
  // Only ended entries that were not kept (t.count 0): nothing is known of when they ran.
  const start = t.count > 0 && Number.isFinite(t.firstStart) ? t.firstStart - t0 : 0;
  const end = t.count === 0 ? start : t.lastEnd === null ? endMs : t.lastEnd - t0;
  const dropped = t.dropped > 0 ? ` (${t.dropped} ended ones not kept)` : '';
  return {
    label: `other ${n} processes`,
    start,
    end,
    cls: 'pc0 other',
    tip: `other ${n} processes${dropped}: ${tailPrograms(t)}\nCPU ${fmtMs(t.cpuMs)} in all · largest peak RSS ${fmtMiB(t.peakRssBytes)}\nfrom ${fmtMs(start)} to ${fmtMs(end)}`,
    value: `${fmtMs(t.cpuMs)} CPU in all`,
  };
}

/** The rows as SVG: a label left of the plot (cut to fit), the bar, its value after it (or inside at the right edge). */
function processGanttSvg(rows: Row[], f: Frame): string {
  const h = TOP + rows.length * ROW_H + 8;
  const room = Math.floor((f.left - 20) / 7.2); // characters of a 12px label that fit left of the plot
  let s = `<svg class="gantt procs" viewBox="0 0 ${f.width} ${h}" role="img" aria-label="Process timeline">`;
  s += timeAxis(f, TOP - 4, h - 4, 14);
  rows.forEach((r, i) => {
    const y = TOP + i * ROW_H;
    const x = xOf(f, Math.max(f.x0, r.start));
    const w = Math.max(2, xOf(f, Math.min(f.x1, r.end)) - x);
    if (i % 2 === 1) s += `<rect class="band" x="0" y="${y}" width="${f.width}" height="${ROW_H}"/>`;
    const label = r.label.length > room ? `${r.label.slice(0, room - 1)}…` : r.label;
    s += `<g class="row"><title>${esc(r.tip)}</title>`;
    s += `<text class="plabel proc" x="12" y="${y + 15}">${esc(label)}</text>`;
    s += `<rect class="bar pbar ${r.cls}" x="${r1(x)}" y="${y + 4}" width="${r1(w)}" height="${ROW_H - 8}" rx="2"/>`;
    const lx = x + w + 6;
    const inside = lx > f.right - 10;
    s += `<text class="pval${inside ? ' in' : ''}" x="${r1(inside ? x + w - 6 : lx)}" y="${y + 15}" text-anchor="${inside ? 'end' : 'start'}">${esc(r.value)}</text>`;
    s += '</g>';
  });
  return s + '</svg>';
}

/** The Processes section of the report; '' for a session of one process (no list). */
export function processesHtml(summary: SessionSummary, f: Frame): string {
  const list = summary.processes ?? [];
  if (list.length === 0) return '';
  const t0 = summary.startTime;
  const endMs = Number.isFinite(summary.durationMs) ? summary.durationMs : f.x1;
  const { top, tail } = rankProcesses(list, MAX_GANTT_PROCESSES);
  const dropped = summary.processesDropped ?? 0;
  const rows = [...top].sort((a, b) => a.startTime - b.startTime || a.pid - b.pid).map((p) => processRow(p, t0, endMs));
  if (tail.length + dropped > 0) rows.push(tailRow(tailOf(tail, dropped), t0, endMs));
  const total = list.length + dropped;
  const which = rows.length < total ? `the ${top.length} that used the most CPU, in start order; the other ${total - top.length} in the last row` : 'in start order';
  return `<section><h2>Processes</h2>
<figure class="card">${processGanttSvg(rows, f)}<figcaption>${num(total)} processes, ${which} · <span class="key-sw failed"></span> ended by a signal or a non-zero exit code <span class="key-sw pc2"></span> still running at the end · times in ms since the session start; hover a bar for its command, CPU and peak RSS</figcaption></figure>
</section>`;
}
