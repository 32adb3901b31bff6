/**
 * Two processes writing sessions into one data dir at the same time
 * (test/fixtures/session-writer.mjs): every session loads intact and complete, with no warning.
 */
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { F, HistoryStore, RECORD } from '../dist/index.js';
import { killChildren, runJsonFixture } from './helpers/readers.js';
import { removeTempDirs, tempDir } from './helpers/temp-dirs.js';
import { has } from './helpers/optional-readers.js';

afterEach(async () => {
  await killChildren();
  removeTempDirs();
});

describe('concurrent writers', () => {
  it('two processes x 3 sessions in one data dir: 6 sessions, all complete, no warnings', async () => {
    const dataDir = tempDir('procprobe-hist-');
    const runs = await Promise.all(['left', 'right'].map((tag) => runJsonFixture('session-writer.mjs', [dataDir, tag, '3'], 25_000)));
    const written: { tag: string; pid: number; ids: string[] }[] = [];
    for (const r of runs) {
      expect(r.code, r.stderr).toBe(0);
      // Without the addon each child prints its one fallback notice (README); nothing else.
      const stderr = has('addon') ? r.stderr : r.stderr.replace(/^.*(PROCPROBE_FALLBACK|--trace-warnings).*\n/gm, '');
      expect(stderr).toBe('');
      written.push(r.lines[0] as (typeof written)[number]);
    }
    const store = new HistoryStore(dataDir);
    const { value, warnings } = await store.loadSummaries();
    expect(warnings).toEqual([]);
    const all = written.flatMap((w) => w.ids).sort();
    expect(new Set(all).size).toBe(6);
    expect(value.map((s) => s.id)).toEqual(all);
    const byTag = (tag: string) => value.filter((s) => s.metadata.tag === tag);
    const span = (tag: string) => [Math.min(...byTag(tag).map((s) => s.startTime)), Math.max(...byTag(tag).map((s) => s.endTime))];
    // They really overlapped in time: each one's first session started before the other's last ended.
    const [l0, l1] = span('left');
    const [r0, r1] = span('right');
    expect(l0! < r1! && r0! < l1!, 'the two writers ran at the same time').toBe(true);
    for (const s of value) {
      expect(s.incomplete).toBe(false);
      expect(s.success).toBe(true);
      expect(s.phases.map((p) => p.name)).toEqual(['load-config', 'connect']);
      expect(s.phases.every((p) => p.success && p.resources !== undefined)).toBe(true);
      const loaded = await store.loadSession(s.id);
      expect(loaded.warnings).toEqual([]);
      const l = loaded.value!;
      expect(l.inProgress).toBe(false);
      expect(l.summary).toEqual(s);
      // Each file is its own writer's (the pid the child printed), its samples one unbroken run.
      const w = written.find((x) => x.ids.includes(s.id))!;
      expect(l.header.writerPid).toBe(w.pid);
      expect(l.header.pid).toBe(w.pid);
      const { records, stride, count } = l.samples;
      expect(count).toBeGreaterThan(50);
      for (let i = 1; i < count; i++) {
        expect(records[i * stride + RECORD.SEQ]).toBe(records[(i - 1) * stride + RECORD.SEQ]! + 1);
        expect(records[i * stride + RECORD.ROW + F.timestamp]).toBeGreaterThan(records[(i - 1) * stride + RECORD.ROW + F.timestamp]!);
      }
      expect(records[(count - 1) * stride + RECORD.ROW + F.timestamp]).toBeGreaterThanOrEqual(s.endTime - 5);
    }
  });
});

describe('session ids across threads', () => {
  it('two threads of one process starting a session in the same ms get different ids', async () => {
    const { Worker } = await import('node:worker_threads');
    const { newSessionId } = await import('../dist/history/ids.js');
    const t = Date.UTC(2026, 11, 2, 12, 0, 0, 123);
    const store = new URL('../dist/history/ids.js', import.meta.url).href;
    const worker = new Worker(`import(${JSON.stringify(store)}).then((m) => require('node:worker_threads').parentPort.postMessage(m.newSessionId(${t})))`, { eval: true });
    const [fromWorker] = (await once(worker, 'message')) as [string];
    await worker.terminate();
    const fromMain = newSessionId(t);
    expect(fromWorker).not.toBe(fromMain);
    // Both sort by start time first: the same timestamp prefix.
    expect(fromWorker.slice(0, 19)).toBe(fromMain.slice(0, 19));
    expect(fromWorker).toMatch(/^20261202T120000123Z-[0-9a-z]+\.[0-9a-z]+-[0-9a-z]{3}$/);
  });
});
