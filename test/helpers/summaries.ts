/**
 * Builders for the summary records the analysis, export and phase-tree tests write by hand: a
 * ResourceDelta from a file's own defaults (each file states the values it differs in), and a
 * PhaseSummary. Plain objects only: nothing here runs procprobe.
 */
import type { PhaseSummary, ResourceDelta } from '../../dist/session/types.js';

const MiB = 1024 * 1024;

/**
 * A span in which nothing changed: 10 samples at 50 % CPU, 100 MiB resident throughout, 20 fds,
 * 7 threads, no context switches or page faults. The field order is the one the records have.
 */
export const STEADY_RES: Readonly<ResourceDelta> = {
  fromTimestamp: 0, toTimestamp: 0, samples: 10, cpuMs: 0, cpuPercent: 50,
  rssStartBytes: 100 * MiB, rssEndBytes: 100 * MiB, rssPeakBytes: 100 * MiB, rssDeltaBytes: 0,
  fdsStart: 20, fdsEnd: 20, fdsPeak: 20, threadsStart: 7, threadsEnd: 7, threadsPeak: 7,
  voluntaryContextSwitches: 0, involuntaryContextSwitches: 0, minorPageFaults: 0, majorPageFaults: 0,
};

/**
 * A ResourceDelta builder for one test file: STEADY_RES, then the file's `defaults`, then what a
 * call passes. `const res = resourceDeltaWith({ samples: 5 }); res({ cpuPercent: 90 })`.
 */
export function resourceDeltaWith(defaults: Partial<ResourceDelta>): (over?: Partial<ResourceDelta>) => ResourceDelta {
  return (over = {}) => ({ ...STEADY_RES, ...defaults, ...over });
}

/** A successful phase of `durationMs` at `startOffsetMs`, with `extra` fields over it. */
export const ph = (name: string, startOffsetMs: number, durationMs: number, extra: Partial<PhaseSummary> = {}): PhaseSummary => ({
  name, startOffsetMs, durationMs, success: true, ...extra,
});
