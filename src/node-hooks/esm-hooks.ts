/**
 * module.register hooks (loaded by preload.cts), on Node's hooks thread: each module's resolve and
 * load timed there and reported at once (the thread has no exit of its own to flush at), and a
 * call appended to each ES module's source that marks the end of its evaluation on the main thread.
 *
 * Timing: each hook's wall time is that module's resolve and read time, overlapping other
 * modules' (the loader asks for a graph's modules concurrently), on performance.timeOrigin +
 * performance.now(), the main thread's clock too (one process clock, one origin).
 *
 * The evaluation's end: `;globalThis[Symbol.for('procprobe.esm')]?.(url);` is appended on a
 * line of its own, so lines and columns (stack traces, source maps, the source line Node prints
 * with an uncaught error) are unchanged. Nothing is put at the start: a prefix would shift every
 * column of a one-line bundle. The body's start is taken as the previous main-thread event (an ES
 * body's end, or the last load of its graph: a graph evaluates once every module is loaded) in
 * profile.ts. A body with top-level await includes its waiting; one that throws never calls.
 */
import { now, send } from './channel.cjs';

const pid = process.pid;
const parents = new Map<string, { parent: string | null; start: number; ms: number }>();

interface ResolveContext {
  parentURL?: string;
}
interface LoadResult {
  format?: string | null;
  source?: string | ArrayBuffer | ArrayBufferView | Uint8Array | null;
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
    send({ k: 'esm', pid, u: url, p: first.parent, f: String(r.format ?? ''), t: first.start, r: first.ms, ld: ms, e: start + ms });
    first.ms = -1; // reported: a second load of the same URL (another loader) is not a second module
  }
  if (r.format !== 'module' || r.source === null || r.source === undefined) return r;
  return { ...r, source: wrap(url, r.source) };
}

/** The source with the end call appended; bytes stay bytes (no decode and re-encode of every module). */
function wrap(url: string, source: string | ArrayBuffer | ArrayBufferView): string | Uint8Array {
  const tail = `\n;globalThis[Symbol.for('procprobe.esm')]?.(${JSON.stringify(url)});\n`;
  if (typeof source === 'string') return source + tail;
  const bytes = ArrayBuffer.isView(source) ? new Uint8Array(source.buffer, source.byteOffset, source.byteLength) : new Uint8Array(source);
  return Buffer.concat([bytes, Buffer.from(tail)]);
}
