/**
 * The phases of one session as the HTML pages draw them: rows in tree order with their colours
 * and labels (for the Gantt), and the phase table with each phase's resources.
 */
import { phaseTree, slowestPhase } from '../session/phase-tree.js';
import { TOTAL_STARTUP, type PhaseSummary, type ResourceDelta, type SessionSummary } from '../session/types.js';
import { fmtMiB, fmtMs, fmtPct, num } from './format.js';
import { esc, type PhaseRow } from './svg.js';

/** Phases in tree order (session/phase-tree.ts), with colour and labels. */
export function phaseRows(phases: PhaseSummary[], totalMs: number): { rows: PhaseRow[]; order: PhaseSummary[] } {
  const tree = phaseTree(phases);
  const order = tree.map((n) => n.phase);
  const slowest = slowestPhase(phases);
  let colour = 0;
  const rows = tree.map(({ phase: p, end, depth }): PhaseRow => {
    const total = p.name === TOTAL_STARTUP;
    const share = totalMs > 0 ? ` · ${num((p.durationMs / totalMs) * 100, 1)} %` : '';
    const status = p.success ? '' : ` · FAILED${p.errorMessage ? `: ${p.errorMessage}` : ''}`;
    return {
      name: p.name,
      start: p.startOffsetMs,
      end,
      depth,
      failed: !p.success,
      slowest: p === slowest,
      total,
      colour: total ? 0 : (colour++ % 7) + 1,
      tip: `${p.name}: ${fmtMs(p.durationMs)}, from ${fmtMs(p.startOffsetMs)} to ${fmtMs(end)}${share}${status}`,
      label: `${fmtMs(p.durationMs)}${share}`,
    };
  });
  return { rows, order };
}

function resourceCells(r: ResourceDelta | undefined): string {
  if (!r) return '<td class="num dim" colspan="6">no samples cover this phase</td>';
  const fdDelta = r.fdsEnd - r.fdsStart;
  return [
    `<td class="num">${fmtMs(r.cpuMs)}</td>`,
    `<td class="num">${fmtPct(r.cpuPercent)}</td>`,
    `<td class="num">${fmtMiB(r.rssPeakBytes)}</td>`,
    `<td class="num">${num(r.threadsPeak)}</td>`,
    `<td class="num">${num(r.fdsPeak)}${fdDelta ? ` <span class="dim">(${fdDelta > 0 ? '+' : ''}${num(fdDelta)})</span>` : ''}</td>`,
    `<td class="num">${num(r.voluntaryContextSwitches)} / ${num(r.involuntaryContextSwitches)}</td>`,
  ].join('');
}

/** One session's phase table alone (the series page shows each run's). */
export function sessionPhaseTable(summary: SessionSummary): string {
  const totalMs = summary.phases.find((p) => p.name === TOTAL_STARTUP)?.durationMs ?? summary.durationMs;
  const { rows, order } = phaseRows(summary.phases, totalMs);
  return phaseTable(order, rows, totalMs);
}

export function phaseTable(order: PhaseSummary[], rows: PhaseRow[], totalMs: number): string {
  if (!order.length) return '<p class="note">No phases were timed in this session.</p>';
  const body = order.map((p, i) => {
    const r = rows[i]!;
    const share = totalMs > 0 ? (p.durationMs / totalMs) * 100 : NaN;
    const bar = Number.isFinite(share) ? `<span class="share"><span class="${r.failed ? 'failed' : r.slowest ? 'slowest' : `pc${r.colour}`}" style="width:${Math.min(100, Math.max(0, share)).toFixed(1)}%"></span></span>` : '';
    return `<tr class="${r.failed ? 'bad' : ''}${r.slowest ? ' hl' : ''}"><td class="name" style="padding-left:${10 + r.depth * 18}px">${r.depth ? '<span class="tree">└ </span>' : ''}${esc(p.name)}${r.slowest ? ' <span class="pill warn">slowest</span>' : ''}</td>`
      + `<td class="num">${fmtMs(p.startOffsetMs)}</td><td class="num">${fmtMs(p.durationMs)}</td><td class="num">${bar}${fmtPct(share)}</td>`
      + resourceCells(p.resources)
      + `<td>${p.success ? '<span class="pill ok">ok</span>' : '<span class="pill bad">failed</span>'}</td><td class="err">${esc(p.errorMessage ?? '')}</td></tr>`;
  });
  return `<div class="card scroll"><table><thead><tr><th>Phase</th><th>Start</th><th>Duration</th><th>Share of total</th><th>CPU time</th><th>CPU</th><th>Peak RSS</th><th>Threads peak</th><th>FDs peak</th><th>Ctx switches <span>vol / invol</span></th><th>Status</th><th>Error</th></tr></thead><tbody>\n${body.join('\n')}\n</tbody></table></div>`;
}
