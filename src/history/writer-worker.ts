/**
 * A session's history writer: the only module that touches this worker's parentPort/workerData.
 * It attaches its own reader to the sampler's ring (zero messages per sample) and appends the new
 * samples to the session file every flushIntervalMs, so a kill -9 of the host loses at most that
 * much. One writer per file, append-only: a reader never sees interleaved records. Every byte,
 * the end record too, goes to the fd opened here: the file is never reopened by its name, which
 * could by then be a link somewhere else.
 */
import { closeSync, fstatSync, lstatSync, openSync, unlinkSync, writeSync, type Stats } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { Packr } from 'msgpackr';
import { RingReader, type RingCursor } from '../ring/ring.js';
import { CREATE_FLAGS } from './files.js';
import { encodeChunk, encodeRecord, type SessionRecord } from './format.js';
import { FLUSH_FAILED, type FromWriter, type ToWriter, type WriterWorkerData } from './messages.js';

const data = workerData as WriterWorkerData;
const post = (m: FromWriter): void => parentPort!.postMessage(m);
const BATCH = 4096;

const reader = new RingReader(data.sab);
const cursor: RingCursor = { next: data.startSeq, missed: 0 };
const batch = new Float64Array(BATCH * reader.stride);
const packr = new Packr({ sequential: true });
const flushed = new Int32Array(data.flushed);
let fd = -1;
/** What fd is (fstat at open): the name is removed on failure only while it still is this file. */
let opened: Stats | null = null;
let samples = 0;
let gaugeCount = 0;

function append(record: SessionRecord): void {
  const bytes = encodeRecord(packr, record);
  let off = 0;
  while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
}

function drain(): void {
  for (;;) {
    const names = reader.gaugeNames();
    if (names.length !== gaugeCount) {
      gaugeCount = names.length;
      append({ t: 'G', names });
    }
    const n = reader.readSince(cursor, batch);
    if (n > 0) {
      append(encodeChunk(batch, reader.stride, 0, n));
      samples += n;
    }
    if (n < BATCH) return;
  }
}

/**
 * A write failed (ENOSPC, EIO, EROFS, EDQUOT...): this file is done for. A failed writeSync may
 * have left part of a record, and anything appended after it would be unreadable, so nothing more
 * is written: the timer stops, the file is removed (the session is reported as not saved, and a
 * half file would later surface as an incomplete session that was never saved) and the worker
 * exits. One ERROR message, however many writes were queued.
 */
let failed = false;
let timer: NodeJS.Timeout | undefined;

function fail(err: unknown): void {
  if (failed) return;
  failed = true;
  clearInterval(timer);
  const e = err as NodeJS.ErrnoException;
  if (fd >= 0) {
    try {
      closeSync(fd);
    } catch {
      // EIO again on close: the unlink below still frees the name.
    }
    try {
      const now = lstatSync(data.path);
      if (opened && now.ino === opened.ino && now.dev === opened.dev) unlinkSync(data.path);
    } catch {
      // Already gone, or the file system refuses even that (EROFS): nothing more to do.
    }
  }
  post({ code: 'ERROR', errorCode: e.code, message: e.message ?? String(err) });
  // An owner blocked in flushSync (process exit) stops waiting now, told it failed.
  Atomics.store(flushed, 0, FLUSH_FAILED);
  Atomics.notify(flushed, 0);
  parentPort!.close();
}

try {
  // O_EXCL | O_NOFOLLOW (files.ts): one file per session, never two writers on it, never a name
  // planted before us; 0600 (the data dir is 0700).
  fd = openSync(data.path, CREATE_FLAGS, 0o600);
  opened = fstatSync(fd);
  append(data.header);
  post({ code: 'OPENED' });
} catch (err) {
  fail(err);
}

if (!failed) {
  timer = setInterval(() => {
    try {
      drain();
    } catch (err) {
      fail(err);
    }
  }, data.flushIntervalMs);
}

parentPort!.on('message', (m: ToWriter) => {
  if (failed) return;
  try {
    drain();
    for (const r of m.records) append(r);
    if (m.code === 'FLUSH') {
      Atomics.add(flushed, 0, 1);
      Atomics.notify(flushed, 0);
    } else if (m.code === 'DRAIN') {
      post({ code: 'DRAINED', samples, missed: cursor.missed, bytes: fstatSync(fd).size });
    } else if (m.code === 'CLOSE') {
      clearInterval(timer);
      const bytes = fstatSync(fd).size;
      closeSync(fd);
      post({ code: 'CLOSED', samples, missed: cursor.missed, bytes });
      parentPort!.close();
    }
  } catch (err) {
    fail(err);
  }
});
