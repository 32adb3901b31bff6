/**
 * Readiness checks timed where they happen (native/ready.h): a thread that connects to a port
 * every 0.5 ms, and a thread that reads a child's output pipe and stamps every chunk as its read
 * returns. Both stamp CLOCK_MONOTONIC, the clock of the native spawn's stamps, converted here to
 * the performance.now() clock. Where the addon lacks them (other platforms, older builds) each
 * function returns null and the caller does the same from the event loop.
 */
import { Readable } from 'node:stream';
import { getSystemErrorName } from 'node:util';
import { loadNative, type NativeAddon } from './native.js';

/**
 * The addon's CLOCK_MONOTONIC ms as performance.now() ms. Both run on the same clock from
 * different origins (Node's is CLOCK_MONOTONIC too, via uv_hrtime): the offset, read back to back
 * here, is constant for the process's life, and the two reads are ~0.1 µs apart.
 */
export function monoToNow(native: NativeAddon): (monoMs: number) => number {
  const cell = new Float64Array(1);
  native.nowInto(cell, 0);
  const offset = cell[0]! - performance.now();
  return (monoMs) => monoMs - offset;
}

export interface PortReady {
  /** true: a connection succeeded; false: stopped by the signal, or the watch could not run (`error`). */
  ok: boolean;
  /** When the first successful connect completed, on the performance.now() clock (ms); NaN if none. */
  atMono: number;
  attempts: number;
  /** Why the thread could not poll (the host did not resolve), else undefined. */
  error?: string;
}

/**
 * Connect to host:port every `intervalMs` on a native thread until one succeeds or `signal`
 * aborts; null where unsupported (the caller polls from the event loop).
 */
export function watchPortNative(host: string, port: number, intervalMs: number, signal: AbortSignal): Promise<PortReady> | null {
  const native = loadNative().addon;
  if (!native?.readySupported || !native.portWatch || !native.readyStop) return null;
  const toNow = monoToNow(native);
  let settle: (r: PortReady) => void = () => undefined;
  const done = new Promise<PortReady>((resolve) => (settle = resolve));
  const h = native.portWatch(host, port, intervalMs, (r) => {
    signal.removeEventListener('abort', stop);
    settle({ ok: r.ok, atMono: r.ok ? toNow(r.readyAtMonoMs) : NaN, attempts: r.attempts, ...(r.err !== 0 ? { error: r.error || getSystemErrorName(-r.err) } : {}) });
  });
  if (typeof h === 'number') return null; // no thread (EAGAIN): the event loop polls instead
  const stop = (): void => native.readyStop!(h);
  if (signal.aborted) stop();
  else signal.addEventListener('abort', stop, { once: true });
  return done;
}

/** Each chunk a native reader delivered, with its read instant (performance.now() ms). */
const stamps = new WeakMap<Buffer, number>();

/**
 * When the native reader's read() returned `chunk` (performance.now() ms). undefined for a chunk
 * that did not come from one as it is: from a Socket, or merged by a paused stream's read().
 */
export function chunkReadAt(chunk: Buffer): number | undefined {
  return stamps.get(chunk);
}

/**
 * A Readable over `fd` fed by a native reader thread (which owns the fd from now on and closes
 * it at the end); null where unsupported (the caller wraps the fd in a Socket). destroy() stops
 * the thread within 100 ms. The stream does not push back on the thread: a paused consumer
 * buffers here (the CLI's consumers never pause).
 */
export function nativePipeReadable(fd: number): Readable | null {
  const native = loadNative().addon;
  if (!native?.readySupported || !native.pipeRead || !native.readyStop) return null;
  const toNow = monoToNow(native);
  let handle: object | null = null;
  const stream = new Readable({
    read() {},
    destroy(err, cb) {
      if (handle) native.readyStop!(handle);
      cb(err);
    },
  });
  const h = native.pipeRead(fd, (bytes, atMonoMs, err) => {
    if (stream.destroyed) return;
    if (bytes) {
      stamps.set(bytes, toNow(atMonoMs));
      stream.push(bytes);
    } else if (err !== 0) stream.destroy(new Error(`reading the child's output: ${getSystemErrorName(-err)}`));
    else stream.push(null);
  });
  if (typeof h === 'number') return null; // no thread: fd untouched, the caller wraps it
  handle = h;
  return stream;
}
