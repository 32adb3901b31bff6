/**
 * The report's module waterfall (issue 14): what the node hooks saw load in the run's Node
 * processes (SessionSummary.node), on the same time axis as the phase Gantt. One row per module,
 * in start order, for the {@link MAX_WATERFALL_MODULES} with the largest total time: a bar from
 * its start, as long as its total (itself and what it loaded first, so a parent's bar spans its
 * children's), the self time beside it; each row's <title> (the browser's tooltip) has kind,
 * parent, self, total, the ES read time and the pid. Below them one row of the GC pauses, a mark
 * per pause, and the event loop's use before listen(). Paths are anyone's bytes: everything goes
 * through esc().
 */
import type { NodeModule, NodeProfile } from '../node-hooks/types.js';
import type { SessionSummary } from '../session/types.js';
import { fmtMs, num } from './format.js';
import { esc, r1, timeAxis, xOf, type Frame } from './svg.js';

/** Modules with a row; the rest are counted in the caption (the JSON and the trace have all). */
export const MAX_WATERFALL_MODULES = 40;
const ROW_H = 20;
const TOP = 26;

const kindClass: Record<string, string> = { esm: 'pc1', commonjs: 'pc2', json: 'pc3', addon: 'pc4', builtin: 'pc0', wasm: 'pc5' };

function moduleRow(m: NodeModule, i: number, t0: number, f: Frame, room: number): string {
  const y = TOP + i * ROW_H;
  const start = m.startTime - t0;
  const x = xOf(f, Math.max(f.x0, start));
  const w = Math.max(2, xOf(f, Math.min(f.x1, start + m.totalMs)) - x);
  const tip = `${m.path} (${m.kind}, pid ${m.pid})${m.failed ? ' · failed' : ''}\nloaded by ${m.parent ?? '(entry point)'}\nself ${fmtMs(m.selfMs)} · total ${fmtMs(m.totalMs)}${m.loadMs !== null ? ` · read ${fmtMs(m.loadMs)} on the loader thread` : ''}\nfrom +${fmtMs(start)}`;
  const label = m.path.length > room ? `…${m.path.slice(-(room - 1))}` : m.path; // the file name is the end
  const value = `${fmtMs(m.selfMs)} self${m.totalMs > m.selfMs ? ` · ${fmtMs(m.totalMs)} total` : ''}`;
  const lx = x + w + 6;
  const inside = lx > f.right - 10;
  return `${i % 2 === 1 ? `<rect class="band" x="0" y="${y}" width="${f.width}" height="${ROW_H}"/>` : ''}<g class="row module"><title>${esc(tip)}</title>`
    + `<text class="plabel proc" x="12" y="${y + 14}">${esc(label)}</text>`
    + `<rect class="bar mbar ${m.failed ? 'failed' : kindClass[m.kind] ?? 'pc0'}" x="${r1(x)}" y="${y + 4}" width="${r1(w)}" height="${ROW_H - 8}" rx="2"/>`
    + `<text class="pval${inside ? ' in' : ''}" x="${r1(inside ? x + w - 6 : lx)}" y="${y + 14}" text-anchor="${inside ? 'end' : 'start'}">${esc(value)}</text></g>`;
}

function gcRow(node: NodeProfile, y: number, t0: number, f: Frame): string {
  if (node.gc.length === 0) return '';
  const sum = node.gc.reduce((t, g) => t + g.durationMs, 0);
  let s = `<g class="row gc"><title>${esc(`${node.gc.length} GC pauses, ${fmtMs(sum)} in all`)}</title><text class="plabel" x="12" y="${y + 14}">GC pauses</text></g>`;
  for (const g of node.gc) {
    const x = xOf(f, Math.max(f.x0, g.startTime - t0));
    const w = Math.max(1.5, xOf(f, Math.min(f.x1, g.startTime - t0 + g.durationMs)) - x);
    s += `<rect class="bar gcbar slowest" x="${r1(x)}" y="${y + 3}" width="${r1(w)}" height="${ROW_H - 6}"><title>${esc(`GC ${g.kind}, ${fmtMs(g.durationMs)} at +${fmtMs(g.startTime - t0)} (pid ${g.pid})`)}</title></rect>`;
  }
  return s;
}

/** The Modules section of the report; '' for a session without a node profile or modules. */
export function nodeModulesHtml(summary: SessionSummary, f: Frame): string {
  const node = summary.node;
  if (!node || node.modules.length === 0) return '';
  const t0 = summary.startTime;
  const shown = [...node.modules].sort((a, b) => b.totalMs - a.totalMs).slice(0, MAX_WATERFALL_MODULES).sort((a, b) => a.startTime - b.startTime);
  const room = Math.floor((f.left - 20) / 7.2); // characters of a 12px monospace label left of the plot
  const rows = shown.length + (node.gc.length > 0 ? 1 : 0);
  const h = TOP + rows * ROW_H + 8;
  let svg = `<svg class="gantt modules" viewBox="0 0 ${f.width} ${h}" role="img" aria-label="Module waterfall">${timeAxis(f, TOP - 4, h - 4, 14)}`;
  shown.forEach((m, i) => (svg += moduleRow(m, i, t0, f, room)));
  svg += gcRow(node, TOP + shown.length * ROW_H, t0, f) + '</svg>';
  const rest = node.modules.length - shown.length;
  const which = rest > 0 ? `the ${shown.length} with the largest total time, in start order (${num(rest)} more in the JSON and the trace)` : 'in start order';
  const loop = node.loop.find((l) => l.at === 'listen' && l.pid === node.listen?.pid);
  const loopText = loop && loop.activeMs + loop.idleMs > 0 ? ` · event loop before listen(): busy ${fmtMs(loop.activeMs)} of ${fmtMs(loop.activeMs + loop.idleMs)}` : '';
  return `<section><h2>Modules</h2>
<figure class="card">${svg}<figcaption>${num(node.modules.length)} modules, ${which}; a bar spans the module and what it loaded first · <span class="key-sw pc2"></span> CommonJS <span class="key-sw pc1"></span> ES <span class="key-sw pc3"></span> JSON <span class="key-sw failed"></span> failed <span class="key-sw slowest"></span> GC pause${loopText} · times in ms since the session start</figcaption></figure>
</section>`;
}
