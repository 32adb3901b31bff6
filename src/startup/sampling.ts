/**
 * PerformanceMonitor's sampler (performance-monitor.ts): the one it creates for its sessions, and
 * how a session's end brings it to rest so that the last drain and the file hold the same samples.
 */
import { Sampler } from '../sampler/sampler.js';
import { fillExits, type ProcessExit } from '../sampler/processes.js';
import type { SamplerUsageMark } from '../sampler/self-usage.js';
import type { SessionBuffer } from '../session/buffer.js';
import { samplerAccount } from '../session/sampler-account.js';
import type { StartupSession } from '../session/session.js';
import type { ResolvedOptions } from './options.js';

/** The sampler of a monitor's sessions: a 65,536-record ring, no gauges (sessions have none). */
export function createSessionSampler(o: ResolvedOptions): Sampler {
  return new Sampler({
    pid: o.pid,
    tree: o.tree,
    excludeRoot: o.excludeRoot,
    samplingIntervalMs: o.resourceSamplingIntervalMs,
    capacity: 65_536,
    maxGauges: 0,
    backend: o.backend,
    ...(o.pssIntervalMs !== undefined ? { pssIntervalMs: o.pssIntervalMs } : {}),
  });
}

/**
 * At a session's end: wait for a record past its end, take a tree's process list (with the exit
 * statuses the caller knows), pause the sampler (kept for the next session: resuming is
 * immediate, starting is not) and state its own cost over the session.
 */
export async function quiesceSampler(
  sampler: Sampler,
  buffer: SessionBuffer,
  session: StartupSession,
  o: { exits: readonly ProcessExit[]; usageStart: SamplerUsageMark | null; intervalMs: number },
): Promise<void> {
  await buffer.waitPast(session.endTime, 4 * o.intervalMs + 20);
  if (sampler.tree) session.processes = (await sampler.processes()) ?? undefined;
  if (session.processes) fillExits(session.processes.list, o.exits);
  sampler.pause();
  // The ring must stop moving before the last drain: the memory copy and the file then hold
  // the same samples (a tick in flight at pause() still writes one).
  await sampler.whenPaused();
  const usageFrom = o.usageStart ?? sampler.readyMark;
  const usageTo = sampler.usageMark();
  if (usageFrom && usageTo) session.sampler = samplerAccount(usageFrom, usageTo, sampler.intervalMs);
}
