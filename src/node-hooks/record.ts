/**
 * A run's NodeProfile into its session: kept whole in the summary (`node`), and the bootstrap
 * milestones of one Node process as `node:*` phases, which fall inside process_startup. The
 * process shown: the one whose listen() made the command ready, else the command itself, else
 * the first that reported (a wrapper such as npm is not Node's bootstrap of interest).
 */
import type { PerformanceMonitor } from '../startup/performance-monitor.js';
import type { NodeMilestones, NodeProfile } from './types.js';

/** Milestone pairs as phases: [name, from, to]; Node's own names for the intervals (session/bootstrap.ts). */
function phases(m: NodeMilestones): [string, number | null, number | null][] {
  return [
    ['node:process_init', m.timeOrigin, m.nodeStart],
    ['node:v8_start', m.nodeStart, m.v8Start],
    ['node:environment', m.v8Start, m.environment],
    ['node:bootstrap', m.environment, m.bootstrapComplete],
    // The entry's synchronous run; an ES entry goes on loading after the loop started (README).
    ['node:run_main', m.bootstrapComplete, m.loopStart],
  ];
}

export function recordNodeProfile(pm: PerformanceMonitor, profile: NodeProfile, commandPid: number): void {
  const session = pm.currentSession;
  // A command with no Node process in it (or none that reported): no profile, as with --no-node-hooks.
  const empty = profile.processes.length === 0 && profile.modules.length === 0 && profile.listen === null && profile.dropped === 0;
  if (!session || empty) return;
  session.node = profile;
  const shown = [profile.listen?.pid, commandPid, profile.processes[0]?.pid].map((pid) => profile.processes.find((p) => p.pid === pid && p.milestones)).find(Boolean);
  if (!shown?.milestones) return;
  // process_startup ends at the listen(): a listen() during the entry's run ends its phase there too.
  const end = profile.listen?.pid === shown.pid ? profile.listen.atMs : Infinity;
  for (const [name, from, until] of phases(shown.milestones)) {
    const to = until === null ? null : Math.min(until, end);
    if (from === null || to === null || to < from) continue;
    const id = pm.startTimingAt(name, from, { pid: shown.pid });
    pm.finishTimingAt(id, to, true);
  }
}
