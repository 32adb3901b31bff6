/**
 * Single-thread ring behaviour against a model: seeded random bursts of writes interleaved with
 * readLatest/readSince calls of random sizes, on several capacities, wrapping the ring ~50 times.
 * Every copied record must be the one written for its sequence number, oldest first; readLatest
 * returns exactly min(count, room, written, capacity); every sequence number a cursor passes is
 * either read or counted missed exactly once, and missed counts exactly what was overwritten.
 */
import { describe, expect, it } from 'vitest';
import { R } from '../dist/ring/layout.js';
import { createRingBuffer, RingReader, RingWriter, type RingCursor } from '../dist/ring/ring.js';
import { mulberry32, randInt, recordProblem, writeRecord } from './helpers/ring-common.mjs';

const SENTINEL = -12345.5;

interface Tracked {
  cursor: RingCursor;
  start: number;
  /** Per sequence number: 0 not accounted, 1 read, 2 counted missed. */
  seen: Uint8Array;
  read: number;
}

function run(capacity: number, gauges: number, seed: number) {
  const rnd = mulberry32(seed);
  const ctx = `seed ${seed}, capacity ${capacity}, gauges ${gauges}`;
  const total = 50 * capacity + randInt(rnd, 0, capacity);
  const sab = createRingBuffer(capacity, gauges);
  const writer = new RingWriter(sab);
  const reader = new RingReader(sab);
  const stride = reader.stride;
  const cursors: Tracked[] = [];
  const track = (cursor: RingCursor): void => {
    cursors.push({ cursor, start: cursor.next, seen: new Uint8Array(total + 1), read: 0 });
  };
  track({ next: 0, missed: 0 });
  let written = 0;
  let step = 0;
  const fail = (what: string) => `${ctx}, step ${step}, written ${written}: ${what}`;
  const checkCopies = (out: Float64Array, n: number, first: number, what: string): void => {
    for (let k = 0; k < n; k++) {
      const p = recordProblem(out, k * stride, stride);
      if (p !== null) expect.fail(fail(`${what}: record ${k}: ${p}`));
      if (out[k * stride + R.SEQ] !== first + k) expect.fail(fail(`${what}: record ${k} is seq ${out[k * stride]}, want ${first + k}`));
    }
    for (let i = n * stride; i < out.length; i++) {
      if (out[i] !== SENTINEL) expect.fail(fail(`${what}: wrote out[${i}] past the ${n} records it returned`));
    }
  };
  const readSince = (t: Tracked): void => {
    const room = randInt(rnd, 0, capacity + 3);
    const out = new Float64Array(room * stride + randInt(rnd, 0, stride - 1)).fill(SENTINEL);
    const { next, missed } = t.cursor;
    const oldest = Math.max(0, written - capacity);
    const start = Math.max(next, oldest);
    const wantN = next >= written ? 0 : Math.min(written - start, room);
    const n = reader.readSince(t.cursor, out);
    if (n !== wantN) expect.fail(fail(`readSince(next ${next}, room ${room}) returned ${n}, want ${wantN}`));
    if (next < written) {
      if (t.cursor.missed - missed !== start - next) expect.fail(fail(`readSince from ${next}: missed +${t.cursor.missed - missed}, overwritten ${start - next}`));
      if (t.cursor.next !== start + n) expect.fail(fail(`readSince from ${next}: cursor.next ${t.cursor.next}, want ${start + n}`));
    } else if (t.cursor.next !== next || t.cursor.missed !== missed) {
      expect.fail(fail(`readSince with nothing new moved the cursor to ${t.cursor.next}/${t.cursor.missed}`));
    }
    checkCopies(out, n, start, 'readSince');
    for (let s = next; s < start; s++) t.seen[s] = (t.seen[s] ?? 0) + 2;
    for (let s = start; s < start + n; s++) t.seen[s] = (t.seen[s] ?? 0) + 1;
    t.read += n;
  };
  const readLatest = (): void => {
    const room = randInt(rnd, 0, capacity + 3);
    const out = new Float64Array(room * stride + randInt(rnd, 0, stride - 1)).fill(SENTINEL);
    const count = rnd() < 0.25 ? undefined : randInt(rnd, 0, capacity + 3);
    const n = reader.readLatest(out, count);
    const wantN = Math.min(count ?? room, room, written, capacity);
    if (n !== wantN) expect.fail(fail(`readLatest(room ${room}, count ${count}) returned ${n}, want ${wantN}`));
    checkCopies(out, n, written - n, 'readLatest');
  };

  while (written < total) {
    step++;
    const op = rnd();
    if (op < 0.45) {
      const burst = randInt(rnd, 1, rnd() < 0.2 ? 3 * capacity : Math.max(1, capacity >> 1));
      for (let i = 0; i < burst && written < total; i++) {
        const seq = writeRecord(writer);
        if (seq !== written) expect.fail(fail(`writer numbered ${seq}`));
        written++;
      }
    } else if (op < 0.65) {
      readLatest();
    } else if (op < 0.97) {
      readSince(cursors[randInt(rnd, 0, cursors.length - 1)]!);
    } else if (cursors.length < 6) {
      const atEnd = rnd() < 0.5;
      const c = atEnd ? reader.cursorAtEnd() : reader.cursorAtOldest();
      const want = atEnd ? written : Math.max(0, written - capacity);
      if (c.next !== want || c.missed !== 0) expect.fail(fail(`cursorAt${atEnd ? 'End' : 'Oldest'} is ${c.next}, want ${want}`));
      track(c);
    }
    if (reader.latestSeq() !== written - 1) expect.fail(fail(`latestSeq ${reader.latestSeq()}`));
    if (reader.size !== Math.min(written, capacity)) expect.fail(fail(`size ${reader.size}`));
  }
  // Drain every cursor, then account for every sequence number it passed.
  let read = 0;
  let missed = 0;
  for (const t of cursors) {
    for (let guard = 0; t.cursor.next < written; guard++) {
      if (guard > total) expect.fail(fail(`cursor from ${t.start} never reached the end`));
      readSince(t);
    }
    expect(t.cursor.next, ctx).toBe(written);
    expect(t.read + t.cursor.missed, ctx).toBe(written - t.start);
    let seenMissed = 0;
    for (let s = t.start; s < written; s++) {
      if (t.seen[s] !== 1 && t.seen[s] !== 2) expect.fail(fail(`cursor from ${t.start}: seq ${s} accounted ${t.seen[s]} times/kinds`));
      if (t.seen[s] === 2) seenMissed++;
    }
    expect(seenMissed, ctx).toBe(t.cursor.missed);
    read += t.read;
    missed += t.cursor.missed;
  }
  return { written, read, missed, cursors: cursors.length, steps: step };
}

describe('seeded random writes and reads', () => {
  const base = Number(process.env.RING_SEED ?? 0x5eed);
  const cases: [number, number, number][] = [];
  let k = 0;
  for (const capacity of [2, 3, 7, 64, 1000]) {
    for (const gauges of [0, 2]) for (let rep = 0; rep < 3; rep++) cases.push([capacity, gauges, (base + 7919 * k++) >>> 0]);
  }

  it.each(cases)('capacity %i, %i gauges, seed %i', (capacity, gauges, seed) => {
    const r = run(capacity, gauges, seed);
    expect(r.written).toBeGreaterThanOrEqual(50 * capacity);
    expect(r.read, `seed ${seed}`).toBeGreaterThan(0);
    if (capacity <= 64) expect(r.missed, `seed ${seed}`).toBeGreaterThan(0);
  });
});

describe('a lapped reader', () => {
  it('misses exactly the 6 overwritten records and gets the 4 newest, oldest first', () => {
    const sab = createRingBuffer(4);
    const writer = new RingWriter(sab);
    const reader = new RingReader(sab);
    const cursor = reader.cursorAtOldest();
    expect(cursor).toEqual({ next: 0, missed: 0 });
    for (let i = 0; i < 10; i++) writeRecord(writer);
    const out = new Float64Array(reader.stride * 10).fill(SENTINEL);
    expect(reader.readSince(cursor, out)).toBe(4);
    expect(cursor).toEqual({ next: 10, missed: 6 });
    const seqs = [0, 1, 2, 3].map((k) => out[k * reader.stride + R.SEQ]);
    expect(seqs).toEqual([6, 7, 8, 9]);
    for (let k = 0; k < 4; k++) expect(recordProblem(out, k * reader.stride, reader.stride)).toBeNull();
    expect(out[4 * reader.stride]).toBe(SENTINEL);
    expect(reader.readSince(cursor, out)).toBe(0);
    expect(cursor).toEqual({ next: 10, missed: 6 });
  });
});

describe('a RingWriter constructed again on the same buffer', () => {
  it.each([0, 1, 3, 4, 5, 10, 13])('resumes numbering after the newest record (%i written)', (before) => {
    const sab = createRingBuffer(4, 1);
    const first = new RingWriter(sab);
    for (let i = 0; i < before; i++) writeRecord(first);
    const reader = new RingReader(sab);
    const cursor = reader.cursorAtOldest();
    const again = new RingWriter(sab);
    expect(again.nextSeq).toBe(before);
    const base = again.begin();
    expect(base / reader.stride).toBe(before % 4); // the slot after the newest record
    again.commit();
    for (let i = 0; i < 2; i++) expect(writeRecord(again)).toBe(before + 1 + i);
    expect(reader.latestSeq()).toBe(before + 2);
    // A cursor taken before the restart stays valid: only overwritten records count as missed.
    const out = new Float64Array(reader.stride * 8);
    const n = reader.readSince(cursor, out);
    expect(cursor.next).toBe(before + 3);
    expect(n + cursor.missed).toBe(before + 3 - Math.max(0, before - 4));
    expect(cursor.missed).toBe(Math.max(0, before + 3 - 4) - Math.max(0, before - 4));
  });

  // Regression: a writer stopped between begin() and commit() (worker terminated, probe threw)
  // leaves that record's version odd; the next writer must not invert the parity.
  it('recovers from a predecessor that stopped between begin() and commit()', () => {
    const sab = createRingBuffer(4);
    const crashed = new RingWriter(sab);
    for (let i = 0; i < 5; i++) writeRecord(crashed);
    crashed.begin(); // seq 5, never committed
    const again = new RingWriter(sab);
    expect(again.nextSeq).toBe(5);
    writeRecord(again);
    const reader = new RingReader(sab);
    expect(reader.latestSeq()).toBe(5);
    expect(Array.from(reader.views.versions, (v) => v & 1)).toEqual([0, 0, 0, 0]);
  });
});
