/**
 * Phases as a tree, the one rule every view uses (the terminal table, the HTML report, the Chrome
 * trace's tracks): in start order, a longer phase before the phases it contains (and
 * `total_startup` before any other phase of the same span), each with its depth, the number of
 * phases it lies inside. Timings may overlap without nesting (they are independent marks): such a
 * phase is not inside the one it overlaps.
 */
import { TOTAL_STARTUP, type PhaseSummary } from './types.js';

export interface PhaseNode {
  phase: PhaseSummary;
  /** ms from the session start. */
  start: number;
  end: number;
  depth: number;
}

/**
 * Offsets are floats computed from different clocks' readings: a phase that ends where its parent
 * ends can come out a few ns past it. Closer than this is "the same instant".
 */
const EPS_MS = 1e-6;

/** Two spans that are disjoint or one inside the other (they can share a track). */
export function nests(a: { start: number; end: number }, b: { start: number; end: number }, eps = 0): boolean {
  return a.end <= b.start + eps || b.end <= a.start + eps || (a.start >= b.start - eps && a.end <= b.end + eps) || (b.start >= a.start - eps && b.end <= a.end + eps);
}

/** Tree order: start, then longer first, then total_startup first, then as recorded. */
export function phaseTree(phases: readonly PhaseSummary[]): PhaseNode[] {
  const sorted = phases
    .map((phase, i) => ({ phase, i, start: phase.startOffsetMs, end: phase.startOffsetMs + phase.durationMs }))
    .sort((a, b) => a.start - b.start || b.end - a.end || Number(b.phase.name === TOTAL_STARTUP) - Number(a.phase.name === TOTAL_STARTUP) || a.i - b.i);
  // The open ancestors of the next phase, outermost first. Sorted by start, a phase is inside the
  // top one exactly when it ends no later; one that ends later overlaps it and closes it (O(n):
  // a summary may hold 50,000 phases).
  const stack: { end: number }[] = [];
  return sorted.map(({ phase, start, end }) => {
    while (stack.length > 0 && stack[stack.length - 1]!.end < end - EPS_MS) stack.pop();
    const node = { phase, start, end, depth: stack.length };
    stack.push(node);
    return node;
  });
}

/** The longest phase a person can act on: not total_startup, not Node's own bootstrap (node:*). */
export function slowestPhase(phases: readonly PhaseSummary[]): PhaseSummary | undefined {
  let slowest: PhaseSummary | undefined;
  for (const p of phases) {
    if (p.name === TOTAL_STARTUP || p.name.startsWith('node:')) continue;
    if (!slowest || p.durationMs > slowest.durationMs) slowest = p;
  }
  return slowest;
}

/** Every phase name of these sessions, once, in tree order of the first session that has it. */
export function phaseNames(sessions: readonly { phases: readonly PhaseSummary[] }[]): string[] {
  const names: string[] = [];
  for (const s of sessions) for (const { phase: p } of phaseTree(s.phases)) if (!names.includes(p.name)) names.push(p.name);
  return names;
}
