/**
 * Retention (maxHistoryBytes, maxHistoryDays) and exportHistory/importHistory. Sizes are read
 * here with fs.statSync; old sessions are crafted here (msgpackr, the documented layout) and
 * brought in through importHistory, so their age does not depend on the code under test.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pack } from 'msgpackr';
import { afterEach, describe, expect, it } from 'vitest';
import { HistoryStore, PerformanceMonitor, ProcprobeError } from '../dist/index.js';
import { sleep } from './helpers/readers.js';
import {
  closeMonitors,
  craftedId,
  craftedSessionBytes,
  craftedSummary,
  tracked,
  waitForSamples,
  type CraftedSession,
} from './helpers/session-helpers.js';
import { removeTempDirs, tempDir } from './helpers/temp-dirs.js';

afterEach(async () => {
  await closeMonitors();
  removeTempDirs();
});

const DAY = 86_400_000;

function monitor(dataDir: string, opts: Record<string, number> = {}): PerformanceMonitor {
  return tracked(new PerformanceMonitor({ dataDir, nodeBootstrap: false, ...opts }));
}

async function session(pm: PerformanceMonitor, ms = 30): Promise<string> {
  const id = pm.startSession();
  await waitForSamples(pm);
  await pm.timeOperation('work', () => sleep(ms));
  await pm.finishSession();
  return id;
}

/** Bytes a session takes on disk (session file + index entry), read with fs. */
const onDisk = (dataDir: string, id: string) =>
  statSync(join(dataDir, 'sessions', `${id}.pps`)).size + statSync(join(dataDir, 'index', `${id}.ppi`)).size;
const idsOnDisk = (dataDir: string) => readdirSync(join(dataDir, 'sessions')).map((n) => n.replace(/\.pps$/, '')).sort();

function crafted(startTime: number, n: number): CraftedSession {
  return { id: craftedId(startTime, n), startTime, durationMs: 120, success: true, phases: [{ name: 'boot', startOffsetMs: 0, durationMs: 100, success: true }] };
}

/** An export document as exportHistory makes them, built here. */
const exportOf = (sessions: CraftedSession[]) =>
  pack({ format: 'procprobe-history', v: 1, sessions: sessions.map((s) => ({ id: s.id, data: craftedSessionBytes(s), index: pack(craftedSummary(s)) })) });

describe('retention', () => {
  it('maxHistoryBytes: the oldest sessions go first, the current one stays', async () => {
    const dataDir = tempDir('procprobe-hist-');
    const pm = monitor(dataDir);
    const [s1, s2, s3] = [await session(pm), await session(pm), await session(pm)];
    await pm.close();
    const size = Object.fromEntries([s1!, s2!, s3!].map((id) => [id, onDisk(dataDir, id)]));
    // Room for s2 and s3 but not s1 as well (the current session is not counted: it is kept).
    const limit = size[s2!]! + size[s3!]! + Math.floor(size[s1!]! / 2);
    const s4 = await session(monitor(dataDir, { maxHistoryBytes: limit }));
    expect(idsOnDisk(dataDir)).toEqual([s2, s3, s4]);
    expect(existsSync(join(dataDir, 'index', `${s1}.ppi`))).toBe(false);
    expect(size[s2!]! + size[s3!]!).toBeLessThanOrEqual(limit);
    // A limit of 0 bytes: everything but the current session goes.
    const s5 = await session(monitor(dataDir, { maxHistoryBytes: 0 }));
    expect(idsOnDisk(dataDir)).toEqual([s5]);
    expect(readdirSync(join(dataDir, 'index'))).toEqual([`${s5}.ppi`]);
    const { value, warnings } = await new HistoryStore(dataDir).loadSummaries();
    expect(warnings).toEqual([]);
    expect(value.map((s) => s.id)).toEqual([s5]);
  });

  it('maxHistoryDays: an imported 40-day-old session is removed, a 2-day-old one and the current one kept', async () => {
    const dataDir = tempDir('procprobe-hist-');
    const now = Date.now();
    const old = crafted(now - 40 * DAY, 1);
    const recent = crafted(now - 2 * DAY, 2);
    const pm = monitor(dataDir, { maxHistoryDays: 30 });
    expect(await pm.importHistory(exportOf([old, recent]))).toEqual({ imported: 2, skipped: 0 });
    expect(idsOnDisk(dataDir)).toEqual([old.id, recent.id]);
    const before = await new HistoryStore(dataDir).loadSummaries();
    expect(before.warnings).toEqual([]);
    expect(before.value.map((s) => s.startTime)).toEqual([old.startTime, recent.startTime]);
    // The crafted files are valid session files too.
    const file = await new HistoryStore(dataDir).loadSession(recent.id);
    expect(file.warnings).toEqual([]);
    expect(file.value!.summary).toEqual(before.value[1]);
    const current = await session(pm);
    expect(idsOnDisk(dataDir)).toEqual([recent.id, current]);
    expect(existsSync(join(dataDir, 'index', `${old.id}.ppi`))).toBe(false);
  });
});

describe('exportHistory / importHistory', () => {
  it('round trip into a fresh dir: the same files, summaries and samples; a second import skips them', async () => {
    const a = tempDir('procprobe-hist-');
    const pmA = monitor(a);
    const ids = [await session(pmA), await session(pmA)];
    const bytes = await pmA.exportHistory();
    expect(bytes).toBeInstanceOf(Uint8Array);
    const b = join(tempDir('procprobe-hist-'), 'fresh');
    const pmB = monitor(b);
    expect(await pmB.importHistory(bytes)).toEqual({ imported: 2, skipped: 0 });
    expect(idsOnDisk(b)).toEqual(ids);
    for (const id of ids) {
      for (const [dir, ext] of [['sessions', 'pps'], ['index', 'ppi']]) {
        const fa = readFileSync(join(a, dir!, `${id}.${ext}`));
        const fb = join(b, dir!, `${id}.${ext}`);
        expect(readFileSync(fb).equals(fa), `${dir}/${id}`).toBe(true);
        expect(statSync(fb).mode & 0o777).toBe(0o600);
      }
    }
    const [A, B] = [new HistoryStore(a), new HistoryStore(b)];
    const [sa, sb] = [await A.loadSummaries(), await B.loadSummaries()];
    expect(sb.warnings).toEqual([]);
    expect(sb.value).toEqual(sa.value);
    for (const id of ids) {
      const [la, lb] = [(await A.loadSession(id)).value!, (await B.loadSession(id)).value!];
      expect(lb.samples.count).toBe(la.samples.count);
      expect(Array.from(lb.samples.records)).toEqual(Array.from(la.samples.records));
    }
    expect(await pmB.importHistory(bytes)).toEqual({ imported: 0, skipped: 2 });
    // An export of B holds the same sessions as A's.
    const again = new HistoryStore(join(tempDir('procprobe-hist-'), 'again'));
    expect(await again.importHistory(await pmB.exportHistory())).toEqual({ imported: 2, skipped: 0 });
    expect((await again.loadSummaries()).value).toEqual(sa.value);
  });

  it('garbage is refused with ERR_PROCPROBE_HISTORY_FORMAT and writes nothing', async () => {
    const dir = join(tempDir('procprobe-hist-'), 'target');
    const pm = monitor(dir);
    const garbage: [string, Uint8Array][] = [
      ['random bytes', Uint8Array.from({ length: 512 }, (_, i) => (i * 73 + 11) & 0xff)],
      ['JSON text', Buffer.from(JSON.stringify({ format: 'procprobe-history', v: 1, sessions: [] }))],
      ['msgpack of another format', pack({ format: 'something-else', sessions: [] })],
      ['msgpack without sessions', pack({ format: 'procprobe-history', v: 1 })],
      ['empty', new Uint8Array(0)],
    ];
    for (const [what, bytes] of garbage) {
      const err = await pm.importHistory(bytes).then(() => null, (e: unknown) => e);
      expect(err, what).toBeInstanceOf(ProcprobeError);
      expect((err as ProcprobeError).code, what).toBe('ERR_PROCPROBE_HISTORY_FORMAT');
    }
    expect(existsSync(dir)).toBe(false);
  });

  it('an id that would leave the data dir is skipped', async () => {
    const root = tempDir('procprobe-hist-');
    const dir = join(root, 'data');
    const good = crafted(Date.now() - DAY, 3);
    const evil = { ...crafted(Date.now() - DAY, 4), id: '../../escaped' };
    const doc = pack({
      format: 'procprobe-history',
      v: 1,
      sessions: [good, evil].map((s) => ({ id: s.id, data: craftedSessionBytes(s), index: pack(craftedSummary(s)) })),
    });
    const store = new HistoryStore(dir);
    expect(await store.importHistory(doc)).toEqual({ imported: 1, skipped: 1 });
    expect(idsOnDisk(dir)).toEqual([good.id]);
    expect(readdirSync(root)).toEqual(['data']);
  });
});
