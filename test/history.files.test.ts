/**
 * What finishSession leaves on disk: the layout and its modes (fs.statSync), the session file
 * read back by HistoryStore against the samples the session held in memory (decode round trip,
 * within the format's quantization), the raw records decoded here with msgpackr itself, the index,
 * and the size of the file against the same session as JSON.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { HistoryStore, PerformanceMonitor, RECORD, F } from '../dist/index.js';
import { sleep } from './helpers/readers.js';
import { burnCpu, closeMonitors, rawRecords, tracked, waitForSamples } from './helpers/session-helpers.js';
import { removeTempDirs, tempDir } from './helpers/temp-dirs.js';

afterEach(async () => {
  await closeMonitors();
  removeTempDirs();
});

const mode = (p: string) => statSync(p).mode & 0o777;

async function recordedSession(dataDir: string, ms = 300) {
  const pm = tracked(new PerformanceMonitor({ dataDir, nodeBootstrap: false }));
  const id = pm.startSession({ label: 'files', n: 1 });
  await waitForSamples(pm);
  const outer = pm.startTiming('outer');
  await pm.timeOperation('inner', () => burnCpu(5000));
  pm.finishTiming(outer);
  pm.recordError('disk slow', 'outer');
  const until = performance.now() + ms;
  while (performance.now() < until) {
    burnCpu(2000);
    await sleep(5);
  }
  const session = await pm.finishSession(true);
  return { pm, id, session };
}

describe('history files', () => {
  it('sessions/<id>.pps and index/<id>.ppi, files 0600 in dirs 0700', async () => {
    const dataDir = join(tempDir('procprobe-hist-'), 'data'); // not there yet: the monitor creates it
    const { id } = await recordedSession(dataDir, 50);
    expect(mode(dataDir)).toBe(0o700);
    expect(mode(join(dataDir, 'sessions'))).toBe(0o700);
    expect(mode(join(dataDir, 'index'))).toBe(0o700);
    expect(readdirSync(dataDir).sort()).toEqual(['index', 'sessions']);
    expect(readdirSync(join(dataDir, 'sessions'))).toEqual([`${id}.pps`]);
    expect(readdirSync(join(dataDir, 'index'))).toEqual([`${id}.ppi`]); // no temp file left behind
    expect(mode(join(dataDir, 'sessions', `${id}.pps`))).toBe(0o600);
    expect(mode(join(dataDir, 'index', `${id}.ppi`))).toBe(0o600);
  });

  it('loadSession returns the samples the session held, within the format quantization', async () => {
    const dataDir = tempDir('procprobe-hist-');
    const { id, session } = await recordedSession(dataDir);
    const store = new HistoryStore(dataDir);
    const { value, warnings } = await store.loadSession(id);
    expect(warnings).toEqual([]);
    const loaded = value!;
    expect(loaded.inProgress).toBe(false);
    expect(loaded.header).toMatchObject({ id, pid: process.pid, writerPid: process.pid, intervalMs: 1, metadata: { label: 'files', n: 1 } });
    const mem = session.samples!;
    const disk = loaded.samples;
    expect(mem.count).toBeGreaterThan(100);
    expect(disk.count).toBe(mem.count);
    expect(disk.stride).toBe(mem.stride);
    const at = (s: typeof mem, i: number, f: number) => s.records[i * s.stride + RECORD.ROW + f]!;
    for (let i = 0; i < mem.count; i++) {
      expect(disk.records[i * disk.stride + RECORD.SEQ]).toBe(mem.records[i * mem.stride + RECORD.SEQ]);
      expect(Math.abs(at(disk, i, F.timestamp) - at(mem, i, F.timestamp)), `timestamp ${i}`).toBeLessThanOrEqual(0.0011); // 1 µs
      expect(at(disk, i, F.rssBytes), `rss ${i}`).toBe(at(mem, i, F.rssBytes));
      expect(Math.abs(at(disk, i, F.cpuPercent) - at(mem, i, F.cpuPercent)), `cpu% ${i}`).toBeLessThanOrEqual(0.0051); // 0.01 %
      expect(Math.abs(at(disk, i, F.cpuUserUs) - at(mem, i, F.cpuUserUs))).toBeLessThanOrEqual(0.5);
      expect(at(disk, i, F.threads)).toBe(at(mem, i, F.threads));
      expect(at(disk, i, F.openFds)).toBe(at(mem, i, F.openFds));
      expect(at(disk, i, F.pid)).toBe(process.pid);
    }
    // The summary in the file is the session's own.
    // As plain data on both sides; NaN (a figure not measured, e.g. PSS off Linux or not read) kept as NaN.
    const plain = (v: unknown): unknown => JSON.parse(JSON.stringify(v, (_k, x) => (Number.isNaN(x) ? 'NaN' : x)));
    expect(plain(loaded.summary)).toEqual(plain(session.toSummary()));
    expect(loaded.summary.phases.map((p) => p.name)).toEqual(['inner', 'outer']);
    expect(loaded.summary.errors).toEqual([expect.objectContaining({ message: 'disk slow', operation: 'outer' })]);
  });

  it('the raw file: a header, sample chunks, timings with their parent, the error, an end record', async () => {
    const dataDir = tempDir('procprobe-hist-');
    const { id, session } = await recordedSession(dataDir, 50);
    const recs = rawRecords(join(dataDir, 'sessions', `${id}.pps`));
    expect(recs[0]).toMatchObject({ t: 'H', format: 'procprobe-session', v: 3, id });
    expect(recs.at(-1)).toMatchObject({ t: 'Z', summary: { id, success: true, incomplete: false } });
    const chunks = recs.filter((r) => r.t === 'S');
    expect(chunks.reduce((a, r) => a + (r.n as number), 0)).toBe(session.samples!.count);
    const timings = recs.filter((r) => r.t === 'T');
    const outer = timings.find((r) => r.name === 'outer')!;
    const inner = timings.find((r) => r.name === 'inner')!;
    expect(outer.parentId).toBeUndefined();
    expect(inner.parentId).toBe(outer.id);
    expect(recs.filter((r) => r.t === 'E')).toEqual([expect.objectContaining({ message: 'disk slow', operation: 'outer' })]);
  });

  it('loadSummaries lists finished sessions (not one in progress); loadSession sees the one in progress as such', async () => {
    const dataDir = tempDir('procprobe-hist-');
    const { pm, id } = await recordedSession(dataDir, 20);
    const open = pm.startSession();
    await waitForSamples(pm);
    const store = new HistoryStore(dataDir);
    // The writer worker creates the file once it has started, then appends every flushIntervalMs
    // (250 ms by default) while the session is open.
    const deadline = Date.now() + 10_000;
    let live = await store.loadSession(open);
    while ((live.value?.samples.count ?? 0) === 0 && Date.now() < deadline) {
      await sleep(50);
      live = await store.loadSession(open);
    }
    expect(live.warnings).toEqual([]);
    expect(live.value!.inProgress).toBe(true);
    expect(live.value!.summary.incomplete).toBe(true);
    expect(live.value!.samples.count).toBeGreaterThan(0);
    const during = await store.loadSummaries();
    expect(during.warnings).toEqual([]);
    expect(during.value.map((s) => s.id)).toEqual([id]);
    await pm.finishSession();
    const after = await store.loadSummaries();
    expect(after.value.map((s) => s.id)).toEqual([id, open]);
    expect(after.value.every((s) => !s.incomplete)).toBe(true);
    // sinceMs filters by start time.
    expect((await store.loadSummaries(after.value[1]!.startTime)).value.map((s) => s.id)).toEqual([open]);
  });

  it('a session file is at least 3x smaller than the same session as JSON', async () => {
    const dataDir = tempDir('procprobe-hist-');
    const { id, session } = await recordedSession(dataDir, 1000);
    const fileBytes = statSync(join(dataDir, 'sessions', `${id}.pps`)).size;
    const json = JSON.stringify({ ...session.toSummary(), samples: session.getSamples() });
    const jsonBytes = Buffer.byteLength(json);
    const ratio = jsonBytes / fileBytes;
    console.log(`[size] ${session.samples!.count} samples: JSON ${jsonBytes} B, session file ${fileBytes} B, ratio ${ratio.toFixed(2)}`);
    expect(session.samples!.count).toBeGreaterThan(300);
    expect(ratio).toBeGreaterThanOrEqual(3);
  });
});
