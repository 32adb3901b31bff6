/**
 * The preload `procprobe run` puts into every Node process of the run (NODE_OPTIONS
 * `--require`, see receiver.ts for why not `--import`). On the main thread only (workers and the
 * ESM hooks thread load it too, and return at once), it reports over channel.cts:
 *
 * - performance.nodeTiming's milestones, at the first turn of the event loop (or at exit);
 * - CommonJS loads, by wrapping Module.prototype.load (called once per module actually loaded,
 *   never for a cache hit): self and total time with a stack of the loads in progress;
 * - ESM resolves and loads, by module.register hooks (esm-hooks.ts) on the hooks thread, and
 *   ESM evaluations, by two calls the load hook puts around each module's source;
 * - the first server listen() that succeeds: port, address, instant.
 *
 * It writes nothing to stdout/stderr, and any failure of its own leaves the process as it was.
 * Dependency-free on purpose: it runs inside the user's process, whatever Node version that is.
 */
import { isMainThread } from 'node:worker_threads';
import { now, send } from './channel.cjs';

type Row = ['commonjs' | 'json' | 'addon', string, string | null, number, number, number, number];

const pending: Row[] = [];
const evals: [string, number, number | null][] = [];
const pid = process.pid;
/** Total ms of CommonJS loads started outside any other CommonJS load (subtracted from ESM bodies). */
let topLevelCjsMs = 0;
/** ES module bodies running: [url, start, topLevelCjsMs at start]. Only require(esm) nests them. */
const evaluating: [string, number, number][] = [];

/** Buffered module rows out in one or a few lines (at loop start, listen, exit, and every 100 ms). */
function flush(): void {
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
  start: number;
  /** Total time of the loads nested directly inside this one. */
  children: number;
  file: string;
}

/** CommonJS: self = total − the direct children's totals; the stack holds the loads in progress. */
function hookCommonJs(): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const Module = require('node:module') as { prototype: { load(this: { filename?: string }, filename: string): void } };
  const original = Module.prototype.load;
  const stack: Frame[] = [];
  // One frame per nesting level shows in the stack of an error thrown through require() (README).
  Module.prototype.load = function load(filename: string): void {
    const parent = stack.length > 0 ? stack[stack.length - 1]! : null;
    const frame: Frame = { start: now(), children: 0, file: filename };
    stack.push(frame);
    let failed = 1;
    try {
      original.call(this, filename);
      failed = 0;
    } finally {
      stack.pop();
      const total = now() - frame.start;
      if (parent) parent.children += total;
      else topLevelCjsMs += total; // inside an ES module's body (createRequire), or an entry
      const kind = filename.endsWith('.json') ? 'json' : filename.endsWith('.node') ? 'addon' : 'commonjs';
      const importer = parent?.file ?? evaluating[evaluating.length - 1]?.[0] ?? null;
      pending.push([kind, filename, importer, frame.start, total - frame.children, total, failed]);
      if (failed) flush(); // the process may be about to die of it
    }
  };
}

/** ESM: the hooks run on their own thread; the evaluation calls land here (esm-hooks.ts injects them). */
function hookEsm(): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mod = require('node:module') as { register?: (specifier: string, parentURL: string, options?: object) => void };
  if (typeof mod.register !== 'function') return; // Node < 20.6: CommonJS only
  (globalThis as Record<symbol, unknown>)[Symbol.for('procprobe.esm')] = (phase: number, url: string): void => {
    if (phase === 0) return void evaluating.push([url, now(), topLevelCjsMs]);
    const i = evaluating.findLastIndex((e) => e[0] === url);
    if (i < 0) return;
    const [, t, cjsBefore] = evaluating[i]!;
    evaluating.splice(i, 1);
    // Its own time: what it required through createRequire is those modules' time.
    evals.push([url, t, now() - t - (topLevelCjsMs - cjsBefore)]);
  };
  // A body that threw never reached its end call: reported without a time.
  process.once('exit', () => {
    for (const [url, t] of evaluating.splice(0)) evals.push([url, t, null]);
  });
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  mod.register('./esm-hooks.js', (require('node:url') as typeof import('node:url')).pathToFileURL(__filename).href);
}

/** The first 'listening' of any net.Server (http, https, net): the socket accepts from then on. */
function hookListen(): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const net = require('node:net') as typeof import('node:net');
  const original = net.Server.prototype.listen;
  let reported = false;
  net.Server.prototype.listen = function listen(this: import('node:net').Server, ...args: unknown[]) {
    if (!reported) {
      this.once('listening', () => {
        if (reported) return;
        reported = true;
        const a = this.address();
        const tcp = a !== null && typeof a === 'object';
        sendMilestones();
        flush();
        send({ k: 'listen', pid, t: now(), port: tcp ? a.port : null, address: tcp ? a.address : String(a), family: tcp ? a.family : null });
      });
    }
    return (original as (...a: unknown[]) => import('node:net').Server).apply(this, args);
  } as typeof original;
}

function main(): void {
  if (!isMainThread || !process.env.PROCPROBE_NODE_HOOKS) return;
  send({ k: 'hello', pid, ppid: process.ppid, node: process.version });
  hookCommonJs();
  hookEsm();
  hookListen();
  // The first turn of the loop: loopStart is set. Unref'd, like the timer: they never keep it alive.
  setImmediate(() => {
    sendMilestones();
    flush();
  }).unref();
  setInterval(flush, 100).unref();
  process.once('exit', () => {
    sendMilestones();
    flush();
  });
}

try {
  main();
} catch {
  // Never the user's problem: without the hooks the process runs as it would.
}
