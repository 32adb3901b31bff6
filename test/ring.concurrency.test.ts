/**
 * The seqlock under real concurrency: one writer Worker writing as fast as it can (every field a
 * function of the record's seq, gauges set through attached Gauges), three reader Workers plus the
 * main thread reading with readSince/readLatest into their own arrays. No reader may ever get a
 * torn record; sequences strictly increase per reader; read + missed equals exactly the sequences
 * each cursor spanned; and no byte outside the writer's words changes.
 */
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { defineGauge } from '../dist/index.js';
import { CACHE_LINE, H } from '../dist/ring/layout.js';
import { createRingBuffer, RingReader } from '../dist/ring/ring.js';
import { recordProblem, runReader } from './helpers/ring-common.mjs';

const START = 0;
const STOP = 1;
const writerUrl = new URL('./fixtures/ring-writer.mjs', import.meta.url);
const readerUrl = new URL('./fixtures/ring-reader.mjs', import.meta.url);

type Stats = ReturnType<typeof runReader>;

/** Start a worker; `ready` resolves on its first message, `result` on its second. */
function spawn(url: URL, workerData: unknown) {
  const w = new Worker(url, { workerData });
  let onReady!: () => void;
  const ready = new Promise<void>((resolve) => (onReady = resolve));
  const result = new Promise<any>((resolve, reject) => {
    let value: unknown;
    w.on('message', (m) => (m === 'ready' ? onReady() : (value = m)));
    w.once('error', reject);
    w.once('exit', (code) => (code === 0 && value !== undefined ? resolve(value) : reject(new Error(`${url.pathname} exited ${code}`))));
  });
  ready.catch(() => undefined);
  result.catch(() => undefined);
  return { w, ready: Promise.race([ready, result.then(() => undefined)]), result };
}

/** [start, end) byte ranges the writer may change: LAST_SLOT, gauge values, versions, records. */
function writable(sab: SharedArrayBuffer): [number, number][] {
  const g = new RingReader(sab).views.geometry;
  return [
    [H.LAST_SLOT * 4, H.LAST_SLOT * 4 + 4],
    [g.gaugesByte, g.gaugesByte + g.gaugeSlots * 8],
    [g.versionsByte, g.versionsByte + g.capacity * 4],
    [g.recordsByte, g.byteLength],
  ];
}

/** Fill every unused byte (header and section padding) with a pattern, so stray zeros show too. */
function paint(sab: SharedArrayBuffer): void {
  const v = new RingReader(sab).views;
  const g = v.geometry;
  const bytes = new Uint8Array(sab);
  const pad = (from: number, to: number) => bytes.fill(0xa5, from, to);
  pad((H.ROW_FIELDS + 1) * 4, CACHE_LINE);
  pad((H.WRITER_STATE + 1) * 4, 2 * CACHE_LINE);
  pad((H.GAUGES_DEFINED + 1) * 4, 3 * CACHE_LINE);
  pad(g.gaugesByte + g.gaugeSlots * 8, g.namesByte);
  pad(g.versionsByte + g.capacity * 4, g.recordsByte);
}

function outside(sab: SharedArrayBuffer): Uint8Array {
  const bytes = new Uint8Array(sab).slice();
  for (const [from, to] of writable(sab)) bytes.fill(0, from, to);
  return bytes;
}

async function race(capacity: number, gauges: number, ms: number, seed: number) {
  const sab = createRingBuffer(capacity, gauges);
  const gaugeNames = Array.from({ length: gauges }, (_, i) => `gauge-${i}-ünï`);
  for (const name of gaugeNames) defineGauge(sab, name);
  paint(sab);
  const canary = outside(sab);
  const control = new Int32Array(new SharedArrayBuffer(8));
  const writer = spawn(writerUrl, { sab, control: control.buffer, gaugeNames });
  const modes = [
    { mode: 'since-big', atEnd: false },
    { mode: 'since-small', atEnd: true },
    { mode: 'mixed', atEnd: false },
  ];
  const readers = modes.map((m, i) => spawn(readerUrl, { sab, control: control.buffer, ...m, seed: seed + i }));
  try {
    await Promise.all([writer, ...readers].map((x) => x.ready));
    Atomics.store(control, START, 1);
    Atomics.notify(control, START);
    // The main thread is the fourth reader until the deadline.
    const reader = new RingReader(sab);
    const until = performance.now() + ms;
    const main = runReader(reader, { mode: 'mixed', seed: seed + 99, cursor: { next: 0, missed: 0 }, shouldStop: () => performance.now() >= until });
    Atomics.store(control, STOP, 1);
    const [w, ...stats] = (await Promise.all([writer.result, ...readers.map((r) => r.result)])) as [any, ...Stats[]];
    return { sab, canary, reader, gaugeNames, written: w.written as number, first: w.first as number, stats: [...stats, main] };
  } finally {
    Atomics.store(control, STOP, 1);
    Atomics.store(control, START, 1);
    Atomics.notify(control, START);
    await Promise.allSettled([writer, ...readers].map((x) => x.w.terminate()));
  }
}

describe('one writer, four readers in four threads', () => {
  it.each([
    // capacity, gauges, duration ms: a ring big enough that readers keep up (even time-sliced on a
    // loaded machine), and the smallest ring, lapped constantly, where copies race the writer most.
    [4096, 2, 3000],
    [2, 1, 1000],
  ])('capacity %i, %i gauges, %i ms: no torn record, exact accounting', async (capacity, gauges, ms) => {
    const seed = 0xc0ffee + capacity;
    const r = await race(capacity, gauges, ms, seed);
    const summary = r.stats.map((s) => ({
      mode: s.mode, read: s.read, missed: s.missed, spanned: s.spanned, torn: s.torn,
      latestRecords: s.latestRecords, latestSeqBackwards: s.latestSeqBackwards, calls: s.calls,
    }));
    console.log(`ring capacity ${capacity}: ${r.written} written`, JSON.stringify(summary));
    const ctx = `seed ${seed}, capacity ${capacity}, written ${r.written}: ${JSON.stringify(r.stats)}`;

    expect(r.first, ctx).toBe(0);
    expect(r.written, ctx).toBeGreaterThan(100_000);
    for (const s of r.stats) {
      expect(s.firstProblem, ctx).toBeNull();
      expect(s.torn, ctx).toBe(0);
      expect(s.orderErrors, ctx).toBe(0);
      expect(s.accountingErrors, ctx).toBe(0);
      expect(s.read + s.missed, ctx).toBe(s.spanned);
      expect(s.spanned, ctx).toBeLessThanOrEqual(r.written);
      expect(s.spanned, ctx).toBeGreaterThan(0);
      // In the big ring every reader reads a lot (readSince and readLatest together).
      if (capacity > 2) expect(s.read + s.latestRecords, ctx).toBeGreaterThan(5_000);
    }
    // In the 2-record ring most copies lose the race (counted missed), yet some records get through.
    const total = r.stats.reduce((sum, s) => sum + s.read + s.latestRecords, 0);
    expect(total, ctx).toBeGreaterThan(capacity > 2 ? 100_000 : 100);
    // A reader starting at 0 that only stopped after the writer spans nearly everything.
    expect(r.stats[0]!.spanned, ctx).toBeGreaterThan(r.written / 2);

    // Afterwards: the ring holds the last `capacity` records, whole, every version even.
    const reader = r.reader;
    expect(reader.latestSeq()).toBe(r.written - 1);
    const out = new Float64Array(reader.stride * capacity);
    expect(reader.readLatest(out)).toBe(capacity);
    for (let k = 0; k < capacity; k++) {
      expect(recordProblem(out, k * reader.stride, reader.stride), ctx).toBeNull();
      expect(out[k * reader.stride]).toBe(r.written - capacity + k);
    }
    expect(Array.from(reader.views.versions).filter((v) => (v & 1) !== 0)).toEqual([]);
    // Canary: nothing outside LAST_SLOT, the gauge values, the versions and the records changed.
    const after = outside(r.sab);
    let changed = -1;
    for (let i = 0; i < after.length && changed < 0; i++) if (after[i] !== r.canary[i]) changed = i;
    expect(changed, `first changed byte outside the ring's writable words`).toBe(-1);
    expect(reader.gaugeNames()).toEqual(r.gaugeNames);
  });
});
