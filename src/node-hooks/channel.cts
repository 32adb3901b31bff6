/**
 * The child's end of the channel to procprobe: a FIFO in a 0700 directory that procprobe made for
 * this run, named by PROCPROBE_NODE_HOOKS (inherited by every descendant, as NODE_OPTIONS is).
 *
 * Why a FIFO written with fs.writeSync: every thread that reports (the main thread, the ESM hooks
 * thread) and every process of the tree writes its own lines synchronously, so a message is out
 * before the next line of user code runs, even in an 'exit' handler or a process that dies of an
 * uncaught exception at load; nothing holds the child's event loop open and nothing touches its
 * stdout/stderr. A write of at most PIPE_BUF (4096) bytes to a pipe is atomic (pipe(7)), so the
 * lines of several writers never interleave: each message is kept under that size.
 *
 * Opened O_NONBLOCK: with no reader (procprobe gone) the open fails with ENXIO instead of
 * blocking the child, and a full pipe (procprobe busy) is retried briefly, then dropped. Every
 * failure makes the hooks silent: the child must run as it would without them.
 */
import { closeSync, constants, openSync, writeSync } from 'node:fs';

/** PIPE_BUF on Linux: one write up to this size is never split or interleaved. */
export const MAX_LINE_BYTES = 4096;

let fd = -1;
let opened = false;
/** Sleeping in a full pipe's retry without a timer: the thread is blocked anyway. */
const pause = new Int32Array(new SharedArrayBuffer(4));

function open(): number {
  if (opened) return fd;
  opened = true;
  const path = process.env.PROCPROBE_NODE_HOOKS;
  if (!path) return -1;
  try {
    fd = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK);
  } catch {
    fd = -1;
  }
  return fd;
}

/** Write one line (JSON + '\n', at most MAX_LINE_BYTES); false if it could not be sent. */
export function sendLine(line: string): boolean {
  const f = open();
  if (f < 0) return false;
  const bytes = Buffer.from(`${line}\n`, 'utf8');
  if (bytes.length > MAX_LINE_BYTES) return false;
  for (let attempt = 0; attempt < 200; attempt++) {
    try {
      writeSync(f, bytes);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') break;
      Atomics.wait(pause, 0, 0, 5); // the pipe is full: procprobe reads it within ms
    }
  }
  closeQuietly();
  return false;
}

/** Send `msg`; a list field `l` longer than fits in one line is split over several messages. */
export function send(msg: { l?: unknown[] } & Record<string, unknown>): void {
  const line = JSON.stringify(msg);
  if (Buffer.byteLength(line) < MAX_LINE_BYTES || !Array.isArray(msg.l) || msg.l.length < 2) {
    sendLine(line);
    return;
  }
  const half = msg.l.length >> 1;
  send({ ...msg, l: msg.l.slice(0, half) });
  send({ ...msg, l: msg.l.slice(half) });
}

function closeQuietly(): void {
  try {
    if (fd >= 0) closeSync(fd);
  } catch {
    // already gone
  }
  fd = -1;
}

/** Wall-clock ms since the epoch, sub-ms, on the clock procprobe's phases use. */
export function now(): number {
  return performance.timeOrigin + performance.now();
}
