/**
 * What the node hooks saw inside the run's Node processes (SessionSummary.node) as tracks of the
 * Chrome trace (chrome-trace.ts), beside the phases and the process tree:
 *
 * - one trace process per Node process that loaded modules or paused for GC (the first
 *   {@link MAX_NODE_TRACE_PROCESSES} by start), pid {@link NODE_TRACE_PID} + k (k = 0, 1, …,
 *   above any real pid like the tree's), named "node pid N";
 * - tid 1 "modules": each module a slice (cat 'module') from its `startTime`, as long as its
 *   `totalMs`, with kind, parent, selfMs, totalMs, loadMs and failed as args, so the modules it
 *   loaded first nest inside it and Perfetto's self time is its `selfMs`. Exact for CommonJS,
 *   JSON and addons: require() is serial, the slice is the wall time of the call. An ES module's
 *   start is its resolve on the loader's thread and its length its self + dependencies' totals: the
 *   loader reads a graph concurrently, so this lays the figures out rather than replays the wall
 *   clock. A slice that does not nest with what a track holds goes to "modules (overlap n)",
 *   tid 3, 4, …;
 * - tid 2 "GC and event loop": each GC pause a slice (cat 'gc', named `GC <kind>`), and each
 *   event-loop reading (at listen, at exit) an instant with its busy and idle ms.
 */
import type { NodeGc, NodeModule, NodeProfile } from '../node-hooks/types.js';
import type { SessionSummary } from '../session/types.js';
import type { TraceEvent } from './chrome-trace.js';

/** The first Node trace pid: just above the tree's (chrome-trace-processes.ts: 2^22 + 1). */
export const NODE_TRACE_PID = 2 ** 22 + 2;
/** Node processes with tracks of their own; a tree of more is cut (the JSON has all). */
export const MAX_NODE_TRACE_PROCESSES = 20;
export const NODE_TID = Object.freeze({ MODULES: 1, GC: 2, FIRST_OVERFLOW: 3 });

interface Span {
  start: number;
  end: number;
}

/** The node tracks and their M events; none without a node profile. */
export function nodeEvents(summary: SessionSummary, us: (epochMs: number) => number): TraceEvent[] {
  const node: NodeProfile | undefined = summary.node;
  if (!node) return [];
  const byPid = new Map<number, { modules: NodeModule[]; gc: NodeGc[]; first: number }>();
  const of = (pid: number, t: number) => {
    let e = byPid.get(pid);
    if (!e) byPid.set(pid, (e = { modules: [], gc: [], first: t }));
    e.first = Math.min(e.first, t);
    return e;
  };
  for (const m of node.modules) if (Number.isFinite(m.startTime)) of(m.pid, m.startTime).modules.push(m);
  for (const g of node.gc) if (Number.isFinite(g.startTime)) of(g.pid, g.startTime).gc.push(g);
  const events: TraceEvent[] = [];
  [...byPid.entries()]
    .sort((a, b) => a[1].first - b[1].first)
    .slice(0, MAX_NODE_TRACE_PROCESSES)
    .forEach(([osPid, e], k) => {
      const pid = NODE_TRACE_PID + k;
      const modules = moduleEvents(e.modules, pid, us);
      events.push({ name: 'process_name', ph: 'M', ts: 0, pid, args: { name: `node pid ${osPid}` } }, { name: 'process_sort_index', ph: 'M', ts: 0, pid, args: { sort_index: 2 + k } });
      for (const tid of [...new Set(modules.map((m) => m.tid!)), NODE_TID.GC].sort((a, b) => a - b)) {
        const name = tid === NODE_TID.MODULES ? 'modules' : tid === NODE_TID.GC ? 'GC and event loop' : `modules (overlap ${tid - NODE_TID.FIRST_OVERFLOW + 1})`;
        events.push({ name: 'thread_name', ph: 'M', ts: 0, pid, tid, args: { name } });
      }
      events.push(...modules, ...gcEvents(e.gc, pid, us), ...loopEvents(node, osPid, pid, us));
    });
  return events;
}

/**
 * Module slices, each on the first lane where it nests with everything there. Spans come in start
 * order (the longer first at one start), so a lane is a stack of the slices still open: those that
 * ended by this start are closed for every later one too and are popped; the span fits when it
 * ends inside the innermost open one (or none is open).
 */
function moduleEvents(modules: readonly NodeModule[], pid: number, us: (epochMs: number) => number): TraceEvent[] {
  const spans = modules
    .map((m) => ({ m, start: us(m.startTime), end: us(m.startTime + Math.max(0, m.totalMs)) }))
    .sort((a, b) => a.start - b.start || b.end - a.end);
  const lanes: Span[][] = [];
  const events: TraceEvent[] = [];
  for (const s of spans) {
    let lane = lanes.findIndex((open) => {
      while (open.length > 0 && open[open.length - 1]!.end <= s.start) open.pop();
      return open.length === 0 || s.end <= open[open.length - 1]!.end;
    });
    if (lane < 0) lane = lanes.push([]) - 1;
    lanes[lane]!.push(s);
    const { m } = s;
    events.push({
      name: m.path,
      cat: 'module',
      ph: 'X',
      ts: s.start,
      dur: s.end - s.start,
      pid,
      tid: lane === 0 ? NODE_TID.MODULES : NODE_TID.FIRST_OVERFLOW + lane - 1,
      args: { pid: m.pid, kind: m.kind, parent: m.parent, selfMs: m.selfMs, totalMs: m.totalMs, loadMs: m.loadMs, failed: m.failed },
    });
  }
  return events;
}

function gcEvents(gc: readonly NodeGc[], pid: number, us: (epochMs: number) => number): TraceEvent[] {
  return gc.map((g) => {
    const ts = us(g.startTime);
    return { name: `GC ${g.kind}`, cat: 'gc', ph: 'X', ts, dur: Math.max(0, us(g.startTime + g.durationMs) - ts), pid, tid: NODE_TID.GC, args: { pid: g.pid, kind: g.kind, durationMs: g.durationMs } };
  });
}

function loopEvents(node: NodeProfile, osPid: number, pid: number, us: (epochMs: number) => number): TraceEvent[] {
  return node.loop
    .filter((l) => l.pid === osPid && Number.isFinite(l.atMs))
    .map((l) => ({ name: `event loop at ${l.at}`, cat: 'event_loop', ph: 'i', s: 't', ts: us(l.atMs), pid, tid: NODE_TID.GC, args: { busyMs: l.activeMs, idleMs: l.idleMs, utilisationPercent: l.activeMs + l.idleMs > 0 ? (100 * l.activeMs) / (l.activeMs + l.idleMs) : 0 } }));
}
