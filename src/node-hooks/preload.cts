/**
 * The preload `procprobe run` puts into every Node process of the run (NODE_OPTIONS
 * `--require`, see receiver.ts for why not `--import`). On the main thread only (workers and the
 * ESM hooks thread load it too, and return at once), it reports over channel.cts:
 *
 * - performance.nodeTiming's milestones, at the first turn of the event loop (and at exit);
 * - CommonJS loads, seen through require.cache (below): self and total time with a stack;
 * - with `--node-esm-hooks` (PROCPROBE_NODE_ESM_HOOKS=1), ESM resolves and loads, by
 *   module.register hooks (esm-hooks.ts) on the hooks thread, and the instant each ES module's
 *   body finished, by a call the load hook appends to its source;
 * - the first server socket to listen: port, address, instant;
 * - GC pauses, and the event loop's utilisation at that listen and at exit.
 *
 * It writes nothing to stdout/stderr, and any failure of its own leaves the process as it was.
 * Dependency-free on purpose: it runs inside the user's process, whatever Node version that is.
 */
import { now, send } from './channel.cjs';

type Row = ['commonjs' | 'json' | 'addon', string, string | null, number, number, number, number];

const pending: Row[] = [];
const evals: [string, number][] = [];
const pid = process.pid;

const gcs: [string, number, number][] = [];
/** Entries the GC observer holds but has not delivered yet (its callback runs on the loop). */
let takeGc = (): void => undefined;

/** Buffered rows out in one or a few lines (at loop start, listen, exit, and every 100 ms). */
function flush(): void {
  takeGc();
  if (gcs.length > 0) send({ k: 'gc', pid, l: gcs.splice(0) });
  if (pending.length > 0) send({ k: 'cjs', pid, l: pending.splice(0) });
  if (evals.length > 0) send({ k: 'eval', pid, l: evals.splice(0) });
}

let milestonesSent = false;
/** Sent again once loopStart is known: a listen() during the entry's run reports before the loop starts. */
function sendMilestones(): void {
  if (milestonesSent) return;
  const t = performance.nodeTiming;
  milestonesSent = t.loopStart > 0;
  // nodeTiming is in ms since timeOrigin, -1 (or 0 for loopStart) for a milestone not reached.
  const at = (v: number): number | null => (v > 0 ? performance.timeOrigin + v : null);
  const m = { timeOrigin: performance.timeOrigin, nodeStart: at(t.nodeStart), v8Start: at(t.v8Start), environment: at(t.environment), bootstrapComplete: at(t.bootstrapComplete), loopStart: at(t.loopStart) };
  send({ k: 'milestones', pid, m });
}

interface Frame {
  file: string;
  start: number;
  /** Total time of the loads nested directly inside this one. */
  children: number;
}

interface CjsModule {
  loaded: boolean;
}

/**
 * CommonJS without a wrapper around any loader function: a wrapper's frame would show in the stack
 * of every error thrown through require() (and push real frames past Error.stackTraceLimit).
 * Module._load puts a new module into Module._cache just before loading it, sets its `loaded`
 * when done, and deletes the cache entry when loading threw (lib/internal/modules/cjs/loader.js).
 * So a Proxy over the cache sees a load start, an accessor on the new module's `loaded` its end,
 * and the delete its failure; none of them is on the stack while the module's code runs.
 */
function hookCommonJs(): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const Module = require('node:module') as unknown as { _cache: Record<string, CjsModule> };
  const stack: Frame[] = [];
  const end = (frame: Frame, failed: number): void => {
    const i = stack.lastIndexOf(frame);
    if (i < 0) return;
    stack.length = i; // frames above it (a load that never ended) close with it
    const total = now() - frame.start;
    const parent = stack[i - 1];
    if (parent) parent.children += total;
    const f = frame.file;
    const kind = f.endsWith('.json') ? 'json' : f.endsWith('.node') ? 'addon' : 'commonjs';
    pending.push([kind, f, parent?.file ?? null, frame.start, total - frame.children, total, failed]);
    if (failed) flush(); // the process may be about to die of it
  };
  const frames = new WeakMap<object, Frame>();
  Module._cache = new Proxy(Module._cache, {
    set(target, key, value: CjsModule) {
      target[key as string] = value;
      if (typeof key === 'string' && value && typeof value === 'object' && value.loaded === false && !frames.has(value)) {
        const frame: Frame = { file: key, start: now(), children: 0 };
        frames.set(value, frame);
        stack.push(frame);
        let loaded = false;
        Object.defineProperty(value, 'loaded', {
          configurable: true,
          enumerable: true,
          get: () => loaded,
          set(v: boolean) {
            loaded = v;
            if (!v) return;
            // Back to a plain property: nothing of ours stays on the module.
            Object.defineProperty(value, 'loaded', { value: v, writable: true, configurable: true, enumerable: true });
            end(frame, 0);
          },
        });
      }
      return true;
    },
    deleteProperty(target, key) {
      const m = target[key as string];
      const frame = m && frames.get(m);
      if (frame && !m.loaded) end(frame, 1);
      return delete target[key as string];
    },
  });
}

/**
 * Is the entry point CommonJS (Node's own rule: .cjs, or .js / no extension under a nearest
 * package.json without "type": "module")? Unknown cases (.ts, no readable package.json) are not.
 */
function entryIsCommonJs(): boolean {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const fs = require('node:fs') as typeof import('node:fs');
  const path = require('node:path') as typeof import('node:path');
  /* eslint-enable @typescript-eslint/no-require-imports */
  const entry = process.argv[1];
  if (!entry) return true; // -e, -p, the REPL
  let file: string;
  try {
    file = fs.realpathSync(entry); // a bin symlink names its package's file
  } catch {
    return false;
  }
  if (file.endsWith('.cjs')) return true;
  if (!/\.js$|\/[^./]+$/.test(file)) return false; // .mjs, .ts, ...
  for (let dir = path.dirname(file); ; dir = path.dirname(dir)) {
    try {
      return (JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { type?: unknown }).type !== 'module';
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') return false;
    }
    if (path.dirname(dir) === dir) return true;
  }
}

/**
 * ESM: the hooks run on their own thread; each body's end lands here (esm-hooks.ts appends the
 * call). That thread is a whole Node environment (~50 ms of CPU measured, README): it is started
 * only when the entry point is not CommonJS, so an `import()` from a CommonJS entry is not timed.
 */
function hookEsm(): void {
  // Opt-in (`--node-esm-hooks`, receiver.ts): the hooks thread doubles a 300-module ES startup.
  if (process.env.PROCPROBE_NODE_ESM_HOOKS !== '1') return;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mod = require('node:module') as { register?: (specifier: string, parentURL: string) => void };
  if (typeof mod.register !== 'function' || entryIsCommonJs()) return; // Node < 20.6: CommonJS only
  (globalThis as Record<symbol, unknown>)[Symbol.for('procprobe.esm')] = (url: string): void => void evals.push([url, now()]);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  mod.register('./esm-hooks.js', (require('node:url') as typeof import('node:url')).pathToFileURL(__filename).href);
}

/**
 * The first server socket of any net.Server (http, https, net) to listen. Without a wrapper (its
 * frame would show in the stack of every listen error): Server.prototype._listen2 becomes an
 * accessor, and listenInCluster (lib/net.js) reads it just before the bind+listen it performs.
 * The getter notes that instant, puts the plain property back (V8 names the frame
 * `setupListenHandle [as _listen2]` from it when an error's stack is printed) and queues a tick,
 * which runs once that call returned and before Node's own 'listening' or 'error' tick. A listen
 * that failed re-arms the accessor after those ticks. Cluster workers listen through the primary
 * and are not seen.
 */
function hookListen(): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const proto = (require('node:net') as typeof import('node:net')).Server.prototype;
  const plain = Object.getOwnPropertyDescriptor(proto, '_listen2');
  if (typeof plain?.value !== 'function') return;
  const report = (server: import('node:net').Server, bindStartMs: number): void => {
    if (!server.listening) return void setImmediate(arm);
    const t = now();
    const a = server.address();
    const tcp = a !== null && typeof a === 'object';
    sendMilestones();
    flush();
    sendLoop('listen');
    send({ k: 'listen', pid, t, b: bindStartMs, port: tcp ? a.port : null, address: tcp ? a.address : String(a), family: tcp ? a.family : null });
  };
  function arm(): void {
    Object.defineProperty(proto, '_listen2', {
      configurable: true,
      get(this: import('node:net').Server) {
        const bindStartMs = now();
        Object.defineProperty(proto, '_listen2', plain!);
        process.nextTick(() => report(this, bindStartMs));
        return plain!.value;
      },
      set(this: object, v: unknown) {
        Object.defineProperty(this, '_listen2', { value: v, writable: true, configurable: true, enumerable: true });
      },
    });
  }
  arm();
}

/**
 * GC pauses (perf_hooks 'gc' entries: kind, start, duration), and the event loop's utilisation
 * when the process listens or exits. Entries of a GC during the synchronous startup are only
 * delivered once the loop runs: takeRecords() collects them at every flush, exit included.
 */
function hookGc(): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { PerformanceObserver, constants: c } = require('node:perf_hooks') as typeof import('node:perf_hooks');
  const kinds: Record<number, string> = { [c.NODE_PERFORMANCE_GC_MAJOR]: 'major', [c.NODE_PERFORMANCE_GC_MINOR]: 'minor', [c.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental', [c.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb' };
  const add = (entries: readonly import('node:perf_hooks').PerformanceEntry[]): void => {
    for (const e of entries) {
      const kind = ((e as { detail?: { kind?: number } }).detail ?? (e as { kind?: number })).kind; // Node < 16: e.kind
      gcs.push([kinds[kind ?? -1] ?? 'other', performance.timeOrigin + e.startTime, e.duration]);
    }
  };
  const observer = new PerformanceObserver((list) => add(list.getEntries()));
  observer.observe({ entryTypes: ['gc'] });
  takeGc = () => add(observer.takeRecords());
}

/** The main thread's event-loop utilisation since the loop started (Node's own accounting). */
function sendLoop(at: string): void {
  const u = performance.eventLoopUtilization();
  send({ k: 'loop', pid, at, t: now(), idleMs: u.idle, activeMs: u.active });
}

/**
 * Is this the main thread, without loading node:worker_threads (2.5 ms of a bare start, measured)?
 * A worker's bootstrap loads that module before any user code or preload runs, so when the list of
 * loaded builtins does not have it, this is the main thread. Where the list is missing (another
 * runtime), or has it (the main thread loaded it, or a worker), the module itself says.
 */
function onMainThread(): boolean {
  const loaded = (process as { moduleLoadList?: unknown }).moduleLoadList;
  if (Array.isArray(loaded) && !loaded.includes('NativeModule worker_threads')) return true;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require('node:worker_threads') as typeof import('node:worker_threads')).isMainThread;
}

function main(): void {
  if (!process.env.PROCPROBE_NODE_HOOKS || !onMainThread()) return;
  send({ k: 'hello', pid, ppid: process.ppid, node: process.version });
  hookCommonJs();
  hookEsm();
  hookListen();
  hookGc();
  // The first turn of the loop: loopStart is set. Unref'd, like the timer: they never keep it alive.
  setImmediate(() => {
    sendMilestones();
    flush();
  }).unref();
  setInterval(flush, 100).unref();
  // A monitor only observes: the exception still ends the process as it would have.
  let uncaught = false;
  process.on('uncaughtExceptionMonitor', () => (uncaught = true));
  process.once('exit', () => {
    sendMilestones();
    flush();
    sendLoop('exit');
    send({ k: 'exit', pid, uncaught });
  });
}

try {
  main();
} catch {
  // Never the user's problem: without the hooks the process runs as it would.
}
