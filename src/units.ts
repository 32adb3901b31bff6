/**
 * Units every room shares: the one definition of CPU %, and how a duration is written for a
 * person (the terminal, the Markdown export).
 *
 * The one definition of CPU % every room uses (the sampler's C loop has its twin in
 * native/loop.cc): CPU time over wall time, 100 = one core busy for the whole interval.
 * OpenTelemetry's process.cpu.utilization is another figure (a fraction of all cores) and is
 * computed where it is exported.
 */

/** CPU % of one core from CPU time and wall time in the same unit; NaN when no wall time passed. */
export function cpuPercent(cpu: number, wall: number): number {
  return wall > 0 ? (cpu / wall) * 100 : NaN;
}

/** A duration in ms for a person: `0.6 ms`, `42.6 ms`, `408 ms`, `12.34 s`; `-` when not finite. */
export function fmtMs(ms: number): string {
  if (!Number.isFinite(ms)) return '-';
  if (Math.abs(ms) >= 10_000) return `${(ms / 1e3).toFixed(2)} s`;
  if (Math.abs(ms) >= 100) return `${ms.toFixed(0)} ms`;
  return `${ms.toFixed(1)} ms`;
}

/** A relative change for a person: `+12.3%`, `-4.0%`; `+∞` for an unbounded interval's end, `-` when unknown. */
export function fmtChange(f: number): string {
  if (f === Infinity) return '+∞';
  return Number.isFinite(f) ? `${f >= 0 ? '+' : ''}${(f * 100).toFixed(1)}%` : '-';
}

/** A relative change as a ratio for a person: 0.5 → `1.50×`; `∞×` for an unbounded end, `-` when unknown. */
export function fmtRatio(change: number): string {
  if (change === Infinity) return '∞×';
  return Number.isFinite(change) ? `${(1 + change).toFixed(2)}×` : '-';
}
