/** getResourceUsageSummary's answer: a session's resource use so far, or its final figures. */
import { averages } from '../session/buffer.js';
import { resourceDelta } from '../session/resources.js';
import type { StartupSession } from '../session/session.js';
import type { ResourceDelta, SessionSamples } from '../session/types.js';

/** The current or last session's resource use, with the samples' averages and CPU peak. */
export interface ResourceUsageSummary extends ResourceDelta {
  sessionId: string;
  /** CPU over the session's span, 100 = one core: the same figure as cpuPercent. */
  avgCpuPercent: number;
  peakCpuPercent: number;
  avgRssBytes: number;
}

/** null without samples, or when none covers the session. */
export function usageSummary(session: StartupSession, s: SessionSamples | undefined): ResourceUsageSummary | null {
  if (!s || s.count === 0) return null;
  const end = session.finished ? session.endTime : Infinity;
  // A finished session's own figures (boundary reads where taken, the file's past memory).
  const delta = session.finished && session.resources ? session.resources : resourceDelta(s.records, s.stride, s.count, session.startTime, end);
  if (!delta) return null;
  // One meaning of average CPU, as RealTimeMonitor.getAverageMetrics has it: CPU time over the
  // span (the delta's cpuPercent), not a mean of per-sample percentages, which weighs every
  // sample alike whatever the gap before it.
  return { sessionId: session.id, ...delta, ...averages(s.records, s.stride, s.count), avgCpuPercent: delta.cpuPercent };
}
