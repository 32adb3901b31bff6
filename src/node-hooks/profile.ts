/**
 * The messages of a run (receiver.ts) into its NodeProfile: one record per module and process,
 * paths relative to the run's cwd, an ES module's hooks-thread resolve+load joined with its
 * evaluation, and each module's total = its self time + the totals of the modules it loaded
 * first (for CommonJS that equals the wall time of its require(), measured in the child).
 *
 * The lines come from the user's processes: anything that is not the shape the preload sends is
 * counted in `dropped` and left out, never trusted.
 */
import { isAbsolute, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { HookMessage, NodeGc, NodeListen, NodeLoop, NodeMilestones, NodeModule, NodeModuleKind, NodeProcess, NodeProfile } from './types.js';

/** Modules and GC pauses kept per run; beyond them they are counted in `dropped`. */
export const MAX_MODULES = 20_000;
export const MAX_GC = 10_000;

const FORMATS: Record<string, NodeModuleKind> = { module: 'esm', commonjs: 'commonjs', json: 'json', builtin: 'builtin', wasm: 'wasm', addon: 'addon' };
const KINDS = new Set<string>(Object.values(FORMATS));

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isStr = (v: unknown): v is string => typeof v === 'string';
const isPid = (v: unknown): v is number => Number.isInteger(v) && (v as number) > 0;

/** What one process said, message by message, before the modules are put together. */
interface Said {
  hello?: { ppid: number; node: string };
  milestones?: NodeMilestones;
  uncaught: boolean;
  /** CommonJS rows: kind, file, CommonJS parent, start, self, total, failed. */
  cjs: [NodeModuleKind, string, string | null, number, number, number, boolean][];
  esm: { u: string; p: string | null; f: string; t: number; loadMs: number; e: number }[];
  /** ES bodies' ends, in the order they came (the order they happened). */
  ends: [string, number][];
}

export function buildProfile(messages: readonly HookMessage[], cwd: string, bad: number): NodeProfile {
  const by = new Map<number, Said>();
  let dropped = bad;
  let listen: NodeListen | null = null;
  const gc: NodeGc[] = [];
  const loop: NodeLoop[] = [];
  const said = (pid: number): Said => {
    let s = by.get(pid);
    if (!s) by.set(pid, (s = { uncaught: false, cjs: [], esm: [], ends: [] }));
    return s;
  };
  for (const m of messages) {
    if (!m || typeof m !== 'object' || !isPid(m.pid)) dropped++;
    else if (m.k === 'hello' && isPid(m.ppid) && isStr(m.node)) said(m.pid).hello = { ppid: m.ppid, node: m.node };
    else if (m.k === 'milestones' && milestones(m.m)) said(m.pid).milestones = m.m;
    else if (m.k === 'exit') said(m.pid).uncaught = m.uncaught === true;
    else if (m.k === 'cjs' && Array.isArray(m.l)) {
      for (const r of m.l) {
        if (Array.isArray(r) && KINDS.has(r[0]) && isStr(r[1]) && (r[2] === null || isStr(r[2])) && isNum(r[3]) && isNum(r[4]) && isNum(r[5])) said(m.pid).cjs.push([r[0], r[1], r[2], r[3], r[4], r[5], r[6] === 1]);
        else dropped++;
      }
    } else if (m.k === 'esm' && isStr(m.u) && (m.p === null || isStr(m.p)) && isStr(m.f) && isNum(m.t) && isNum(m.r) && isNum(m.ld) && isNum(m.e)) {
      said(m.pid).esm.push({ u: m.u, p: m.p, f: m.f, t: m.t, loadMs: m.r + m.ld, e: m.e });
    } else if (m.k === 'eval' && Array.isArray(m.l)) {
      for (const r of m.l) {
        if (Array.isArray(r) && isStr(r[0]) && isNum(r[1])) said(m.pid).ends.push([r[0], r[1]]);
        else dropped++;
      }
    } else if (m.k === 'gc' && Array.isArray(m.l)) {
      for (const r of m.l) {
        if (Array.isArray(r) && isStr(r[0]) && isNum(r[1]) && isNum(r[2]) && gc.length < MAX_GC) gc.push({ pid: m.pid, kind: r[0], startTime: r[1], durationMs: r[2] });
        else dropped++;
      }
    } else if (m.k === 'loop' && (m.at === 'listen' || m.at === 'exit') && isNum(m.t) && isNum(m.idleMs) && isNum(m.activeMs)) {
      loop.push({ pid: m.pid, at: m.at, atMs: m.t, idleMs: m.idleMs, activeMs: m.activeMs });
    } else if (m.k === 'listen' && isNum(m.t) && isNum(m.b) && (m.port === null || isNum(m.port)) && isStr(m.address)) {
      listen ??= { pid: m.pid, atMs: m.t, bindStartMs: m.b, port: m.port, address: m.address, family: isStr(m.family) ? m.family : null };
    } else dropped++;
  }
  const processes: NodeProcess[] = [];
  const all: NodeModule[] = [];
  for (const [pid, s] of by) {
    if (s.hello || s.milestones) processes.push({ pid, ppid: s.hello?.ppid ?? 0, nodeVersion: s.hello?.node ?? '', milestones: s.milestones ?? null });
    all.push(...modulesOf(pid, s, (name) => shownPath(name, cwd)));
  }
  all.sort((a, b) => a.startTime - b.startTime);
  const kept = all.slice(0, MAX_MODULES);
  return { processes, modules: kept, listen, gc, loop, dropped: dropped + all.length - kept.length };
}

/**
 * One process's modules. An ES body's evaluation: from the previous main-thread event of its graph
 * (the end of the ES body or CommonJS module evaluated before it, or the last load of the graph,
 * whichever is later) to its end, minus the CommonJS loads its body ran (createRequire): those
 * are the require()s the loader's hooks never saw.
 */
function modulesOf(pid: number, s: Said, shown: (name: string) => string): NodeModule[] {
  const drafts = new Map<string, NodeModule>();
  const loadEnds = s.esm.map((x) => x.e).sort((a, b) => a - b);
  const inGraph = new Set(s.esm.map((x) => shown(x.u)));
  const top = s.cjs.filter((r) => r[2] === null).map((r) => ({ graph: inGraph.has(shown(r[1])), from: r[3], to: r[3] + r[5] }));
  const graphEnds = top.filter((c) => c.graph).map((c) => c.to).sort((a, b) => a - b);
  const required = top.filter((c) => !c.graph).sort((a, b) => a.from - b.from);
  const evalMs = new Map<string, number>();
  // The windows [from, end] follow each other in time (the ends came in order): one pass over the
  // required intervals, binary searches in the boundaries.
  let previous = -Infinity;
  let c = 0;
  for (const [url, end] of s.ends) {
    const from = Math.max(previous, lastBefore(loadEnds, end), lastBefore(graphEnds, end));
    while (c < required.length && required[c]!.to <= from) c++;
    let inCjs = 0;
    for (let i = c; i < required.length && required[i]!.from < end; i++) inCjs += Math.max(0, Math.min(required[i]!.to, end) - Math.max(required[i]!.from, from));
    if (Number.isFinite(from)) evalMs.set(url, Math.max(0, end - from - inCjs));
    previous = end;
  }
  const ended = new Set(s.ends.map(([u]) => u));
  for (const x of s.esm) {
    const path = shown(x.u);
    const kind = FORMATS[x.f] ?? 'esm';
    // An ES module that never finished, in a process an uncaught exception ended: it failed (or one of its dependencies did).
    const failed = kind === 'esm' && !ended.has(x.u) && s.uncaught;
    drafts.set(path, { pid, path, kind, parent: x.p === null ? null : shown(x.p), startTime: x.t, selfMs: evalMs.get(x.u) ?? 0, totalMs: 0, loadMs: x.loadMs, failed });
  }
  for (const [kind, file, parent, start, self, , failed] of s.cjs) {
    const path = shown(file);
    const had = drafts.get(path);
    // The same file through both loaders (an ES import of CommonJS): the hooks' read, CommonJS's run.
    if (had) Object.assign(had, { kind, selfMs: self, failed, parent: had.parent ?? (parent === null ? null : shown(parent)) });
    else drafts.set(path, { pid, path, kind, parent: parent === null ? null : shown(parent), startTime: start, selfMs: self, totalMs: 0, loadMs: null, failed });
  }
  return withTotals([...drafts.values()]);
}

/** The largest of the sorted `values` below `t`, -Infinity if none. */
function lastBefore(values: readonly number[], t: number): number {
  let lo = 0;
  let hi = values.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (values[mid]! < t) lo = mid + 1;
    else hi = mid;
  }
  return lo > 0 ? values[lo - 1]! : -Infinity;
}

function milestones(m: unknown): m is NodeMilestones {
  if (!m || typeof m !== 'object') return false;
  const o = m as Record<string, unknown>;
  return isNum(o.timeOrigin) && ['nodeStart', 'v8Start', 'environment', 'bootstrapComplete', 'loopStart'].every((k) => o[k] === null || isNum(o[k]));
}

/** A file URL or path as the report shows it: relative inside the cwd, else absolute; `node:` names as they are. */
export function shownPath(name: string, cwd: string): string {
  let path = name;
  if (name.startsWith('file:')) {
    try {
      path = fileURLToPath(name);
    } catch {
      return name;
    }
  }
  if (!isAbsolute(path)) return path;
  const rel = relative(cwd, path);
  return rel === '' || rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel) ? path : rel;
}

/** totalMs = self + Σ children's totals, children being the modules each one loaded first (one process). */
function withTotals(modules: NodeModule[]): NodeModule[] {
  const children = new Map<string, NodeModule[]>();
  for (const m of modules) {
    if (m.parent === null || m.parent === m.path) continue;
    const list = children.get(m.parent);
    if (list) list.push(m);
    else children.set(m.parent, [m]);
  }
  const done = new Set<NodeModule>();
  const visiting = new Set<NodeModule>();
  // Iterative post-order: a deep dependency chain must not overflow the stack.
  for (const root of modules) {
    const stack: [NodeModule, boolean][] = [[root, false]];
    while (stack.length > 0) {
      const [m, expanded] = stack.pop()!;
      if (done.has(m)) continue;
      const kids = children.get(m.path) ?? [];
      if (expanded) {
        m.totalMs = m.selfMs + kids.reduce((sum, k) => sum + (done.has(k) ? k.totalMs : 0), 0);
        done.add(m);
        continue;
      }
      if (visiting.has(m)) continue; // a cycle in first-importer links: counted once
      visiting.add(m);
      stack.push([m, true]);
      for (const k of kids) if (!done.has(k) && !visiting.has(k)) stack.push([k, false]);
    }
  }
  return modules;
}
