/**
 * Node's own start-up, from performance.nodeTiming, as phases before the session's first: a
 * session opened near process start shows where the time went before user code ran.
 */
import { performance } from 'node:perf_hooks';
import type { PhaseSummary } from './types.js';

/** Phases relative to a session that started at `sessionStartMono` (performance.now() ms). */
export function nodeBootstrapPhases(sessionStartMono: number): PhaseSummary[] {
  const t = performance.nodeTiming;
  // Milestones in ms since timeOrigin; -1 means "not reached".
  const marks: [string, number, number][] = [
    ['node:process_init', 0, t.nodeStart],
    ['node:v8_start', t.nodeStart, t.v8Start],
    ['node:environment', t.v8Start, t.environment],
    ['node:bootstrap', t.environment, t.bootstrapComplete],
    ['node:module_loading', t.bootstrapComplete, sessionStartMono],
  ];
  return marks
    .filter(([, a, b]) => a >= 0 && b >= a && b <= sessionStartMono)
    .map(([name, a, b]) => ({ name, startOffsetMs: a - sessionStartMono, durationMs: b - a, success: true }));
}
