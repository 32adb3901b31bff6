/**
 * The messages of a run (receiver.ts) into its NodeProfile: one record per module and process,
 * paths relative to the run's cwd, an ES module's hooks-thread resolve+load joined with its
 * main-thread evaluation, and each module's total = its self time + the totals of the modules it
 * loaded first (for CommonJS that equals the wall time of its require(), measured in the child).
 *
 * The lines come from the user's processes: anything that is not the shape the preload sends is
 * counted in `dropped` and left out, never trusted.
 */
import { isAbsolute, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { HookMessage, NodeListen, NodeMilestones, NodeModule, NodeModuleKind, NodeProcess, NodeProfile } from './types.js';

/** Modules kept per run; beyond it they are counted in `dropped`. */
export const MAX_MODULES = 20_000;

const FORMATS: Record<string, NodeModuleKind> = { module: 'esm', commonjs: 'commonjs', json: 'json', builtin: 'builtin', wasm: 'wasm', addon: 'addon' };
const KINDS = new Set<string>(Object.values(FORMATS));

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isStr = (v: unknown): v is string => typeof v === 'string';
const isPid = (v: unknown): v is number => Number.isInteger(v) && (v as number) > 0;

interface Draft {
  pid: number;
  path: string;
  kind: NodeModuleKind;
  parent: string | null;
  startTime: number;
  selfMs: number;
  failed: boolean;
}

export function buildProfile(messages: readonly HookMessage[], cwd: string, bad: number): NodeProfile {
  const processes = new Map<number, NodeProcess>();
  const drafts = new Map<string, Draft>();
  let dropped = bad;
  let listen: NodeListen | null = null;
  const shown = (name: string): string => shownPath(name, cwd);
  const draft = (pid: number, path: string, d: Omit<Draft, 'pid' | 'path'>): void => {
    const key = `${pid} ${path}`;
    const had = drafts.get(key);
    if (!had) return void drafts.set(key, { pid, path, ...d });
    // The same file seen by both loaders (an ES import of CommonJS): its times add up.
    had.selfMs += d.selfMs;
    had.failed ||= d.failed;
    had.startTime = Math.min(had.startTime, d.startTime);
    if (d.kind === 'commonjs') had.kind = 'commonjs';
    had.parent ??= d.parent;
  };
  for (const m of messages) {
    if (!m || typeof m !== 'object' || !isPid(m.pid)) {
      dropped++;
      continue;
    }
    if (m.k === 'hello' && isPid(m.ppid) && isStr(m.node)) processes.set(m.pid, { pid: m.pid, ppid: m.ppid, nodeVersion: m.node, milestones: processes.get(m.pid)?.milestones ?? null });
    else if (m.k === 'milestones' && milestones(m.m)) {
      const p = processes.get(m.pid) ?? { pid: m.pid, ppid: 0, nodeVersion: '', milestones: null };
      processes.set(m.pid, { ...p, milestones: m.m });
    } else if (m.k === 'cjs' && Array.isArray(m.l)) {
      for (const r of m.l) {
        if (!Array.isArray(r) || !KINDS.has(r[0]) || !isStr(r[1]) || !(r[2] === null || isStr(r[2])) || !isNum(r[3]) || !isNum(r[4])) dropped++;
        else draft(m.pid, shown(r[1]), { kind: r[0], parent: r[2] === null ? null : shown(r[2]), startTime: r[3], selfMs: r[4], failed: r[6] === 1 });
      }
    } else if (m.k === 'esm' && isStr(m.u) && isNum(m.t) && isNum(m.r) && isNum(m.ld) && (m.p === null || isStr(m.p))) {
      draft(m.pid, shown(m.u), { kind: FORMATS[m.f] ?? 'esm', parent: m.p === null ? null : shown(m.p), startTime: m.t, selfMs: m.r + m.ld, failed: false });
    } else if (m.k === 'eval' && Array.isArray(m.l)) {
      for (const r of m.l) {
        if (!Array.isArray(r) || !isStr(r[0]) || !isNum(r[1]) || !(r[2] === null || isNum(r[2]))) dropped++;
        else draft(m.pid, shown(r[0]), { kind: 'esm', parent: null, startTime: r[1], selfMs: r[2] ?? 0, failed: r[2] === null });
      }
    } else if (m.k === 'listen' && isNum(m.t) && (m.port === null || isNum(m.port)) && isStr(m.address)) {
      listen ??= { pid: m.pid, atMs: m.t, port: m.port, address: m.address, family: isStr(m.family) ? m.family : null };
    } else dropped++;
  }
  const all = [...drafts.values()].sort((a, b) => a.startTime - b.startTime);
  const kept = all.slice(0, MAX_MODULES);
  return { processes: [...processes.values()], modules: withTotals(kept), listen, dropped: dropped + all.length - kept.length };
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
  return rel === '' || rel.startsWith(`..${sep}`) || rel === '..' || isAbsolute(rel) ? path : rel;
}

/** total = self + Σ children's totals, children being the modules each one loaded first (per pid). */
function withTotals(drafts: Draft[]): NodeModule[] {
  const children = new Map<string, Draft[]>();
  for (const d of drafts) {
    if (d.parent === null) continue;
    const key = `${d.pid} ${d.parent}`;
    const list = children.get(key);
    if (list) list.push(d);
    else children.set(key, [d]);
  }
  const totals = new Map<Draft, number>();
  const visiting = new Set<Draft>();
  // Iterative post-order: a deep dependency chain must not overflow the stack.
  for (const root of drafts) {
    const stack: [Draft, boolean][] = [[root, false]];
    while (stack.length > 0) {
      const [d, expanded] = stack.pop()!;
      if (totals.has(d)) continue;
      const kids = (children.get(`${d.pid} ${d.path}`) ?? []).filter((k) => k !== d);
      if (!expanded) {
        if (visiting.has(d)) continue; // a cycle in first-importer links: its total is its own
        visiting.add(d);
        stack.push([d, true]);
        for (const k of kids) if (!totals.has(k) && !visiting.has(k)) stack.push([k, false]);
        continue;
      }
      totals.set(d, d.selfMs + kids.reduce((s, k) => s + (totals.get(k) ?? 0), 0));
    }
  }
  return drafts.map((d) => ({ pid: d.pid, path: d.path, kind: d.kind, parent: d.parent, startTime: d.startTime, selfMs: d.selfMs, totalMs: totals.get(d) ?? d.selfMs, failed: d.failed }));
}
