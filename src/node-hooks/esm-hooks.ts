/**
 * module.register hooks (loaded by preload.cts), on Node's hooks thread: each module's resolve and
 * load timed there and reported at once (the thread has no exit of its own to flush at), and a
 * module's source wrapped in two calls that time its evaluation on the main thread.
 *
 * Timing: the main thread waits for these hooks, so their wall time is the module's resolve and
 * read time; the clock is performance.timeOrigin + performance.now(), which this thread shares
 * with the main thread up to a few µs (both origins are taken from the same process clock).
 *
 * The evaluation calls: `globalThis[Symbol.for('procprobe.esm')]?.(0, url);` is put before the
 * first line (after a `#!` line), on the same line, so line numbers (stack traces, source maps)
 * are unchanged; only columns of line 1 shift. Imports are hoisted, so it runs when the body
 * starts, after every dependency evaluated; the closing call is appended on a line of its own. A
 * body with top-level await includes its waiting; one that throws never reaches the closing call.
 */
import { now, send } from './channel.cjs';

const pid = process.pid;
const parents = new Map<string, { parent: string | null; start: number; ms: number }>();

interface ResolveContext {
  parentURL?: string;
}
interface LoadResult {
  format?: string | null;
  source?: string | ArrayBuffer | ArrayBufferView | null;
  shortCircuit?: boolean;
}
type NextResolve = (specifier: string, context: ResolveContext) => Promise<{ url: string }>;
type NextLoad = (url: string, context: object) => Promise<LoadResult>;

export async function resolve(specifier: string, context: ResolveContext, next: NextResolve): Promise<{ url: string }> {
  const start = now();
  const r = await next(specifier, context);
  // The first resolve of a URL is the one that loads it: its importer is its parent.
  if (!parents.has(r.url)) parents.set(r.url, { parent: context.parentURL ?? null, start, ms: now() - start });
  return r;
}

export async function load(url: string, context: object, next: NextLoad): Promise<LoadResult> {
  const start = now();
  const r = await next(url, context);
  const ms = now() - start;
  const first = parents.get(url);
  if (first && first.ms >= 0) {
    send({ k: 'esm', pid, u: url, p: first.parent, f: String(r.format ?? ''), t: first.start, r: first.ms, ld: ms });
    first.ms = -1; // reported: a second load of the same URL (another loader) is not a second module
  }
  if (r.format !== 'module' || r.source === null || r.source === undefined) return r;
  return { ...r, source: wrap(url, r.source) };
}

const decoder = new TextDecoder();

function wrap(url: string, source: string | ArrayBuffer | ArrayBufferView): string {
  const text = typeof source === 'string' ? source : decoder.decode(source as ArrayBuffer);
  const call = (phase: number): string => `globalThis[Symbol.for('procprobe.esm')]?.(${phase},${JSON.stringify(url)});`;
  const bang = text.startsWith('#!') ? text.indexOf('\n') + 1 : 0;
  if (bang === 0 && text.startsWith('#!')) return text; // a lone '#!' line: nothing to time
  return `${text.slice(0, bang)}${call(0)}${text.slice(bang)}\n${call(1)}\n`;
}
