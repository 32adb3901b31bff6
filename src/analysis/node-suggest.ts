/**
 * Suggestions from inside a Node startup (issue 14 item 5): what the preload saw of the latest
 * session that has a node profile (session.node), against that session's startup. Each rule fires
 * only on its evidence, reported in numbers; thresholds are the exported constants. Only what
 * happened before the startup ended counts (a module a server loads on its first request is not
 * startup).
 */
import type { NodeModule, NodeProfile } from '../node-hooks/types.js';
import { TOTAL_STARTUP, totalStartupMs, type SessionSummary } from '../session/types.js';
import { childrenOf, moduleKey, packageOf, packageTimes, treeSizes } from './node-modules.js';
import type { Suggestion } from './types.js';

/** A package or one module of the app's own: at least 20 ms of self time... */
export const SLOW_LOAD_MIN_MS = 20;
/** ...and at least 10 % of the startup: below that, loading it later saves little. */
export const SLOW_LOAD_SHARE = 0.1;
/** A synchronous require() whose tree holds at least 20 modules... */
export const BIG_TREE_MIN_MODULES = 20;
/** ...and takes at least 50 ms and 10 % of the startup (SLOW_LOAD_SHARE). */
export const BIG_TREE_MIN_MS = 50;
/** A child tree that holds 80 % of its parent's time is the one to name, not the parent. */
const TREE_CULPRIT_SHARE = 0.8;
/** GC during startup: a pause of 10 ms (one dropped frame budget of a server's first requests)... */
export const GC_PAUSE_MIN_MS = 10;
/** ...or pauses summing to 20 ms. */
export const GC_SUM_MIN_MS = 20;
/** The loop busy this long between its start and the first listen() (Node's own accounting). */
export const LOOP_BUSY_MIN_MS = 50;
/**
 * A user-controlled bootstrap step (slowBootstrap) of 100 ms and 10 % of the startup
 * (SLOW_LOAD_SHARE): node:bootstrap holds Node's own pre-execution and procprobe's preload too,
 * 10-40 ms on a quiet machine and 95 ms measured at load 11.
 */
export const BOOTSTRAP_STEP_MIN_MS = 100;
/** At most this many suggestions per rule (the slowest first). */
const TOP = 3;

type Add = (weight: number, s: Suggestion) => void;

const r1 = (x: number): number => Math.round(x * 10) / 10;
const ms = (x: number): string => `${Math.round(x)} ms`;
const pct = (x: number): string => `${Math.round(x * 100)} %`;

/** The startup's span (ms since epoch): its total_startup phase, else the session's whole span. */
function startupSpan(s: SessionSummary): { from: number; to: number; ms: number } {
  const total = s.phases.find((p) => p.name === TOTAL_STARTUP);
  const from = s.startTime + (total?.startOffsetMs ?? 0);
  const dur = totalStartupMs(s);
  return { from, to: from + dur, ms: dur };
}

/** The Node suggestions of the latest session in `sessions` with a node profile. */
export function nodeSuggestions(sessions: readonly SessionSummary[], add: Add): void {
  let s: SessionSummary | undefined;
  for (const x of sessions) if (x.node && (!s || x.startTime >= s.startTime)) s = x;
  if (!s?.node) return;
  const span = startupSpan(s);
  if (!(span.ms > 0)) return;
  const node: NodeProfile = s.node;
  const modules = node.modules.filter((m) => m.startTime < span.to);
  slowLoads(modules, span.ms, s.id, add);
  bigTrees(modules, span.ms, s.id, add);
  startupGc(node, span, s.id, add);
  loopBeforeListen(node, s.id, add);
  slowBootstrap(s, span.ms, add);
}

/** slow_package (a node_modules package) and slow_module (one of the app's own modules). */
function slowLoads(modules: readonly NodeModule[], startupMs: number, sessionId: string, add: Add): void {
  const big = (selfMs: number): boolean => selfMs >= SLOW_LOAD_MIN_MS && selfMs >= SLOW_LOAD_SHARE * startupMs;
  for (const p of packageTimes(modules).filter((x) => big(x.selfMs)).slice(0, TOP)) {
    const inSlowest = p.slowest.selfMs / p.selfMs;
    add(p.selfMs, {
      kind: 'slow_package',
      message: `'${p.name}' takes ${ms(p.selfMs)} of the ${ms(startupMs)} startup to load (${pct(p.selfMs / startupMs)}, ${p.modules} module${p.modules > 1 ? 's' : ''}), ${pct(inSlowest)} of it in '${p.slowest.path}': import only what you use, or load it on first use (import() or a require() inside the function that needs it).`,
      evidence: { package: p.name, packageSelfMs: p.selfMs, modules: p.modules, startupMs, sharePercent: (100 * p.selfMs) / startupMs, slowestModule: p.slowest.path, slowestSelfMs: p.slowest.selfMs, sessionId },
    });
  }
  const own = modules.filter((m) => packageOf(m.path) === null && m.kind !== 'builtin' && big(m.selfMs));
  for (const m of own.sort((a, b) => b.selfMs - a.selfMs).slice(0, TOP)) {
    add(m.selfMs, {
      kind: 'slow_module',
      message: `'${m.path}' spends ${ms(m.selfMs)} of the ${ms(startupMs)} startup (${pct(m.selfMs / startupMs)}) in its own top-level code, its imports excluded: move that work out of load time (into a function called when it is needed, or after listen()).`,
      evidence: { module: m.path, kind: m.kind, selfMs: m.selfMs, totalMs: m.totalMs, startupMs, sharePercent: (100 * m.selfMs) / startupMs, pid: m.pid, sessionId },
    });
  }
}

/**
 * sync_require_tree: a CommonJS require() (synchronous: nothing else runs meanwhile) that pulled
 * in a big tree of modules. The entry itself is not one (it cannot be loaded later). Of a chain of
 * such trees the deepest that still holds 80 % of its parent's time is named: it is the lever.
 */
function bigTrees(modules: readonly NodeModule[], startupMs: number, sessionId: string, add: Add): void {
  const children = childrenOf(modules);
  const sizes = treeSizes(modules, children);
  const isTree = (m: NodeModule): boolean =>
    m.parent !== null && (m.kind === 'commonjs' || m.kind === 'json') && (sizes.get(moduleKey(m)) ?? 0) >= BIG_TREE_MIN_MODULES && m.totalMs >= BIG_TREE_MIN_MS && m.totalMs >= SLOW_LOAD_SHARE * startupMs;
  const trees = new Set(modules.filter(isTree));
  // Descend: a tree with a child tree holding most of its time gives way to that child.
  for (const t of [...trees]) if ((children.get(moduleKey(t)) ?? []).some((c) => trees.has(c) && c.totalMs >= TREE_CULPRIT_SHARE * t.totalMs)) trees.delete(t);
  // Of what is left, a tree inside another kept one is part of it.
  const byKey = new Map(modules.map((x) => [moduleKey(x), x]));
  const kept = [...trees].filter((t) => !ancestors(t, byKey).some((a) => trees.has(a)));
  for (const t of kept.sort((a, b) => b.totalMs - a.totalMs).slice(0, TOP)) {
    const n = sizes.get(moduleKey(t))!;
    add(t.totalMs, {
      kind: 'sync_require_tree',
      message: `require('${t.path}') from '${t.parent}' loads ${n} modules synchronously in ${ms(t.totalMs)} (${pct(t.totalMs / startupMs)} of the ${ms(startupMs)} startup), and nothing else runs meanwhile: require it where it is first used, or load it with import() once the process is ready.`,
      evidence: { module: t.path, parent: t.parent!, modules: n, totalMs: t.totalMs, startupMs, sharePercent: (100 * t.totalMs) / startupMs, pid: t.pid, sessionId },
    });
  }
}

/** The first-importer chain above `m` (same process), nearest first; a cycle ends it. */
function ancestors(m: NodeModule, byKey: ReadonlyMap<string, NodeModule>): NodeModule[] {
  const out: NodeModule[] = [];
  const seen = new Set<NodeModule>([m]);
  for (let p = m.parent === null ? undefined : byKey.get(moduleKey({ pid: m.pid, path: m.parent })); p && !seen.has(p); p = p.parent === null ? undefined : byKey.get(moduleKey({ pid: p.pid, path: p.parent }))) {
    seen.add(p);
    out.push(p);
  }
  return out;
}

/** startup_gc: GC pauses of the startup's Node processes, before it ended. */
function startupGc(node: NodeProfile, span: { to: number; ms: number }, sessionId: string, add: Add): void {
  const pauses = node.gc.filter((g) => g.startTime < span.to);
  if (pauses.length === 0) return;
  const longest = pauses.reduce((a, b) => (b.durationMs > a.durationMs ? b : a));
  const sum = pauses.reduce((t, g) => t + g.durationMs, 0);
  if (longest.durationMs < GC_PAUSE_MIN_MS && sum < GC_SUM_MIN_MS) return;
  const minors = pauses.filter((g) => g.kind === 'minor').reduce((t, g) => t + g.durationMs, 0);
  const lever = minors > sum / 2
    ? 'most of it in minor GCs: fewer short-lived allocations at load, or a larger young generation (--max-semi-space-size=16 or more)'
    : 'allocate less up front (large arrays, caches, parsed data built at load): build them on demand, or stream them';
  add(sum, {
    kind: 'startup_gc',
    message: `A ${ms(longest.durationMs)} ${longest.kind} GC pause during startup (${pauses.length} pause${pauses.length > 1 ? 's' : ''}, ${ms(sum)} in all, ${pct(sum / span.ms)} of the ${ms(span.ms)} startup): ${lever}.`,
    evidence: { pauses: pauses.length, gcMs: sum, longestMs: longest.durationMs, longestKind: longest.kind, minorMs: minors, startupMs: span.ms, pid: longest.pid, sessionId },
  });
}

/** loop_blocked_before_listen: the event loop busy between its start and the first listen(). */
function loopBeforeListen(node: NodeProfile, sessionId: string, add: Add): void {
  // Read just after the listen() returned (preload.cts): it ends the startup, so it is never inside the span.
  const at = node.listen && node.loop.find((l) => l.at === 'listen' && l.pid === node.listen!.pid);
  if (!at || at.activeMs < LOOP_BUSY_MIN_MS) return;
  const util = at.activeMs / (at.activeMs + at.idleMs);
  add(at.activeMs, {
    kind: 'loop_blocked_before_listen',
    message: `The event loop was busy ${ms(at.activeMs)} of the ${ms(at.activeMs + at.idleMs)} between its start and listen() (${r1(util * 100)} % utilisation): synchronous work in callbacks before the server listens. Listen first and warm up after, or move the work to a worker thread.`,
    evidence: { busyMs: at.activeMs, idleMs: at.idleMs, utilisationPercent: 100 * util, pid: at.pid, sessionId },
  });
}

/**
 * slow_node_bootstrap: the two bootstrap steps the user controls, each on its own: before Node
 * runs (node:process_init: wrappers exec()ing node) and the preloads (node:bootstrap). V8's and
 * Node's own setup between them (node:v8_start, node:environment) is the same for any app (80 ms
 * measured for a bare `node -e 0` on a slow VM), nothing to act on.
 */
function slowBootstrap(s: SessionSummary, startupMs: number, add: Add): void {
  const why: Record<string, string> = {
    'node:process_init': 'before Node itself runs: a wrapper or shim (nvm, npx, a shell script) that exec()s node; run node directly',
    'node:bootstrap': "the preloads of NODE_OPTIONS (--require, --import) run here, before the entry, beside Node's own pre-execution (10-40 ms): drop the ones production does not need, or load them lazily",
  };
  for (const p of s.phases) {
    if (!(p.name in why) || !p.success || p.durationMs < BOOTSTRAP_STEP_MIN_MS || p.durationMs < SLOW_LOAD_SHARE * startupMs) continue;
    add(p.durationMs, {
      kind: 'slow_node_bootstrap',
      phase: p.name,
      message: `'${p.name}' took ${ms(p.durationMs)} (${pct(p.durationMs / startupMs)} of the ${ms(startupMs)} startup): ${why[p.name]}.`,
      evidence: { stepMs: p.durationMs, startupMs, sharePercent: (100 * p.durationMs) / startupMs, sessionId: s.id },
    });
  }
}
