/**
 * Every argument of the public API checked for type and range: a wrong one is an
 * InvalidOptionError (the class itself, code ERR_PROCPROBE_INVALID_OPTION) naming the argument and
 * ending with the value given, thrown before any state changes. Checked against independent
 * readers: the session's index entry decoded here with msgpackr (helpers/cli.ts readIndex), the
 * gauge's bytes read straight from the shared buffer at the offset the layout documents, the
 * caller's arrays left as they were. The valid calls after the refused ones show nothing was
 * half done.
 */
import { afterAll, describe, expect, it } from 'vitest';
import {
  createProbe,
  createRingBuffer,
  HistoryStore,
  InvalidOptionError,
  PerformanceMonitor,
  RealTimeMonitor,
  RingReader,
  rowToSample,
  spawnNative,
  FIELD_COUNT,
  nativeBaselineNs,
} from '../dist/index.js';
import { expectInvalidOption } from './helpers/errors.js';
import { readIndex } from './helpers/cli.js';
import { requireAddonFor } from './helpers/optional-readers.js';
import { closeMonitors, tracked } from './helpers/session-helpers.js';
import { removeTempDirs, tempDir } from './helpers/temp-dirs.js';

afterAll(async () => {
  await closeMonitors();
  removeTempDirs();
});

/** The rejection of an async call, checked as expectInvalidOption checks a throw. */
async function expectRejected(p: Promise<unknown>, option: string, shown: string): Promise<void> {
  const err = await p.then(
    () => expect.fail(`expected ${option} to be refused`),
    (e: unknown) => e as InvalidOptionError,
  );
  expectInvalidOption(() => {
    throw err;
  }, option, shown);
}

describe('PerformanceMonitor methods', () => {
  it('timings: finishTiming(id, "yes"), startTiming("x", "not an object") and the rest are refused; the valid calls then land in the file', async () => {
    const dir = tempDir('procprobe-args-');
    const pm = tracked(new PerformanceMonitor({ dataDir: dir, nodeBootstrap: false }));
    pm.startSession({ label: 'args' });
    expectInvalidOption(() => pm.startTiming('x', 'not an object' as never), 'metadata', '"not an object"');
    expectInvalidOption(() => pm.startTiming('x', [1] as never), 'metadata', 'an array');
    expectInvalidOption(() => pm.startTiming('', {}), 'operation', '""');
    expectInvalidOption(() => pm.startTiming(42 as never), 'operation', '42');
    expectInvalidOption(() => pm.startTimingAt('x', 'now' as never), 'atMs', '"now"');
    const id = pm.startTiming('parse', { step: 1 });
    expectInvalidOption(() => pm.finishTiming(id, 'yes' as never), 'success', '"yes"');
    expectInvalidOption(() => pm.finishTiming(id, false, {} as never), 'errorMessage', 'an object');
    expectInvalidOption(() => pm.finishTiming(42 as never), 'timingId', '42');
    // Refused calls left the timing open: it finishes now, once.
    pm.finishTiming(id, false, 'bad config');
    const at = pm.startTimingAt('spawn', performance.timeOrigin + performance.now());
    const now = performance.timeOrigin + performance.now();
    expectInvalidOption(() => pm.finishTimingAt(at, now, true, undefined, { cpuUs: 5n } as never), 'totals.cpuUs', '5n');
    expectInvalidOption(() => pm.finishTimingAt(at, now, true, undefined, { cpuUs: 1 } as never), 'totals.voluntaryContextSwitches', 'undefined');
    const totals = { cpuUs: 2000, voluntaryContextSwitches: 3, involuntaryContextSwitches: 4, minorPageFaults: 5, majorPageFaults: 0 };
    const err = expectInvalidOption(() => pm.finishTimingAt(at, now, true, undefined, { ...totals, cpuMs: 2 } as never), 'totals.cpuMs', '2');
    expect(err.message).toContain('did you mean cpuUs?');
    pm.finishTimingAt(at, now, true, undefined, totals);
    const s = await pm.finishSession(true);
    expect(s.saved).toBe(true);
    const [entry] = readIndex(dir);
    const parse = entry.phases.find((p: { name: string }) => p.name === 'parse');
    expect(parse).toMatchObject({ success: false, errorMessage: 'bad config' });
    const spawn = entry.phases.find((p: { name: string }) => p.name === 'spawn');
    expect(spawn).toMatchObject({ success: true });
    expect(spawn.resources).toMatchObject({ cpuMs: 2, voluntaryContextSwitches: 3, involuntaryContextSwitches: 4, minorPageFaults: 5 });
  });

  it('recordError({}) and an operation that is not a string (a function would have failed in the writer worker) are refused; an Error gives its message', async () => {
    const dir = tempDir('procprobe-args-');
    const pm = tracked(new PerformanceMonitor({ dataDir: dir, nodeBootstrap: false }));
    pm.startSession({});
    expectInvalidOption(() => pm.recordError({} as never), 'errorMessage', 'an object');
    expectInvalidOption(() => pm.recordError(undefined as never), 'errorMessage', 'undefined');
    expectInvalidOption(() => pm.recordError('x', 5 as never), 'operation', '5');
    expectInvalidOption(() => pm.recordError('x', (() => 'op') as never), 'operation', 'a function');
    pm.recordError('plain text', 'health');
    pm.recordError(new RangeError('out of range'));
    await pm.finishSession(true);
    const [entry] = readIndex(dir);
    expect(entry.errors.map((e: { message: string; operation?: string }) => [e.message, e.operation])).toEqual([
      ['plain text', 'health'],
      ['out of range', undefined],
    ]);
  });

  it('finishSession("yes") and malformed options.exits are refused and the session stays open; getPerformanceStats({ label: 42 }) and { days: -1 } are refused', async () => {
    const dir = tempDir('procprobe-args-');
    const pm = tracked(new PerformanceMonitor({ dataDir: dir, nodeBootstrap: false }));
    const id = pm.startSession({ label: 'a' });
    await expectRejected(pm.finishSession('yes' as never), 'success', '"yes"');
    await expectRejected(pm.finishSession(true, { incomplete: 1 } as never), 'options.incomplete', '1');
    await expectRejected(pm.finishSession(true, 'x' as never), 'options', '"x"');
    await expectRejected(pm.finishSession(true, { exits: {} } as never), 'options.exits', 'an object');
    await expectRejected(pm.finishSession(true, { exits: [{ pid: 0, exitCode: 1, signal: null }] }), 'options.exits[0].pid', '0');
    await expectRejected(pm.finishSession(true, { exits: [{ pid: 5, exitCode: 256, signal: null }] }), 'options.exits[0].exitCode', '256');
    await expectRejected(pm.finishSession(true, { exits: [{ pid: 5, exitCode: 1, signal: 'SIGTERM' }] }), 'options.exits[0].signal', '"SIGTERM"');
    await expectRejected(pm.finishSession(true, { exits: [{ pid: 5, exitCode: null, signal: null }] }), 'options.exits[0].signal', 'null');
    await expectRejected(pm.finishSession(true, { exits: [{ pid: 5, exitCode: 0, signal: null, code: 0 }] } as never), 'options.exits[0].code', '0');
    expect(pm.currentSession?.id).toBe(id);
    await pm.finishSession(false);
    const [entry] = readIndex(dir);
    expect(entry).toMatchObject({ id, success: false, incomplete: false });
    await expectRejected(pm.getPerformanceStats({ label: 42 } as never), 'options.label', '42');
    await expectRejected(pm.getPerformanceStats({ days: -1 }), 'options.days', '-1');
    expect((await pm.getPerformanceStats({ label: 'a' })).sessionCount).toBe(1);
    expect((await pm.getPerformanceStats({ label: 'b' })).sessionCount).toBe(0);
  });

  it('a data dir that is not a path: new HistoryStore(42), a NUL in options.dataDir', () => {
    expectInvalidOption(() => new HistoryStore(42 as never), 'dir', '42');
    expectInvalidOption(() => new HistoryStore(undefined as never), 'dir', 'undefined');
    expectInvalidOption(() => new HistoryStore(''), 'dir', '""');
    expectInvalidOption(() => new HistoryStore('a\0b'), 'dir', JSON.stringify('a\0b'));
    expectInvalidOption(() => new PerformanceMonitor({ dataDir: 'a\0b' }), 'options.dataDir', JSON.stringify('a\0b'));
    expectInvalidOption(() => new PerformanceMonitor({ dataDir: 7 as never }), 'options.dataDir', '7');
  });
});

describe('gauges, probe rows and ring reads', () => {
  it('gauge("x").set("not a number") and add({}) are refused and leave the shared value as it was', () => {
    const m = new RealTimeMonitor({ eventLoop: false });
    const g = m.gauge('x');
    g.set(5);
    // The first gauge's value, read from the bytes: the gauges section starts at byte 192 (src/ring/layout.ts).
    const raw = (): number => new Float64Array(m.sharedBuffer, 192, 1)[0]!;
    expect(raw()).toBe(5);
    expectInvalidOption(() => g.set('not a number' as never), 'gauge x: value', '"not a number"');
    expectInvalidOption(() => g.set(undefined as never), 'gauge x: value', 'undefined');
    expectInvalidOption(() => g.add({} as never), 'gauge x: delta', 'an object');
    expect(raw()).toBe(5);
    g.add(2);
    expect(raw()).toBe(7);
  });

  it('rowToSample of a short row or a bad offset', () => {
    expectInvalidOption(() => rowToSample(null as never), 'row', 'null');
    expectInvalidOption(() => rowToSample(new Float64Array(FIELD_COUNT), 1), 'offset', '1');
    const row = new Float64Array(FIELD_COUNT).fill(3);
    expect(rowToSample(row).pid).toBe(3);
  });

  it('readSince(null), a bad cursor, readSince/readLatest into something not a Float64Array: refused, the cursor untouched', async () => {
    const sab = createRingBuffer(8);
    const reader = new RingReader(sab);
    const out = new Float64Array(8 * reader.stride);
    expectInvalidOption(() => reader.readSince(null as never, out), 'cursor', 'null');
    expectInvalidOption(() => reader.readSince(5 as never, out), 'cursor', '5');
    expectInvalidOption(() => reader.readSince({ next: -1, missed: 0 }, out), 'cursor.next', '-1');
    expectInvalidOption(() => reader.readSince({ next: 0 } as never, out), 'cursor.missed', 'undefined');
    const cursor = { next: 0, missed: 0 };
    expectInvalidOption(() => reader.readSince(cursor, null as never), 'out', 'null');
    expectInvalidOption(() => reader.readSince(cursor, [] as never), 'out', 'an array');
    expectInvalidOption(() => reader.readLatest(new Int32Array(64) as never), 'out', 'an Int32Array');
    expectInvalidOption(() => reader.readLatest(out, 1.5), 'count', '1.5');
    expectInvalidOption(() => reader.readLatest(out, -1), 'count', '-1');
    expect(cursor).toEqual({ next: 0, missed: 0 });
    expect(reader.readSince(cursor, out)).toBe(0);
    expect(reader.readLatest(out, 0)).toBe(0);
  });

  it('spawnNative: args that are not an array of strings, env values, cwd, newProcessGroup', () => {
    const cases: [Record<string, unknown>, string, string][] = [
      [{ command: 'true', args: 'x' }, 'options.args', '"x"'],
      [{ command: 'true', args: [1] }, 'options.args[0]', '1'],
      [{ command: 'true', args: ['a\0b'] }, 'options.args[0]', JSON.stringify('a\0b')],
      [{ command: 'true', argv0: 5 }, 'options.argv0', '5'],
      [{ command: 'true', env: { A: 1 } }, 'options.env.A', '1'],
      [{ command: 'true', env: 'A=1' }, 'options.env', '"A=1"'],
      [{ command: 'true', cwd: '' }, 'options.cwd', '""'],
      [{ command: 'true', newProcessGroup: 'yes' }, 'options.newProcessGroup', '"yes"'],
      [{ command: 42 }, 'options.command', '42'],
    ];
    for (const [opts, option, shown] of cases) expectInvalidOption(() => spawnNative(opts as never), option, shown);
  });
});

describe('the native baseline', () => {
  requireAddonFor('native');
  it('nativeBaselineNs(probe, -1) and (probe, 1.5): refused in JavaScript, in the class itself', () => {
    const probe = createProbe({ backend: 'native' });
    for (const [n, shown] of [[-1, '-1'], [1.5, '1.5'], ['10', '"10"'], [1e9, '1000000000']] as const) {
      const err = expectInvalidOption(() => nativeBaselineNs(probe, n as never), 'iterations', shown);
      expect(Object.getPrototypeOf(err)).toBe(InvalidOptionError.prototype);
    }
    expect(nativeBaselineNs(probe, 10)).toBeGreaterThan(0);
    probe.close();
  });
});
