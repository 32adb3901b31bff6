/**
 * Records to PerformanceSnapshot objects: the seed's fields (timestamp, cpuPercent, memoryMb,
 * memoryPercent, openFiles, threads, contextSwitches, customMetrics) beside every ProcessSample
 * field. Allocates: for the convenience API, not the hot path.
 */
import { FIELDS, type ProcessSample } from '../probe/layout.js';
import { R } from '../ring/layout.js';
import { BEAT_GAUGE, ELD_GAUGE, ELU_GAUGE, eventLoopAt } from './event-loop.js';

export interface PerformanceSnapshot extends ProcessSample {
  /** Sequence number of the ring record. */
  seq: number;
  /** RSS in MiB (seed: memory_mb). */
  memoryMb: number;
  /** Open file descriptors of every kind (seed: open_files, which psutil limits to regular files). */
  openFiles: number;
  /** Voluntary + involuntary. */
  contextSwitches: number;
  /** Gauges and callback metrics at the time of the sample. */
  customMetrics: Record<string, number>;
  /**
   * Host main thread's event-loop delay, ms: how late its 10 ms beat was at worst over the last
   * window, or how long it has not run at this sample if that is more (a block shows while it
   * lasts); NaN when not measured.
   */
  eventLoopDelayMs: number;
  /** Host main thread's event-loop utilisation over the last window, 0..1 (1 while blocked a whole window); NaN when not measured. */
  eventLoopUtilization: number;
  /** Processes summed (1 unless sampling a tree). */
  processes: number;
  /**
   * Proportional set size, bytes (a tree: its members' sum, which counts shared pages once):
   * in the samples where it was read (every pssIntervalMs), NaN in the others.
   */
  pssBytes: number;
  /** How late the sampler woke for this sample, µs. */
  lagUs: number;
  /** ProbeStatus of the read. */
  status: number;
}

/** `windowMs`: the monitor's housekeeping window, over which utilisation is measured. */
export function recordToSnapshot(rec: Float64Array, at: number, gaugeNames: readonly string[], windowMs: number): PerformanceSnapshot {
  const s = {} as PerformanceSnapshot;
  for (let i = 0; i < FIELDS.length; i++) s[FIELDS[i]!] = rec[at + R.ROW + i]!;
  s.seq = rec[at + R.SEQ]!;
  s.status = rec[at + R.STATUS]!;
  s.lagUs = rec[at + R.LAG_US]!;
  s.processes = rec[at + R.PROCESSES]!;
  s.pssBytes = rec[at + R.PSS_BYTES]!;
  s.memoryMb = s.rssBytes / 1048576;
  s.openFiles = s.openFds;
  s.contextSwitches = s.voluntaryContextSwitches + s.involuntaryContextSwitches;
  s.eventLoopDelayMs = NaN;
  s.eventLoopUtilization = NaN;
  s.customMetrics = {};
  let beat = NaN;
  for (let g = 0; g < gaugeNames.length; g++) {
    const name = gaugeNames[g]!;
    const v = rec[at + R.GAUGES + g]!;
    if (name === ELD_GAUGE) s.eventLoopDelayMs = v;
    else if (name === ELU_GAUGE) s.eventLoopUtilization = v;
    else if (name === BEAT_GAUGE) beat = v;
    else if (!Number.isNaN(v)) s.customMetrics[name] = v;
  }
  if (!Number.isNaN(beat)) {
    const el = eventLoopAt(s.timestamp, s.eventLoopDelayMs, s.eventLoopUtilization, beat, windowMs);
    s.eventLoopDelayMs = el.delayMs;
    s.eventLoopUtilization = el.utilization;
  }
  return s;
}
