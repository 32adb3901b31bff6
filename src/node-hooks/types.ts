/**
 * What the preload sends (one JSON line per message, see channel.cts) and what procprobe keeps of
 * it in a session (`SessionSummary.node`). Plain data, no imports: the preload side is a leaf.
 * Instants are ms since the epoch on each process's `performance.timeOrigin + performance.now()`
 * clock, the one procprobe's own phases use.
 */

/** The kinds of module a Node process loads. */
export type NodeModuleKind = 'esm' | 'commonjs' | 'builtin' | 'json' | 'addon' | 'wasm';

/** performance.nodeTiming of one Node process, as instants (null: not reached when it reported). */
export interface NodeMilestones {
  timeOrigin: number;
  nodeStart: number | null;
  v8Start: number | null;
  environment: number | null;
  bootstrapComplete: number | null;
  loopStart: number | null;
}

/** One Node process of the run's tree that loaded the preload. */
export interface NodeProcess {
  pid: number;
  ppid: number;
  nodeVersion: string;
  milestones: NodeMilestones | null;
}

/** One module loaded during the run. */
export interface NodeModule {
  pid: number;
  /** Relative to the run's cwd (a `node:` name for a builtin; absolute when outside the cwd's tree is shorter). */
  path: string;
  kind: NodeModuleKind;
  /** The module that loaded it first (same form as `path`), null for an entry point. */
  parent: string | null;
  /** When its loading started (ms since epoch). */
  startTime: number;
  /**
   * Time in this module alone, its dependencies excluded: CommonJS, JSON, addons: read, compile
   * and run (require() is serial); ES modules: the evaluation of its body (README: how exact).
   */
  selfMs: number;
  /** selfMs plus the totals of the modules it loaded first. */
  totalMs: number;
  /**
   * ES modules: resolve + load on the hooks thread (reading the source). Not part of selfMs: the
   * loader reads a graph's modules concurrently, so these overlap. null for CommonJS (inside selfMs).
   */
  loadMs: number | null;
  /** It never finished loading: it threw, or a module it depends on did (its process died of the exception). */
  failed: boolean;
}

/** The first server listen() that succeeded in the tree. */
export interface NodeListen {
  pid: number;
  /** Listening by this instant (ms since epoch): the bind+listen call had returned. */
  atMs: number;
  /** Not listening before this instant: just before that call. */
  bindStartMs: number;
  /** null for a unix socket or named pipe. */
  port: number | null;
  address: string;
  family: string | null;
}

/** One GC pause of a Node process's main thread (perf_hooks 'gc' entries). */
export interface NodeGc {
  pid: number;
  /** 'major', 'minor', 'incremental', 'weakcb' (or 'other'). */
  kind: string;
  startTime: number;
  durationMs: number;
}

/** A process's event-loop utilisation since its loop started, as of `atMs` (`at`: when it was read). */
export interface NodeLoop {
  pid: number;
  at: 'listen' | 'exit';
  atMs: number;
  idleMs: number;
  activeMs: number;
}

/** What a run learnt from inside its Node processes. */
export interface NodeProfile {
  processes: NodeProcess[];
  modules: NodeModule[];
  listen: NodeListen | null;
  /** GC pauses of every process, the first MAX_GC kept. */
  gc: NodeGc[];
  /** Event-loop utilisation readings (at the listen, at exit). */
  loop: NodeLoop[];
  /** Modules over the bound (MAX_MODULES) and lines that did not parse: counted, not kept. */
  dropped: number;
}

/** Messages on the channel, each tagged with the sender's pid (several processes share one). */
export type HookMessage =
  | { k: 'hello'; pid: number; ppid: number; node: string }
  | { k: 'milestones'; pid: number; m: NodeMilestones }
  /** CommonJS loads: [kind, absolute path, parent path | null, start, selfMs, totalMs, failed 0/1]. */
  | { k: 'cjs'; pid: number; l: [NodeModuleKind, string, string | null, number, number, number, number][] }
  /** ES module bodies that finished, on the main thread: [url, instant]. */
  | { k: 'eval'; pid: number; l: [string, number][] }
  /** One ESM resolve + load on the hooks thread: resolve start t, resolve ms r, load ms ld, load end e. */
  | { k: 'esm'; pid: number; u: string; p: string | null; f: string; t: number; r: number; ld: number; e: number }
  /** GC pauses: [kind, start, ms]. */
  | { k: 'gc'; pid: number; l: [string, number, number][] }
  | { k: 'loop'; pid: number; at: string; t: number; idleMs: number; activeMs: number }
  /** At exit: whether an uncaught exception ends the process. */
  | { k: 'exit'; pid: number; uncaught: boolean }
  | { k: 'listen'; pid: number; t: number; b: number; port: number | null; address: string; family: string | null };
