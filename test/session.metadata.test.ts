/**
 * startSession(metadata) refuses, before anything is written, every value the history file, the
 * exports or the writer's thread could not carry, with an InvalidOptionError naming the key; and
 * what it accepts comes back from disk as JSON would carry it (JSON.parse(JSON.stringify(m)) is the
 * independent reader here).
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { HistoryStore, InvalidOptionError, PerformanceMonitor } from '../dist/index.js';
import { thrown } from './helpers/readers.js';
import { closeMonitors, tracked } from './helpers/session-helpers.js';
import { removeTempDirs, tempDir } from './helpers/temp-dirs.js';

afterEach(async () => {
  await closeMonitors();
  removeTempDirs();
});

class Point {
  x = 1;
}

function circular(): Record<string, unknown> {
  const inner: Record<string, unknown> = { name: 'inner' };
  inner.self = inner;
  return { build: { inner } };
}

const deep = (levels: number): Record<string, unknown> => {
  let o: Record<string, unknown> = { leaf: true };
  for (let i = 0; i < levels; i++) o = { d: o };
  return o;
};

const BAD: [what: string, metadata: unknown, key: string, says: RegExp][] = [
  ['a function', { hook: () => 1 }, 'metadata.hook', /got a function/],
  ['a symbol', { s: Symbol('x') }, 'metadata.s', /got Symbol\(x\)/],
  ['a small bigint', { n: 5n }, 'metadata.n', /store it as a string.*got 5n/],
  ['a bigint past 2^64', { big: { n: 2n ** 64n } }, 'metadata.big.n', /got 18446744073709551616n/],
  ['a cycle', circular(), 'metadata.build.inner.self', /free of cycles \(this refers back to metadata\.build\.inner\)/],
  ['a Map', { m: new Map([[1, 2]]) }, 'metadata.m', /got a Map/],
  ['a Date', { when: new Date(0) }, 'metadata.when', /got a Date/],
  ['a class instance in an array', { points: [1, new Point()] }, 'metadata.points[1]', /got a Point/],
  ['a typed array', { bytes: new Uint8Array(4) }, 'metadata.bytes', /got a Uint8Array/],
  ['nesting 40 deep', deep(40), 'metadata' + '.d'.repeat(32), /nested at most 32 deep/],
  ['100 KiB of text', { log: 'x'.repeat(100 * 1024) }, 'metadata', /at most 65536 bytes when encoded \(this is 10\d{4}\)/],
  ['not an object', 'label', 'metadata', /must be a plain object, got "label"/],
  ['an array', ['a'], 'metadata', /must be a plain object, got an array/],
];

describe('startSession(metadata) is checked whole before anything is written', () => {
  for (const [what, metadata, key, says] of BAD) {
    it(`refuses ${what}, naming ${key}`, async () => {
      const dataDir = tempDir('procprobe-hist-');
      const pm = tracked(new PerformanceMonitor({ dataDir, nodeBootstrap: false }));
      const err = thrown(() => pm.startSession(metadata as Record<string, unknown>)) as InvalidOptionError;
      expect(err).toBeInstanceOf(InvalidOptionError);
      expect(err.code).toBe('ERR_PROCPROBE_INVALID_OPTION');
      expect(err.option).toBe(key);
      expect(err.message).toMatch(says);
      expect(err.message.startsWith(`${key} must be`)).toBe(true);
      // Nothing written, no session open: the next session starts and is saved.
      expect(pm.currentSession).toBeNull();
      expect(readdirSync(dataDir)).toEqual([]);
      pm.startSession({ ok: 1 });
      const s = await pm.finishSession(true);
      expect(s.saved).toBe(true);
      const listed = await new HistoryStore(dataDir).loadSummaries(0);
      expect(listed.value.map((x) => x.id)).toEqual([s.id]);
      expect(listed.warnings).toEqual([]);
    });
  }

  it('stores JSON-like metadata as JSON would carry it, copied at startSession', async () => {
    const dataDir = tempDir('procprobe-hist-');
    const pm = tracked(new PerformanceMonitor({ dataDir, nodeBootstrap: false }));
    const shared = { region: 'eu', zones: [1, 2] };
    const metadata: Record<string, unknown> = {
      app: 'api',
      version: '1.4.2',
      n: 3.5,
      flags: [true, false, null],
      nested: { a: { b: { c: 'd' } } },
      // The same object twice side by side is not a cycle.
      primary: shared,
      backup: shared,
      dropped: undefined,
      unicode: 'café ☕',
    };
    const expected = JSON.parse(JSON.stringify(metadata));
    const id = pm.startSession(metadata);
    shared.region = 'changed after start';
    metadata.app = 'changed after start';
    await pm.finishSession(true);
    const loaded = (await new HistoryStore(dataDir).loadSession(id)).value!;
    expect(loaded.header.metadata).toEqual(expected);
    expect(loaded.summary.metadata).toEqual(expected);
    expect(Object.keys(loaded.header.metadata)).not.toContain('dropped');
    expect(readdirSync(join(dataDir, 'sessions'))).toEqual([`${id}.pps`]);
  });
});
