/**
 * The processes of a tree session (SessionSummary.processes) as tracks of the Chrome trace
 * (chrome-trace.ts), so Perfetto shows who ran when beside the phases:
 *
 * - one trace process, pid {@link TREE_TRACE_PID}, named "process tree (N processes)";
 * - one track (thread) per process, for the {@link MAX_PROCESS_TRACKS} that used the most CPU
 *   (session/process-list.ts ranks them): tid = its OS pid, named "pid command", ordered by
 *   start; its lifespan one X slice (cat 'process') from its start to its end, or to the
 *   session's end while it ran on, with its pid, ppid, command, CPU ms, peak RSS and threads,
 *   exit status and times (ms since epoch) as args;
 * - the rest on one track "other N processes" (tid = TREE_TRACE_PID): one X slice spanning them,
 *   with their count, CPU and programs as args, and a counter "other processes running" that
 *   steps at each of their starts and ends (decimated to maxPoints like every counter).
 *
 * No per-process counter series: the tree keeps per-process totals and peaks only, its samples
 * are the sums (the session's own counter tracks). A process that started before the trace's
 * origin (a long-running pid sampled as a tree) starts at ts 0; its args keep its real start.
 */
import { rankProcesses, tailOf, tailPrograms } from '../session/process-list.js';
import type { SessionSummary } from '../session/types.js';
import type { TreeProcess } from '../sampler/processes.js';
import { decimateIndices } from './decimate.js';
import type { TraceEvent } from './chrome-trace.js';

/**
 * The tree's trace pid: above Linux's PID_MAX_LIMIT (2^22) and macOS's 99,999, so it names no
 * real process, and cannot collide with the session's own trace process (the sampled pid), which
 * is often the command's, whose lifespan is also a track here.
 */
export const TREE_TRACE_PID = 2 ** 22 + 1;
/** Processes with a track of their own; the rest share one (readable in Perfetto at ~50). */
export const MAX_PROCESS_TRACKS = 50;
/** Slice names are cut here (args.command has all of it). */
const NAME_CHARS = 120;

const cut = (s: string): string => (s.length > NAME_CHARS ? `${s.slice(0, NAME_CHARS - 1)}…` : s);

/** The instant the session ended, else (still open, a crash) the last one it knows of. */
function sessionEnd(summary: SessionSummary, list: readonly TreeProcess[]): number {
  if (Number.isFinite(summary.endTime)) return summary.endTime;
  let end = summary.startTime;
  for (const p of list) for (const t of [p.startTime, p.adoptedAt, p.endTime ?? NaN]) if (Number.isFinite(t)) end = Math.max(end, t);
  return end;
}

/** The tree's tracks and their M events; none when the session has no process list. */
export function processEvents(summary: SessionSummary, us: (epochMs: number) => number, maxPoints?: number): TraceEvent[] {
  const list = summary.processes ?? [];
  if (list.length === 0) return [];
  const pid = TREE_TRACE_PID;
  const end = sessionEnd(summary, list);
  const { top, tail } = rankProcesses(list, MAX_PROCESS_TRACKS);
  const events: TraceEvent[] = [
    { name: 'process_name', ph: 'M', ts: 0, pid, args: { name: `process tree (${list.length + (summary.processesDropped ?? 0)} processes)` } },
    { name: 'process_sort_index', ph: 'M', ts: 0, pid, args: { sort_index: 1 } },
  ];
  const named = new Set<number>();
  // Tracks in start order, like a Gantt; a reused pid shares its first owner's track (their
  // lifespans are disjoint, so the slices still nest).
  [...top].sort((a, b) => a.startTime - b.startTime || a.pid - b.pid).forEach((p, k) => {
    if (!named.has(p.pid)) {
      named.add(p.pid);
      events.push({ name: 'thread_name', ph: 'M', ts: 0, pid, tid: p.pid, args: { name: cut(`${p.pid} ${p.command}`) } });
      events.push({ name: 'thread_sort_index', ph: 'M', ts: 0, pid, tid: p.pid, args: { sort_index: k } });
    }
    events.push(lifespan(p, us, end));
  });
  if (tail.length > 0 || (summary.processesDropped ?? 0) > 0) events.push(...tailEvents(tail, summary.processesDropped ?? 0, us, end, top.length, maxPoints));
  return events;
}

/** One process's lifespan as an X slice on its track. */
function lifespan(p: TreeProcess, us: (epochMs: number) => number, end: number): TraceEvent {
  const from = Number.isFinite(p.startTime) ? p.startTime : p.adoptedAt;
  const ts = us(from);
  return {
    name: cut(p.command),
    cat: 'process',
    ph: 'X',
    ts,
    dur: Math.max(0, us(p.endTime ?? end) - ts),
    pid: TREE_TRACE_PID,
    tid: p.pid,
    args: {
      pid: p.pid,
      ppid: p.ppid,
      command: p.command,
      cpuMs: p.cpuMs,
      peakRssBytes: p.peakRssBytes,
      peakThreads: p.peakThreads,
      exitCode: p.exitCode ?? null, // sessions saved before exit statuses lack them
      signal: p.signal ?? null,
      startTime: p.startTime,
      adoptedAt: p.adoptedAt,
      endTime: p.endTime,
      running: p.endTime === null,
    },
  };
}

/** The long tail's track: one slice spanning it, and how many of it ran at each instant. */
function tailEvents(tail: readonly TreeProcess[], dropped: number, us: (epochMs: number) => number, end: number, sortIndex: number, maxPoints?: number): TraceEvent[] {
  const pid = TREE_TRACE_PID;
  const t = tailOf(tail, dropped);
  const name = `other ${t.count + t.dropped} processes`;
  const events: TraceEvent[] = [
    { name: 'thread_name', ph: 'M', ts: 0, pid, tid: pid, args: { name } },
    { name: 'thread_sort_index', ph: 'M', ts: 0, pid, tid: pid, args: { sort_index: sortIndex } },
  ];
  if (t.count === 0) return events; // only dropped ones: nothing known of when they ran
  const from = us(Number.isFinite(t.firstStart) ? t.firstStart : end);
  events.push({
    name: `${name} (${tailPrograms(t)})`,
    cat: 'process',
    ph: 'X',
    ts: from,
    dur: Math.max(0, us(t.lastEnd ?? end) - from),
    pid,
    tid: pid,
    args: { processes: t.count, notKept: t.dropped, cpuMs: t.cpuMs, largestPeakRssBytes: t.peakRssBytes, programs: t.programs, otherPrograms: t.otherPrograms },
  });
  // Starts (+1) and ends (-1) in time order, an end before a start at the same instant: the count
  // never overstates; one point per instant, the level after every step there.
  const steps = tail.flatMap((p) => [[us(Number.isFinite(p.startTime) ? p.startTime : p.adoptedAt), 1], [us(p.endTime ?? end), -1]] as const);
  steps.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const points: [number, number][] = [];
  let running = 0;
  for (const [ts, d] of steps) {
    running += d;
    if (points.length > 0 && points[points.length - 1]![0] === ts) points[points.length - 1]![1] = running;
    else points.push([ts, running]);
  }
  for (const i of decimateIndices(points.length, (i) => points[i]![1], maxPoints)) {
    events.push({ name: 'other processes running', cat: 'process', ph: 'C', ts: points[i]![0], pid, args: { value: points[i]![1] } });
  }
  return events;
}
