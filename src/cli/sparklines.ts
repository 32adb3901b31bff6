/**
 * The sparklines of the terminal report (`run`, `show`): CPU %, RSS and threads over one time
 * axis. Every line of a block has the same cells, each cell the same slice of time, so a spike in
 * one line sits above the same instant in the others. A cell where no record measured the process
 * (before the spawn, a failed read, a process being torn down: session/resources.ts shownValue)
 * is a blank, never a made-up 0.
 */
import { F } from '../probe/layout.js';
import { R } from '../ring/layout.js';
import { isMeasured, shownValue } from '../session/resources.js';
import type { SessionSamples } from '../session/types.js';
import { cpuPercent } from '../units.js';
import { fmtBytes, fmtMs, fmtNum, fmtPct, sparkline, type Style } from './terminal.js';

/**
 * Shortest cell, ms: another process's CPU time advances in scheduler ticks (4 ms at HZ=250), so a
 * CPU % over less than a few ticks is noise. The other lines use the same cells.
 */
export const MIN_CELL_MS = 20;

/** The time cells of a block: `n` cells of `cellMs` from `t0` (ms since epoch). */
interface Cells {
  t0: number;
  cellMs: number;
  n: number;
  /** Measured records (indices into samples), in time order. */
  measured: number[];
}

function cellsOf(samples: SessionSamples, width: number): Cells | undefined {
  const ts = (i: number): number => samples.records[i * samples.stride + R.ROW + F.timestamp]!;
  const measured: number[] = [];
  for (let i = 0; i < samples.count; i++) if (isMeasured(samples.records, i * samples.stride) && Number.isFinite(ts(i))) measured.push(i);
  if (measured.length < 2) return undefined;
  const t0 = ts(measured[0]!);
  const span = ts(measured[measured.length - 1]!) - t0;
  const n = Math.max(1, Math.min(width, measured.length - 1, Math.floor(span / MIN_CELL_MS)));
  return { t0, cellMs: span / n || 1, n, measured };
}

/** Cell of the record at index i (the last record closes the last cell). */
const cellOf = (c: Cells, t: number): number => Math.min(c.n - 1, Math.floor((t - c.t0) / c.cellMs));

/** The highest shown value of ProcessSample field `f` per cell (NaN: nothing shown in the cell). */
function levelCells(samples: SessionSamples, c: Cells, f: number): number[] {
  const out = new Array<number>(c.n).fill(NaN);
  for (const i of c.measured) {
    const v = shownValue(samples.records, i * samples.stride, f);
    const k = cellOf(c, samples.records[i * samples.stride + R.ROW + F.timestamp]!);
    if (Number.isFinite(v) && !(v <= out[k]!)) out[k] = v; // (v <= NaN is false: the cell's first value)
  }
  return out;
}

/**
 * CPU % per cell from the cumulative CPU time: from the last measured record before the cell (the
 * first record, for the first cell) to the cell's last one. Per-sample percentages of another
 * process are noisy at 1 kHz, averages over a cell are not. A cell with no record is NaN.
 */
function cpuCells(samples: SessionSamples, c: Cells): number[] {
  const at = (i: number, f: number): number => samples.records[i * samples.stride + R.ROW + f]!;
  const cpu = (i: number): number => at(i, F.cpuUserUs) + at(i, F.cpuSystemUs);
  const lastIn = new Array<number>(c.n).fill(-1);
  for (const i of c.measured) lastIn[cellOf(c, at(i, F.timestamp))] = i;
  const out: number[] = [];
  let from = c.measured[0]!;
  for (let k = 0; k < c.n; k++) {
    const to = lastIn[k]!;
    if (to < 0 || to === from) {
      out.push(NaN);
      continue;
    }
    const d = cpu(to) - cpu(from);
    out.push(d >= 0 ? cpuPercent(d, (at(to, F.timestamp) - at(from, F.timestamp)) * 1e3) : NaN); // backwards: a tree member exited
    from = to;
  }
  return out;
}

/**
 * The time axis under a block of `n` cells: 0 under the first cell and the span ending under the
 * last; a block too narrow for both labels gets dots, the span then said after it.
 */
function axisLine(c: Cells): { cells: string; after: string } {
  const end = fmtMs(c.cellMs * c.n);
  const gap = c.n - 1 - end.length;
  const tail = `${c.n} cells of ${fmtMs(c.cellMs)}`;
  return gap >= 1 ? { cells: `0${' '.repeat(gap)}${end}`, after: tail } : { cells: '·'.repeat(c.n), after: `0 … ${end}, ${tail}` };
}

/** Sparklines of CPU %, RSS and threads over the session's samples, on one time axis. */
export function sparklines(samples: SessionSamples, style: Style, width = 48): string {
  const c = cellsOf(samples, width);
  if (!c) return style.dim('(too few samples for charts)');
  const cpu = cpuCells(samples, c);
  const rss = levelCells(samples, c, F.rssBytes);
  const threads = levelCells(samples, c, F.threads);
  const axis = axisLine(c);
  const max = (v: number[]): number => v.reduce((m, x) => (Number.isFinite(x) && x > m ? x : m), -Infinity);
  // padEnd: a line whose last cells are blank (no sample there) keeps the block's width.
  const line = (v: number[]): string => style.cyan(sparkline(v, c.n).padEnd(c.n));
  return [
    `CPU %    ${line(cpu)}  peak ${fmtPct(max(cpu))}`,
    `RSS      ${line(rss)}  peak ${fmtBytes(max(rss))}`,
    `threads  ${line(threads)}  peak ${fmtNum(max(threads))}`,
    style.dim(`time     ${axis.cells}  (${axis.after})`),
  ].join('\n');
}
