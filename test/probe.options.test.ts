/**
 * Argument checking and the probe lifecycle: typed errors with stable codes and exact messages,
 * InvalidOptionError (the class, on every tier) for a row that cannot hold a sample, ClosedError after close(), close() idempotent,
 * and the kept-open kernel files released (counted in /proc/self/fd, read here).
 */
import { readdirSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ClosedError,
  createProbe,
  F,
  FIELD_COUNT,
  InvalidOptionError,
  ProbeStatus,
  ProcprobeError,
  type Probe,
  type ProbeOptions,
} from '../dist/index.js';
import { thrown } from './helpers/readers.js';
import { requireAddonFor } from './helpers/optional-readers.js';
import { expectInvalidOption } from './helpers/errors.js';

const BACKENDS = "one of 'auto', 'native', 'fallback', 'builtin', 'systeminformation'";

describe('createProbe option checks', () => {
  const cases: [unknown, string, string][] = [
    [{ pid: -3 }, 'options.pid', 'options.pid must be a positive integer, got -3'],
    [{ pid: 1.5 }, 'options.pid', 'options.pid must be a positive integer, got 1.5'],
    [{ pid: 'abc' }, 'options.pid', 'options.pid must be a positive integer, got "abc"'],
    [{ pid: 0 }, 'options.pid', 'options.pid must be a positive integer, got 0'],
    [{ pid: NaN }, 'options.pid', 'options.pid must be a positive integer, got NaN'],
    [{ pid: 2 ** 31 }, 'options.pid', `options.pid must be a positive integer, got ${2 ** 31}`],
    [{ backend: 'bogus' }, 'options.backend', `options.backend must be ${BACKENDS}, got "bogus"`],
    [{ backend: 1 }, 'options.backend', `options.backend must be ${BACKENDS}, got 1`],
    [{ countsIntervalMs: -1 }, 'options.countsIntervalMs', 'options.countsIntervalMs must be a number from 0 to 86400000, got -1'],
    [{ countsIntervalMs: NaN }, 'options.countsIntervalMs', 'options.countsIntervalMs must be a number from 0 to 86400000, got NaN'],
    [{ countsIntervalMs: '20' }, 'options.countsIntervalMs', 'options.countsIntervalMs must be a number from 0 to 86400000, got "20"'],
    [null, 'options', 'options must be an object, got null'],
    ['pid', 'options', 'options must be an object, got "pid"'],
  ];
  it.each(cases)('%j -> InvalidOptionError', (options, option, message) => {
    const err = thrown(() => createProbe(options as ProbeOptions));
    expect(err).toBeInstanceOf(InvalidOptionError);
    expect(err).toBeInstanceOf(ProcprobeError);
    const e = err as InvalidOptionError;
    expect(e.code).toBe('ERR_PROCPROBE_INVALID_OPTION');
    expect(e.name).toBe('InvalidOptionError');
    expect(e.option).toBe(option);
    expect(e.message).toBe(message);
  });

  it('checks options before touching the system (no fd opened by a rejected call)', () => {
    const before = readdirSync('/proc/self/fd').length;
    for (let i = 0; i < 50; i++) thrown(() => createProbe({ pid: -3 }));
    expect(readdirSync('/proc/self/fd').length).toBe(before);
  });
});

describe.each(['native', 'builtin'] as const)('sampleInto rows and close() (%s)', (backend) => {
  requireAddonFor(backend);
  let probe: Probe | undefined;
  afterEach(() => probe?.close());

  it('throws InvalidOptionError naming row or offset for a row too short, not a Float64Array, or a bad offset, and writes nothing', () => {
    probe = createProbe({ backend });
    const p = probe;
    const short = new Float64Array(FIELD_COUNT - 1).fill(-1);
    expectInvalidOption(() => p.sampleInto(short), 'row', 'a Float64Array');
    expect([...short].every((v) => v === -1)).toBe(true);
    for (const [bad, shown] of [[null, 'null'], [new Int32Array(2 * FIELD_COUNT), 'an Int32Array'], [[0, 1], 'an array'], ['row', '"row"']] as const) {
      expectInvalidOption(() => p.sampleInto(bad as never), 'row', shown);
    }
    const row = new Float64Array(2 * FIELD_COUNT).fill(-1);
    for (const offset of [-1, 1.5, NaN, FIELD_COUNT + 1, 2 * FIELD_COUNT, Infinity]) {
      const err = expectInvalidOption(() => p.sampleInto(row, offset), 'offset', String(offset));
      // Not the addon's TypeError/RangeError: the class itself, as on the builtin tier.
      expect(Object.getPrototypeOf(err)).toBe(InvalidOptionError.prototype);
      expect(err.message).toContain(`from 0 to ${FIELD_COUNT}`);
    }
    expectInvalidOption(() => p.sampleInto(row, '0' as never), 'offset', '"0"');
    expect([...row].every((v) => v === -1)).toBe(true);
  });

  it('writes exactly FIELD_COUNT slots at the offset', () => {
    probe = createProbe({ backend });
    const row = new Float64Array(3 * FIELD_COUNT).fill(-1);
    expect(probe.sampleInto(row, FIELD_COUNT)).toBe(ProbeStatus.OK);
    expect(row.subarray(0, FIELD_COUNT).every((v) => v === -1)).toBe(true);
    expect(row.subarray(2 * FIELD_COUNT).every((v) => v === -1)).toBe(true);
    expect(row[FIELD_COUNT + F.pid]).toBe(process.pid);
    expect(row[FIELD_COUNT + F.threads]).toBe(readdirSync('/proc/self/task').length);
    // The last full row of the array is allowed.
    expect(probe.sampleInto(row, 2 * FIELD_COUNT)).toBe(ProbeStatus.OK);
    expect(row[2 * FIELD_COUNT + F.pid]).toBe(process.pid);
  });

  it('throws ClosedError after close(); close() is idempotent and releases its fds', async () => {
    const count = () => readdirSync('/proc/self/fd').length;
    const baseline = count();
    const p = createProbe({ backend });
    expect(count()).toBeGreaterThan(baseline);
    expect(p.closed).toBe(false);
    p.close();
    expect(p.closed).toBe(true);
    expect(count()).toBe(baseline);
    p.close();
    p.close();
    expect(p.closed).toBe(true);
    expect(count()).toBe(baseline);

    for (const call of [() => p.sampleSync(), () => p.sampleInto(new Float64Array(FIELD_COUNT), 0)]) {
      const err = thrown<Error>(call);
      expect(err).toBeInstanceOf(ClosedError);
      expect((err as ClosedError).code).toBe('ERR_PROCPROBE_CLOSED');
      expect((err as Error).message).toBe(`probe of pid ${process.pid} is closed`);
    }
    await expect(p.sample()).rejects.toBeInstanceOf(ClosedError);
    // Other probes are unaffected by closing this one.
    probe = createProbe({ backend });
    expect(probe.sampleSync().pid).toBe(process.pid);
  });
});

describe('systeminformation tier after close()', () => {
  it('rejects sample() with ClosedError', async () => {
    const p = createProbe({ backend: 'systeminformation' });
    p.close();
    p.close();
    await expect(p.sample()).rejects.toMatchObject({ code: 'ERR_PROCPROBE_CLOSED' });
  });
});
