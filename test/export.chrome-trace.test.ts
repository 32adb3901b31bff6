/**
 * src/export/chrome-trace.ts and src/export/decimate.ts: the Trace Event Format document of a
 * synthetic session (phases as X events on nesting tracks, counters, the error instant, metadata,
 * the shifted origin), and min/max decimation with maxPoints.
 */
import { describe, expect, it } from 'vitest';
import type { ExportInput } from '../dist/export/types.js';
import { exportSession } from '../dist/export/index.js';
import { TRACE_COUNTERS, gaugeCounterName } from '../dist/export/chrome-trace.js';
import { checkMaxPoints, decimateIndices } from '../dist/export/decimate.js';
import { InvalidOptionError } from '../dist/errors.js';
import { F } from '../dist/probe/layout.js';
import { R } from '../dist/ring/layout.js';
import { SCHEMA_VERSION } from '../dist/schema.js';

import { GAUGES, makeInput, N, START } from './fixtures/export-session.js';
import { ph } from './helpers/summaries.js';

interface Ev {
  name: string; ph: string; ts: number; pid: number; tid?: number; dur?: number; s?: string; cat?: string;
  args?: Record<string, any>;
}

function trace(input: ExportInput, maxPoints?: number): { traceEvents: Ev[]; displayTimeUnit: string; metadata: Record<string, any> } {
  const text = exportSession(input, 'chrome-trace', maxPoints === undefined ? {} : { maxPoints });
  expect(typeof text).toBe('string');
  return JSON.parse(text as string);
}

const ORIGIN = START - 80; // node:process_init starts 80 ms before the session
const us = (epochMs: number): number => (epochMs - ORIGIN) * 1000;
const sampleAt = (input: ExportInput, i: number, col: number): number => input.samples.records[i * input.samples.stride + col]!;

describe('chrome-trace', () => {
  const input = makeInput();
  const doc = trace(input);
  const ev = doc.traceEvents;
  const xs = ev.filter((e) => e.ph === 'X');
  const byName = new Map(xs.map((e) => [e.name, e]));

  it('is a Trace Event Format document with every ts >= 0 (origin shifted to the earliest node:* phase)', () => {
    expect(doc.displayTimeUnit).toBe('ms');
    expect(Array.isArray(ev)).toBe(true);
    for (const e of ev) {
      expect(Number.isFinite(e.ts), JSON.stringify(e)).toBe(true);
      expect(e.ts).toBeGreaterThanOrEqual(0);
      expect(e.pid).toBe(4242);
      expect(['X', 'C', 'i', 'M']).toContain(e.ph);
      if (e.dur !== undefined) expect(e.dur).toBeGreaterThanOrEqual(0);
    }
    expect(Math.min(...ev.filter((e) => e.ph !== 'M').map((e) => e.ts))).toBe(0);
    expect(doc.metadata.originEpochMs).toBe(ORIGIN);
    expect(doc.metadata.sessionStartUs).toBe(80_000);
    expect(doc.metadata.sessionId).toBe('session-1');
    expect(doc.metadata.sessionMetadata).toEqual({ app: 'demo' });
    // Versioned inside metadata, the trace-info object, not as a top-level key of our own.
    expect(doc.metadata.schemaVersion).toBe(SCHEMA_VERSION);
    expect(Object.keys(doc).sort()).toEqual(['displayTimeUnit', 'metadata', 'traceEvents']);
  });

  it('has exactly one X event per phase, ts/dur in µs matching the phase to 1 µs', () => {
    expect(xs.map((e) => e.name).sort()).toEqual(input.summary.phases.map((p) => p.name).sort());
    for (const p of input.summary.phases) {
      const e = byName.get(p.name)!;
      expect(Math.abs(e.ts - us(START + p.startOffsetMs))).toBeLessThanOrEqual(1);
      expect(Math.abs(e.dur! - p.durationMs * 1000)).toBeLessThanOrEqual(1);
      expect(e.args!.success).toBe(p.success);
      expect(e.args!.durationMs).toBe(p.durationMs);
    }
    const pm = byName.get('port_management')!;
    expect(pm.args).toMatchObject({ success: false, errorMessage: 'EADDRINUSE "3000"\nretry' });
    expect(byName.get('environment_validation')!.args!.resources).toMatchObject({ cpuMs: 42.5, cpuPercent: null, rssPeakBytes: 6.5e7 });
    expect(byName.get('process_startup')!.args!.resources).toBeUndefined();
  });

  it('puts total_startup on the phases track containing its children; a phase sticking out goes to another tid', () => {
    const total = byName.get('total_startup')!;
    expect(total.tid).toBe(1);
    for (const name of ['environment_validation', 'port_management', 'process_startup', 'load_config']) {
      const e = byName.get(name)!;
      expect(e.tid, name).toBe(1);
      expect(e.ts).toBeGreaterThanOrEqual(total.ts);
      expect(e.ts + e.dur!).toBeLessThanOrEqual(total.ts + total.dur!);
    }
    const ps = byName.get('process_startup')!;
    const lc = byName.get('load_config')!;
    expect(lc.ts >= ps.ts && lc.ts + lc.dur! <= ps.ts + ps.dur!).toBe(true);
    const hv = byName.get('health_verification')!; // 1900.125 + 150 > 2000
    expect(hv.tid).not.toBe(1);
    for (const p of input.summary.phases.filter((q) => q.name.startsWith('node:'))) expect(byName.get(p.name)!.tid).toBe(2);
    // On every track, slices nest or are disjoint.
    for (const a of xs) {
      for (const b of xs) {
        if (a === b || a.tid !== b.tid) continue;
        const [a0, a1, b0, b1] = [a.ts, a.ts + a.dur!, b.ts, b.ts + b.dur!];
        const ok = a1 <= b0 || b1 <= a0 || (a0 >= b0 && a1 <= b1) || (b0 >= a0 && b1 <= a1);
        expect(ok, `${a.name} / ${b.name}`).toBe(true);
      }
    }
    // X events in ts order, the longer first among slices starting together.
    for (let k = 1; k < xs.length; k++) {
      const [a, b] = [xs[k - 1]!, xs[k]!];
      expect(a.ts < b.ts || (a.ts === b.ts && a.dur! >= b.dur!), `${a.name} then ${b.name}`).toBe(true);
    }
  });

  it('orders a parent before a child starting at the same µs, whatever the phase order', () => {
    const t = trace(makeInput({ phases: [ph('init', 0, 10), ph('total_startup', 0, 2000), ph('late', 1999, 1)] }));
    const x = t.traceEvents.filter((e) => e.ph === 'X');
    expect(x.map((e) => e.name)).toEqual(['total_startup', 'init', 'late']);
    expect(x.map((e) => e.tid)).toEqual([1, 1, 1]);
  });

  it('names the process and every track used with metadata events', () => {
    const meta = ev.filter((e) => e.ph === 'M');
    expect(meta.find((e) => e.name === 'process_name')!.args!.name).toBe('procprobe session session-1');
    const threads = new Map(meta.filter((e) => e.name === 'thread_name').map((e) => [e.tid, e.args!.name]));
    const used = new Set(xs.map((e) => e.tid));
    for (const tid of used) expect(threads.has(tid), `tid ${tid}`).toBe(true);
    expect(threads.get(1)).toBe('phases');
    expect(threads.get(2)).toBe('node bootstrap');
    expect(threads.get(byName.get('health_verification')!.tid)).toMatch(/^phases \(overlap/);
  });

  it('writes one counter per metric and gauge, each sample at its ts with its value (NaN left out)', () => {
    const cs = ev.filter((e) => e.ph === 'C');
    const names = [...TRACE_COUNTERS, ...GAUGES.map(gaugeCounterName)];
    expect(new Set(cs.map((e) => e.name))).toEqual(new Set(names));
    const cols: [string, number][] = [
      ...TRACE_COUNTERS.map((f): [string, number] => [f, R.ROW + F[f]]),
      ...GAUGES.map((g, k): [string, number] => [gaugeCounterName(g), R.GAUGES + k]),
    ];
    for (const [name, col] of cols) {
      const series = cs.filter((e) => e.name === name);
      const expected: [number, number][] = [];
      for (let i = 0; i < N; i++) {
        const v = sampleAt(input, i, col);
        if (!Number.isNaN(v)) expected.push([us(sampleAt(input, i, R.ROW + F.timestamp)), v]);
      }
      expect(series.length, name).toBe(expected.length);
      series.forEach((e, k) => {
        expect(Math.abs(e.ts - expected[k]![0])).toBeLessThanOrEqual(1);
        expect(e.args).toEqual({ value: expected[k]![1] });
      });
    }
    expect(cs.filter((e) => e.name === 'openFds')).toHaveLength(N - 1);
  });

  it('writes the error as a global instant event', () => {
    const is = ev.filter((e) => e.ph === 'i');
    expect(is).toHaveLength(1);
    expect(is[0]!.s).toBe('g');
    expect(Math.abs(is[0]!.ts - us(START + 705.5))).toBeLessThanOrEqual(1);
    expect(is[0]!.name).toContain('port 3000 in use');
    expect(is[0]!.args).toEqual({ message: 'port 3000 in use', operation: 'port_management' });
  });

  it('uses pid 1 without samples and keeps ts >= 0 when samples precede every phase', () => {
    const empty = trace(makeInput({}, 0));
    expect(new Set(empty.traceEvents.map((e) => e.pid))).toEqual(new Set([1]));
    expect(empty.traceEvents.filter((e) => e.ph === 'C')).toHaveLength(0);
    const early = makeInput({ phases: [ph('total_startup', 0, 2000)] });
    const t = trace(early);
    for (const e of t.traceEvents) expect(e.ts).toBeGreaterThanOrEqual(0);
    expect(t.metadata.originEpochMs).toBe(START - 20); // the first sample
    expect(t.traceEvents.find((e) => e.name === 'total_startup')!.ts).toBe(20_000);
  });
});

describe('chrome-trace: hostile names stay JSON strings', () => {
  // Every C0 control, the JSON syntax (" \\ / } ]), DEL, C1, U+2028 (a line end to JavaScript
  // before ES2019) and a lone surrogate (no character: JSON.stringify writes it as \udXXX).
  const HOSTILE = `"\\/}]${String.fromCharCode(...Array.from({ length: 32 }, (_, i) => i))}\x7f\x9b\u2028\ud800<script>`;
  const input = makeInput({ id: `s ${HOSTILE}`, metadata: { [`k ${HOSTILE}`]: `v ${HOSTILE}` }, phases: [ph(`p ${HOSTILE}`, 0, 100)], errors: [{ timestamp: START + 5, message: `m ${HOSTILE}`, operation: `o ${HOSTILE}` }] });
  input.samples.gaugeNames = [`g ${HOSTILE}`, GAUGES[1]!];
  const text = exportSession(input, 'chrome-trace') as string;

  it('has no raw control character and survives UTF-8 unchanged', () => {
    expect([...text].filter((c) => c.charCodeAt(0) < 0x20)).toEqual([]); // JSON forbids them raw in strings
    expect(Buffer.from(text, 'utf8').toString('utf8')).toBe(text); // no lone surrogate left raw
    expect(text).toContain('\\ud800');
  });

  it('parses back to the exact names: the phase, the error, the gauge counter, the process and the metadata', () => {
    const doc = JSON.parse(text) as { traceEvents: Ev[]; metadata: Record<string, any> };
    const ev = doc.traceEvents;
    expect(ev.filter((e) => e.ph === 'X').map((e) => e.name)).toEqual([`p ${HOSTILE}`]);
    const err = ev.find((e) => e.ph === 'i')!;
    expect(err.args).toEqual({ message: `m ${HOSTILE}`, operation: `o ${HOSTILE}` });
    expect(ev.filter((e) => e.ph === 'C' && e.name === gaugeCounterName(`g ${HOSTILE}`))).toHaveLength(N);
    expect(ev.find((e) => e.name === 'process_name')!.args!.name).toContain(`s ${HOSTILE}`);
    expect(doc.metadata.sessionMetadata).toEqual({ [`k ${HOSTILE}`]: `v ${HOSTILE}` });
  });
});

describe('maxPoints decimation', () => {
  const input = makeInput();

  it('keeps first/last, at most maxPoints per series, and the extremes', () => {
    const full = trace(input).traceEvents;
    for (const maxPoints of [4, 7, 20, 64]) {
      const doc = trace(input, maxPoints);
      const cs = doc.traceEvents.filter((e) => e.ph === 'C');
      for (const f of ['cpuPercent', 'rssBytes', 'openFds', 'threads'] as const) {
        const series = cs.filter((e) => e.name === f);
        const all = full.filter((e) => e.ph === 'C' && e.name === f);
        expect(series.length).toBeLessThanOrEqual(maxPoints);
        expect(series[0]).toEqual(all[0]);
        expect(series.at(-1)).toEqual(all.at(-1));
        const values = all.map((e) => e.args!.value as number);
        const kept = series.map((e) => e.args!.value as number);
        expect(kept).toContain(Math.max(...values));
        expect(kept).toContain(Math.min(...values));
        // Every kept point is a real point, in time order.
        for (const e of series) expect(all).toContainEqual(e);
        for (let k = 1; k < series.length; k++) expect(series[k]!.ts).toBeGreaterThan(series[k - 1]!.ts);
      }
      expect(cs.filter((e) => e.name === 'cpuPercent').map((e) => e.args!.value)).toContain(399.5);
      expect(cs.filter((e) => e.name === 'rssBytes').map((e) => e.args!.value)).toEqual(expect.arrayContaining([9e8, 1e6]));
      // Phases and errors are not decimated.
      expect(doc.traceEvents.filter((e) => e.ph === 'X')).toHaveLength(input.summary.phases.length);
    }
  });

  it('decimateIndices: properties over random series', () => {
    let seed = 12345;
    const rand = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let trial = 0; trial < 200; trial++) {
      const n = 1 + Math.floor(rand() * 300);
      const v = Array.from({ length: n }, () => (rand() < 0.05 ? NaN : rand() * 1000 - 500));
      const defined = v.flatMap((x, i) => (Number.isNaN(x) ? [] : [i]));
      const maxPoints = 2 + Math.floor(rand() * 40);
      const keep = decimateIndices(n, (i) => v[i]!, maxPoints);
      expect(keep.length).toBeLessThanOrEqual(maxPoints);
      for (let k = 1; k < keep.length; k++) expect(keep[k]!).toBeGreaterThan(keep[k - 1]!);
      for (const i of keep) expect(Number.isNaN(v[i]!)).toBe(false);
      if (defined.length === 0) {
        expect(keep).toEqual([]);
        continue;
      }
      expect(keep[0]).toBe(defined[0]);
      expect(keep.at(-1)).toBe(defined.at(-1));
      if (defined.length <= maxPoints) expect(keep).toEqual(defined);
      if (maxPoints >= 4) {
        const vals = defined.map((i) => v[i]!);
        const kept = keep.map((i) => v[i]!);
        expect(kept).toContain(Math.max(...vals));
        expect(kept).toContain(Math.min(...vals));
      }
    }
    expect(decimateIndices(5, (i) => i)).toEqual([0, 1, 2, 3, 4]);
    expect(decimateIndices(5, (i) => [1, 9, 2, 3, 1][i]!, 3)).toEqual([0, 1, 4]);
  });

  it('rejects a bad maxPoints, naming it', () => {
    expect(checkMaxPoints(undefined)).toBeUndefined();
    expect(checkMaxPoints(Infinity)).toBeUndefined();
    expect(checkMaxPoints(2)).toBe(2);
    for (const bad of [1, 0, -5, 2.5, NaN, '10', null]) {
      expect(() => exportSession(input, 'chrome-trace', { maxPoints: bad as number })).toThrow(InvalidOptionError);
      try {
        exportSession(input, 'chrome-trace', { maxPoints: bad as number });
      } catch (err) {
        expect((err as InvalidOptionError).option).toBe('maxPoints');
      }
    }
  });
});
