/**
 * Gauges: defined by name in the ring's owner, attached by name and set in another thread, copied
 * into every record by RingWriter.commit() at R.GAUGES + index; UTF-8 names up to 63 bytes round
 * trip; too many gauges, bad names and non-ring buffers throw InvalidOptionError.
 */
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { attachGauge, defineGauge } from '../dist/index.js';
import { GAUGE_NAME_BYTES, H, R } from '../dist/ring/layout.js';
import { createRingBuffer, RingReader, RingWriter } from '../dist/ring/ring.js';
import { expectInvalidOption } from './helpers/errors.js';

const setter = new URL('./fixtures/ring-gauge-setter.mjs', import.meta.url);

interface SetterResult {
  indexes: Record<string, number>;
  values: Record<string, number>;
  unknownError: { name: string; code: string; option: string } | null;
}

function runSetter(workerData: unknown): Promise<SetterResult> {
  return new Promise((resolve, reject) => {
    const w = new Worker(setter, { workerData });
    let result: SetterResult | undefined;
    w.once('message', (m: SetterResult) => (result = m));
    w.once('error', reject);
    w.once('exit', (code) => (code === 0 && result ? resolve(result) : reject(new Error(`gauge worker exited ${code}`))));
  });
}

/** Commit one record without touching the gauges; returns a copy of it. */
function commitOne(writer: RingWriter, reader: RingReader): Float64Array {
  writer.begin();
  writer.commit();
  const out = new Float64Array(reader.stride);
  expect(reader.readLatest(out, 1)).toBe(1);
  return out;
}

const NAMES = ['requests', 'queue.depth', 'Größe', '温度', '🚀 launches/s', 'x'.repeat(GAUGE_NAME_BYTES - 1), '€'.repeat(21)];

describe('gauges', () => {
  it('round-trip UTF-8 names up to 63 bytes, in definition order', () => {
    const sab = createRingBuffer(4, NAMES.length);
    const gauges = NAMES.map((n) => defineGauge(sab, n));
    expect(gauges.map((g) => g.index)).toEqual(NAMES.map((_, i) => i));
    expect(gauges.map((g) => g.name)).toEqual(NAMES);
    const reader = new RingReader(sab);
    expect(reader.gaugeNames()).toEqual(NAMES);
    expect(reader.views.header[H.GAUGES_DEFINED]).toBe(NAMES.length);
    // Defining a name again returns the same slot; attaching finds it.
    expect(defineGauge(sab, 'Größe').index).toBe(2);
    expect(attachGauge(sab, '温度').index).toBe(3);
    expect(reader.gaugeNames()).toHaveLength(NAMES.length);
    // The bytes in the names section are the UTF-8 encoding, NUL padded.
    const slot = reader.views.names.subarray(2 * GAUGE_NAME_BYTES, 3 * GAUGE_NAME_BYTES);
    const utf8 = new TextEncoder().encode('Größe');
    expect(Array.from(slot.subarray(0, utf8.length))).toEqual(Array.from(utf8));
    expect(slot.subarray(utf8.length).every((b) => b === 0)).toBe(true);
  });

  it('hold NaN until set, and set/add/value work on the shared value', () => {
    const sab = createRingBuffer(4, 2);
    const a = defineGauge(sab, 'a');
    expect(Number.isNaN(a.value)).toBe(true);
    a.set(5);
    a.add(2.5);
    expect(a.value).toBe(7.5);
    expect(attachGauge(sab, 'a').value).toBe(7.5);
    expect(new RingReader(sab).gaugeValues[0]).toBe(7.5);
  });

  it('set in a worker (attached by name) are copied into the next record by commit()', async () => {
    const sab = createRingBuffer(8, 4);
    const names = ['rps', 'Größe', '温度'];
    const [rps, size, temp] = names.map((n) => defineGauge(sab, n));
    const writer = new RingWriter(sab);
    const reader = new RingReader(sab);
    let rec = commitOne(writer, reader);
    for (const g of [rps!, size!, temp!]) expect(Number.isNaN(rec[R.GAUGES + g.index]!)).toBe(true);
    expect(rec[R.GAUGES + 3]).toBeNaN(); // the undefined slot is copied too: NaN, never a made-up 0

    const result = await runSetter({ sab, set: [['rps', 1234.5], ['温度', -40]], add: [['Größe', 3], ['Größe', 4]], unknown: 'nope' });
    expect(result.indexes).toEqual({ rps: 0, Größe: 1, 温度: 2 });
    expect(result.values).toEqual({ rps: 1234.5, Größe: NaN, 温度: -40 }); // NaN + 3 + 4
    expect(result.unknownError).toEqual({ name: 'InvalidOptionError', code: 'ERR_PROCPROBE_INVALID_OPTION', option: 'gauge name' });

    size!.set(7);
    rec = commitOne(writer, reader);
    expect(rec[R.SEQ]).toBe(1);
    expect(rec[R.GAUGES + rps!.index]).toBe(1234.5);
    expect(rec[R.GAUGES + size!.index]).toBe(7);
    expect(rec[R.GAUGES + temp!.index]).toBe(-40);
    expect(Array.from(reader.gaugeValues)).toEqual([1234.5, 7, -40, NaN]);
    // Each record keeps the values of its commit.
    rps!.set(1);
    commitOne(writer, reader);
    const both = new Float64Array(reader.stride * 2);
    expect(reader.readLatest(both)).toBe(2);
    expect([both[R.GAUGES], both[reader.stride + R.GAUGES]]).toEqual([1234.5, 1]);
  });

  it('refuse more gauges than the ring has slots', () => {
    const sab = createRingBuffer(4, 2);
    defineGauge(sab, 'one');
    defineGauge(sab, 'two');
    expectInvalidOption(() => defineGauge(sab, 'three'), 'gauge name');
    expect(defineGauge(sab, 'two').index).toBe(1); // an existing name still resolves
    expect(new RingReader(sab).gaugeNames()).toEqual(['one', 'two']);
    expectInvalidOption(() => defineGauge(createRingBuffer(4, 0), 'any'), 'gauge name');
  });

  it.each([
    ['64 ASCII bytes', 'x'.repeat(GAUGE_NAME_BYTES)],
    ['66 UTF-8 bytes in 22 characters', '€'.repeat(22)],
    ['an empty name', ''],
    ['a NUL', 'a\0b'],
    ['a non-string', 42],
  ])('refuse a name of %s', (_what, name) => {
    const sab = createRingBuffer(4, 2);
    expectInvalidOption(() => defineGauge(sab, name as string), 'gauge name');
    defineGauge(sab, 'ok');
    expectInvalidOption(() => attachGauge(sab, name as string), 'gauge name');
    expect(new RingReader(sab).gaugeNames()).toEqual(['ok']);
  });

  it('cannot be attached before they are defined', () => {
    const sab = createRingBuffer(4, 2);
    expectInvalidOption(() => attachGauge(sab, 'later'), 'gauge name');
  });

  it('refuse a buffer that is not a ring', () => {
    const plain = new SharedArrayBuffer(4096);
    expectInvalidOption(() => defineGauge(plain, 'a'), 'buffer');
    expectInvalidOption(() => attachGauge(plain, 'a'), 'buffer');
    expectInvalidOption(() => new RingReader(plain), 'buffer');
    expectInvalidOption(() => new RingReader(new ArrayBuffer(4096) as unknown as SharedArrayBuffer), 'buffer');
  });
});
