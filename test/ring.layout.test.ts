/**
 * The ring's layout (src/ring/layout.ts) and the checks on what may become a ring: record fields,
 * header words on their own cache lines, 64-byte aligned sections that neither overlap nor leave
 * the buffer, createRingBuffer's options, and RingReader/RingWriter refusing a buffer that is not a
 * procprobe ring with InvalidOptionError.
 */
import { describe, expect, it } from 'vitest';
import { FIELD_COUNT } from '../dist/index.js';
import { CACHE_LINE, GAUGE_NAME_BYTES, H, LOOP_LAYOUT, LoopExit, loopLayout, R, RING_MAGIC, RING_VERSION, ringGeometry, WriterState } from '../dist/ring/layout.js';
import { F } from '../dist/probe/layout.js';
import { readFileSync } from 'node:fs';
import { createRingBuffer, RingReader, RingWriter } from '../dist/ring/ring.js';
import { RingViews } from '../dist/ring/views.js';
import { expectInvalidOption } from './helpers/errors.js';

const line = (word: number) => Math.floor((word * 4) / CACHE_LINE);

describe('record fields', () => {
  it('are SEQ, STATUS, LAG_US, PROCESSES, PSS_BYTES, then the probe row, then the gauges', () => {
    expect([R.SEQ, R.STATUS, R.LAG_US, R.PROCESSES, R.PSS_BYTES, R.ROW]).toEqual([0, 1, 2, 3, 4, 5]);
    expect(R.ROW + FIELD_COUNT).toBe(R.GAUGES);
    expect(FIELD_COUNT).toBeGreaterThan(0);
  });

  it.each([0, 1, 3, 8, 1024])('stride is R.GAUGES + gaugeSlots (%i gauges)', (gauges) => {
    expect(ringGeometry(16, gauges).stride).toBe(R.GAUGES + gauges);
    const reader = new RingReader(createRingBuffer(16, gauges));
    expect(reader.stride).toBe(R.GAUGES + gauges);
    expect(reader.views.header[H.STRIDE]).toBe(R.GAUGES + gauges);
    expect(reader.views.header[H.ROW_FIELDS]).toBe(FIELD_COUNT);
  });
});

describe('header', () => {
  it('keeps the static words, the writer-hot words and the control words on three different lines', () => {
    const statics = [H.MAGIC, H.VERSION, H.CAPACITY, H.STRIDE, H.GAUGE_SLOTS, H.ROW_FIELDS].map(line);
    const hot = [H.LAST_SLOT, H.MISSED, H.WRITER_STATE].map(line);
    const control = [H.STOP, H.GAUGES_DEFINED].map(line);
    expect(new Set(statics).size).toBe(1);
    expect(new Set(hot).size).toBe(1);
    expect(new Set(control).size).toBe(1);
    expect(new Set([statics[0], hot[0], control[0]]).size).toBe(3);
    const words = Object.values(H);
    expect(new Set(words).size).toBe(words.length); // no two names share a word
    // The whole header fits before the first section.
    for (const w of words) expect((w + 1) * 4).toBeLessThanOrEqual(ringGeometry(2, 0).gaugesByte);
  });

  it('is initialised by createRingBuffer', () => {
    const sab = createRingBuffer(7, 3);
    const hdr = new Int32Array(sab, 0, (3 * CACHE_LINE) / 4);
    expect(hdr[H.MAGIC]).toBe(RING_MAGIC);
    expect(hdr[H.VERSION]).toBe(RING_VERSION);
    expect(hdr[H.CAPACITY]).toBe(7);
    expect(hdr[H.STRIDE]).toBe(R.GAUGES + 3);
    expect(hdr[H.GAUGE_SLOTS]).toBe(3);
    expect(hdr[H.LAST_SLOT]).toBe(-1);
    expect(hdr[H.MISSED]).toBe(0);
    expect(hdr[H.WRITER_STATE]).toBe(WriterState.IDLE);
    expect(hdr[H.STOP]).toBe(0);
    expect(hdr[H.GAUGES_DEFINED]).toBe(0);
  });

  it('uses lock-free 4-byte atomics', () => {
    expect(Atomics.isLockFree(4)).toBe(true);
  });
});

describe('sections', () => {
  const cases: [number, number][] = [];
  for (const capacity of [2, 3, 7, 15, 16, 17, 64, 1000, 4096]) {
    for (const gauges of [0, 1, 7, 8, 9, 33]) cases.push([capacity, gauges]);
  }

  it.each(cases)('capacity %i, %i gauges: 64-byte aligned, in order, no overlap, byteLength exact', (capacity, gauges) => {
    const g = ringGeometry(capacity, gauges);
    expect(g).toMatchObject({ capacity, gaugeSlots: gauges, stride: R.GAUGES + gauges });
    for (const at of [g.gaugesByte, g.namesByte, g.versionsByte, g.recordsByte]) expect(at % CACHE_LINE).toBe(0);
    expect(g.gaugesByte).toBeGreaterThanOrEqual(3 * CACHE_LINE);
    expect(g.gaugesByte + gauges * 8).toBeLessThanOrEqual(g.namesByte);
    expect(g.namesByte + gauges * GAUGE_NAME_BYTES).toBeLessThanOrEqual(g.versionsByte);
    expect(g.versionsByte + capacity * 4).toBeLessThanOrEqual(g.recordsByte);
    expect(g.byteLength).toBe(g.recordsByte + capacity * g.stride * 8);

    const sab = createRingBuffer(capacity, gauges);
    expect(sab.byteLength).toBe(g.byteLength);
    const v = new RingViews(sab);
    expect(v.geometry).toEqual(g);
    expect([v.gauges.byteOffset, v.gauges.length]).toEqual([g.gaugesByte, gauges]);
    expect([v.names.byteOffset, v.names.length]).toEqual([g.namesByte, gauges * GAUGE_NAME_BYTES]);
    expect([v.versions.byteOffset, v.versions.length]).toEqual([g.versionsByte, capacity]);
    expect([v.records.byteOffset, v.records.length]).toEqual([g.recordsByte, capacity * g.stride]);
    expect(v.records.byteOffset + v.records.byteLength).toBe(sab.byteLength);
  });

  it('are laid out the same for writer and reader', () => {
    const sab = createRingBuffer(5, 2);
    const w = new RingWriter(sab);
    const r = new RingReader(sab);
    expect(w.views.geometry).toEqual(r.views.geometry);
    expect(w.records.byteOffset).toBe(r.views.records.byteOffset);
  });
});

describe('createRingBuffer options', () => {
  it.each([1, 2.5, 0, -4, NaN, Infinity, 2 ** 26 + 1, '8', null, undefined])('refuses capacity %s', (capacity) => {
    expectInvalidOption(() => createRingBuffer(capacity as number), 'capacity');
  });

  it('names capacity and the value in the message', () => {
    expect(expectInvalidOption(() => createRingBuffer(1), 'capacity').value).toBe(1);
    const err = expectInvalidOption(() => createRingBuffer(2.5), 'capacity');
    expect(err.value).toBe(2.5);
    expect(err.message).toMatch(/capacity must be .*got 2\.5/);
  });

  it.each([-1, 1.5, 1025, NaN, '2'])('refuses gaugeSlots %s', (gauges) => {
    expectInvalidOption(() => createRingBuffer(8, gauges as number), 'gaugeSlots');
  });

  it('accepts the smallest ring and 1024 gauges', () => {
    expect(new RingReader(createRingBuffer(2)).capacity).toBe(2);
    expect(new RingReader(createRingBuffer(2, 1024)).stride).toBe(R.GAUGES + 1024);
  });
});

describe('a buffer that is not a ring', () => {
  const g = ringGeometry(8, 2);
  const wrongMagic = new SharedArrayBuffer(g.byteLength);
  new Int32Array(wrongMagic)[H.MAGIC] = 0x12345678;
  const wrongVersion = createRingBuffer(8, 2);
  new Int32Array(wrongVersion)[H.VERSION] = RING_VERSION + 1;
  const wrongRow = createRingBuffer(8, 2);
  new Int32Array(wrongRow)[H.ROW_FIELDS] = FIELD_COUNT + 1;
  const cases: [string, unknown][] = [
    ['a zeroed SharedArrayBuffer', new SharedArrayBuffer(g.byteLength)],
    ['a SharedArrayBuffer with another magic', wrongMagic],
    ['a ring of another version', wrongVersion],
    ['a ring with another row width', wrongRow],
    ['an ArrayBuffer', new ArrayBuffer(g.byteLength)],
    ['a Float64Array over a ring', new Float64Array(createRingBuffer(8))],
    ['undefined', undefined],
    ['a number', 42],
  ];

  it.each(cases)('RingReader and RingWriter refuse %s', (_what, buffer) => {
    expectInvalidOption(() => new RingReader(buffer as SharedArrayBuffer), 'buffer');
    expectInvalidOption(() => new RingWriter(buffer as SharedArrayBuffer), 'buffer');
  });

  // Regression: RingViews once built its views before checking the length (a bare RangeError).
  it('RingReader refuses a SharedArrayBuffer shorter than the header', () => {
    expectInvalidOption(() => new RingReader(new SharedArrayBuffer(16)), 'buffer');
  });

  it('RingReader refuses a ring cut short', () => {
    const whole = createRingBuffer(8, 2);
    const cut = whole.slice(0, whole.byteLength - 8);
    expectInvalidOption(() => new RingReader(cut), 'buffer');
  });
});

describe('the contract with the C loop (native/loop.h)', () => {
  const header = readFileSync(new URL('../native/loop.h', import.meta.url), 'utf8');
  /** The members of `enum <name> { ... }` in loop.h, in order, with their values. */
  function cEnum(name: string): [string, number][] {
    const body = new RegExp(`enum ${name} \\{([^}]*)\\}`).exec(header)?.[1];
    expect(body, `enum ${name} in native/loop.h`).toBeDefined();
    let next = 0;
    return body!
      .split('\n')
      .map((l) => l.replace(/\/\/.*$/, '').trim().replace(/,$/, ''))
      .filter(Boolean)
      .map((m) => {
        const [id, value] = m.split('=').map((x) => x.trim());
        next = value === undefined ? next : Number(value);
        return [id!, next++];
      });
  }

  it('LOOP_LAYOUT names the positions of enum pp_loop_layout, in its order', () => {
    const members = cEnum('pp_loop_layout');
    expect(members.at(-1)).toEqual(['PP_L_COUNT', LOOP_LAYOUT.length]);
    expect(members.slice(0, -1).map(([id]) => id)).toEqual(LOOP_LAYOUT.map((n) => `PP_L_${n.toUpperCase()}`));
  });

  it('loopLayout() holds the layout modules\' offsets at those positions', () => {
    const g = ringGeometry(64, 3);
    const l = loopLayout(g);
    const at = (n: (typeof LOOP_LAYOUT)[number]) => l[LOOP_LAYOUT.indexOf(n)];
    expect([at('capacity'), at('stride'), at('gauge_count')]).toEqual([64, g.stride, 3]);
    expect([at('h_stop'), at('h_pause'), at('r_row'), at('r_gauges'), at('f_timestamp'), at('f_cpu_percent')]).toEqual([H.STOP, H.PAUSE, R.ROW, R.GAUGES, F.timestamp, F.cpuPercent]);
  });

  it('LoopExit is enum pp_loop_exit', () => {
    const members = cEnum('pp_loop_exit');
    expect(Object.fromEntries(members.map(([id, v]) => [id.replace(/^PP_LOOP_/, ''), v]))).toEqual({ ...LoopExit });
  });
});
