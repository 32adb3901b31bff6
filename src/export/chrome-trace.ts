/**
 * A session as Chrome / Perfetto Trace Event Format JSON (`{ traceEvents, displayTimeUnit,
 * metadata }`), loadable by ui.perfetto.dev and chrome://tracing.
 *
 * Time origin: every `ts` is µs (integers) from the *earliest* instant the session knows about:
 * the session start, the start of its earliest phase (Node's bootstrap phases `node:*` start
 * before the session, at negative offsets), its first sample and its first error. So every
 * `ts >= 0`; `metadata.originEpochMs` is that instant and `metadata.sessionStartUs` is where the
 * session itself starts on the trace's time axis. `metadata.schemaVersion` versions the
 * document; it sits in `metadata`, the trace-level information object viewers keep beside the
 * events rather than interpret, so the trace loads in Perfetto as before.
 *
 * Tracks (one process, pid = the sampled pid, else 1):
 * - tid 1 "phases": `total_startup` and every phase that nests properly inside what is already
 *   there (slices on one track must nest: contained or disjoint);
 * - tid 2 "node bootstrap": the `node:*` phases (they precede the session);
 * - tid 3, 4, ... "phases (overlap n)": a phase that sticks out of its would-be parent goes to the
 *   first such track where it nests.
 * Counters (ph 'C') for the process metrics and each gauge, min/max decimated to `maxPoints` per
 * series; errors are global instant events (ph 'i', s 'g'). A tree session's processes get a
 * trace process of their own, a track per process (chrome-trace-processes.ts); the modules, GC
 * pauses and event-loop readings of its Node processes one trace process each (chrome-trace-node.ts).
 */
import { F } from '../probe/layout.js';
import { R } from '../ring/layout.js';
import { nests, phaseTree } from '../session/phase-tree.js';
import { shownValue } from '../session/resources.js';
import { TOTAL_STARTUP, type PhaseSummary } from '../session/types.js';
import { SCHEMA_VERSION } from '../schema.js';
import { checkMaxPoints, decimateIndices } from './decimate.js';
import { jsonSafe } from './json-safe.js';
import { MAX_PROCESS_TRACKS, processEvents, TREE_TRACE_PID } from './chrome-trace-processes.js';
import { nodeEvents } from './chrome-trace-node.js';
import type { ExportInput } from './types.js';
import { checkOptions, optionKeys } from '../validate.js';

/** One Trace Event Format event (the subset this exporter writes). */
export interface TraceEvent {
  name: string;
  ph: 'X' | 'C' | 'i' | 'M';
  ts: number;
  pid: number;
  tid?: number;
  dur?: number;
  cat?: string;
  s?: 'g' | 'p' | 't';
  args?: Record<string, unknown>;
}

/** The document {@link toChromeTrace} serialises. */
export interface ChromeTrace {
  traceEvents: TraceEvent[];
  displayTimeUnit: 'ms';
  metadata: Record<string, unknown>;
}

/** Options of {@link toChromeTrace}. */
export interface ChromeTraceOptions {
  /** At most this many points per counter series (min/max decimation); default: all. */
  maxPoints?: number;
}

/** The process metrics written as counters, by their ProcessSample field name. */
export const TRACE_COUNTERS = [
  'cpuPercent',
  'rssBytes',
  'openFds',
  'threads',
  'voluntaryContextSwitches',
  'involuntaryContextSwitches',
] as const;

/** Counter name of a gauge in the trace. */
export function gaugeCounterName(gauge: string): string {
  return `gauge:${gauge}`;
}

/** tids of the phase tracks. */
export const TID = Object.freeze({ PHASES: 1, BOOTSTRAP: 2, FIRST_OVERFLOW: 3 });

interface Slice {
  phase: PhaseSummary;
  start: number;
  end: number;
}

/** Assign each slice to the first lane (of `lanes`, grown from `nextTid`) where it nests with everything. */
function place(slices: Slice[], lanes: Map<number, Slice[]>, tids: number[], nextTid: () => number): Map<Slice, number> {
  const out = new Map<Slice, number>();
  for (const s of slices) {
    let tid = tids.find((t) => (lanes.get(t) ?? []).every((o) => nests(s, o)));
    if (tid === undefined) {
      tid = nextTid();
      tids.push(tid);
    }
    const lane = lanes.get(tid) ?? [];
    lane.push(s);
    lanes.set(tid, lane);
    out.set(s, tid);
  }
  return out;
}

/** The sampled pid: the first record's pid, else 1. */
export function sampledPid(input: ExportInput): number {
  const { records, stride, count } = input.samples;
  for (let i = 0; i < count; i++) {
    const pid = records[i * stride + R.ROW + F.pid]!;
    if (Number.isInteger(pid) && pid > 0) return pid;
  }
  return 1;
}

/** The trace's time origin, ms since epoch: the earliest instant of the session (see module doc). */
export function traceOriginMs(input: ExportInput): number {
  const { summary, samples } = input;
  let origin = summary.startTime;
  for (const p of summary.phases) if (Number.isFinite(p.startOffsetMs)) origin = Math.min(origin, summary.startTime + p.startOffsetMs);
  for (const e of summary.errors) if (Number.isFinite(e.timestamp)) origin = Math.min(origin, e.timestamp);
  for (let i = 0; i < samples.count; i++) {
    const ts = samples.records[i * samples.stride + R.ROW + F.timestamp]!;
    if (Number.isFinite(ts)) origin = Math.min(origin, ts);
  }
  return origin;
}

/** Build the trace document (see the module doc for tracks and origin). */
export function buildChromeTrace(input: ExportInput, opts: ChromeTraceOptions = {}): ChromeTrace {
  const { summary, samples } = input;
  const pid = sampledPid(input);
  const origin = traceOriginMs(input);
  const us = (epochMs: number): number => Math.max(0, Math.round((epochMs - origin) * 1000));
  const phases = phaseEvents(summary, pid, us);
  const events = [...phases.events, ...counterEvents(samples, pid, us, opts.maxPoints), ...errorEvents(summary, pid, us)];
  const meta = metaEvents(summary.id, pid, phases.tids);
  const tree = processEvents(summary, us, opts.maxPoints);
  const node = nodeEvents(summary, us);
  return {
    traceEvents: [...meta, ...events, ...tree, ...node],
    displayTimeUnit: 'ms',
    metadata: {
      schemaVersion: SCHEMA_VERSION,
      source: 'procprobe',
      sessionId: summary.id,
      pid,
      originEpochMs: origin,
      sessionStartUs: us(summary.startTime),
      startTime: summary.startTime,
      endTime: summary.endTime,
      durationMs: summary.durationMs,
      success: summary.success,
      incomplete: summary.incomplete,
      sessionMetadata: summary.metadata,
      ...(tree.length > 0 ? { processTree: { pid: TREE_TRACE_PID, processes: summary.processes!.length, tracks: Math.min(MAX_PROCESS_TRACKS, summary.processes!.length), notKept: summary.processesDropped ?? 0 } } : {}),
      ...(input.suggestions ? { suggestions: input.suggestions } : {}),
    },
  };
}


/** The phases as X slices, each on the track place() gives it. */
function phaseEvents(summary: ExportInput['summary'], pid: number, us: (epochMs: number) => number): { events: TraceEvent[]; tids: Set<number> } {
  const events: TraceEvent[] = [];
  // Phases in tree order (session/phase-tree.ts), in trace µs.
  const slices: Slice[] = phaseTree(summary.phases.filter((p) => Number.isFinite(p.startOffsetMs) && Number.isFinite(p.durationMs) && p.durationMs >= 0)).map(({ phase }) => {
    const start = us(summary.startTime + phase.startOffsetMs);
    return { phase, start, end: Math.max(start, us(summary.startTime + phase.startOffsetMs + phase.durationMs)) };
  });
  const lanes = new Map<number, Slice[]>();
  let overflow = TID.FIRST_OVERFLOW;
  const next = (): number => overflow++;
  const total = slices.filter((s) => s.phase.name === TOTAL_STARTUP);
  const boot = slices.filter((s) => s.phase.name.startsWith('node:'));
  const rest = slices.filter((s) => s.phase.name !== TOTAL_STARTUP && !s.phase.name.startsWith('node:'));
  const mainTids = [TID.PHASES];
  const tidOf = new Map<Slice, number>([
    ...place(total, lanes, mainTids, next),
    ...place(boot, new Map(), [TID.BOOTSTRAP], next),
    ...place(rest, lanes, mainTids, next),
  ]);

  for (const s of slices) {
    const p = s.phase;
    events.push({
      name: p.name,
      cat: p.name.startsWith('node:') ? 'bootstrap' : 'phase',
      ph: 'X',
      ts: s.start,
      dur: s.end - s.start,
      pid,
      tid: tidOf.get(s)!,
      args: {
        success: p.success,
        startOffsetMs: p.startOffsetMs,
        durationMs: p.durationMs,
        ...(p.errorMessage !== undefined ? { errorMessage: p.errorMessage } : {}),
        ...(p.resources ? { resources: p.resources } : {}),
      },
    });
  }
  return { events, tids: new Set(tidOf.values()) };
}

/** One C counter series per metric and gauge, decimated to maxPoints. */
function counterEvents(samples: ExportInput['samples'], pid: number, us: (epochMs: number) => number, maxPoints: number | undefined): TraceEvent[] {
  const events: TraceEvent[] = [];
  const { records, stride, count } = samples;
  const tsOf = (i: number): number => records[i * stride + R.ROW + F.timestamp]!;
  const series: [string, string, number][] = [
    ...TRACE_COUNTERS.map((f): [string, string, number] => [f, 'resource', R.ROW + F[f]]),
    ...samples.gaugeNames.map((g, k): [string, string, number] => [gaugeCounterName(g), 'gauge', R.GAUGES + k]),
  ];
  // A resource as exports show it (shownValue: nothing before the spawn, no teardown level).
  const raw = (i: number, col: number): number => (col >= R.GAUGES ? records[i * stride + col]! : shownValue(records, i * stride, col - R.ROW));
  for (const [name, cat, col] of series) {
    const valueAt = (i: number): number => (Number.isFinite(tsOf(i)) ? raw(i, col) : NaN);
    for (const i of decimateIndices(count, valueAt, maxPoints)) {
      const value = valueAt(i);
      if (!Number.isFinite(value)) continue; // JSON has no Infinity
      events.push({ name, cat, ph: 'C', ts: us(tsOf(i)), pid, args: { value } });
    }
  }
  return events;
}

/** The session's errors as global instants. */
function errorEvents(summary: ExportInput['summary'], pid: number, us: (epochMs: number) => number): TraceEvent[] {
  const events: TraceEvent[] = [];
  for (const e of summary.errors) {
    if (!Number.isFinite(e.timestamp)) continue;
    events.push({
      name: e.operation !== undefined ? `error (${e.operation}): ${e.message}` : `error: ${e.message}`,
      cat: 'error',
      ph: 'i',
      s: 'g',
      ts: us(e.timestamp),
      pid,
      tid: TID.PHASES,
      args: { message: e.message, ...(e.operation !== undefined ? { operation: e.operation } : {}) },
    });
  }
  return events;
}

/** The process and track names (M events), in track order. */
function metaEvents(sessionId: string, pid: number, tids: Set<number>): TraceEvent[] {
  const threadNames = new Map<number, string>([[TID.PHASES, 'phases']]);
  for (const tid of [...tids].sort((a, b) => a - b)) {
    if (tid === TID.BOOTSTRAP) threadNames.set(tid, 'node bootstrap');
    else if (tid !== TID.PHASES) threadNames.set(tid, `phases (overlap ${tid - TID.FIRST_OVERFLOW + 1})`);
  }
  const meta: TraceEvent[] = [
    { name: 'process_name', ph: 'M', ts: 0, pid, args: { name: `procprobe session ${sessionId}` } },
  ];
  for (const [tid, name] of threadNames) {
    meta.push({ name: 'thread_name', ph: 'M', ts: 0, pid, tid, args: { name } });
    meta.push({ name: 'thread_sort_index', ph: 'M', ts: 0, pid, tid, args: { sort_index: tid === TID.BOOTSTRAP ? 0 : tid } });
  }
  return meta;
}


const TRACE_OPTIONS = optionKeys<ChromeTraceOptions>({ maxPoints: true });

/** The session as Trace Event Format JSON text (see {@link buildChromeTrace}). */
export function toChromeTrace(input: ExportInput, opts: ChromeTraceOptions = {}): string {
  const maxPoints = checkMaxPoints(checkOptions('options', opts, TRACE_OPTIONS, 'toChromeTrace').maxPoints);
  return JSON.stringify(buildChromeTrace(input, maxPoints === undefined ? {} : { maxPoints }), jsonSafe);
}
