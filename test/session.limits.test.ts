/**
 * Limits and lifecycle edges of PerformanceMonitor: sessions and samples kept in memory, a new
 * session started while the previous one is still finishing, and close() of one monitor while
 * another one computes stats. CPU is compared with process.cpuUsage() read here; sample counts on
 * disk with the file decoded by HistoryStore.
 *
 * Three tests are regressions of bugs this suite found (the comment above each says which).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { F, HistoryStore, PerformanceMonitor, RECORD, SessionStateError, type ProcprobeError } from '../dist/index.js';
import { sleep } from './helpers/readers.js';
import { burnCpu, closeMonitors, cpuMsSince, tracked, waitForSamples } from './helpers/session-helpers.js';
import { removeTempDirs, tempDir } from './helpers/temp-dirs.js';

afterEach(async () => {
  await closeMonitors();
  removeTempDirs();
});

describe('memory limits', () => {
  it('maxSessions: the newest finished sessions stay in memory, every one is on disk', async () => {
    const dataDir = tempDir('procprobe-hist-');
    const pm = tracked(new PerformanceMonitor({ dataDir, nodeBootstrap: false, maxSessions: 2 }));
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) {
      ids.push(pm.startSession());
      await pm.finishSession();
    }
    expect(pm.sessions.map((s) => s.id)).toEqual(ids.slice(2));
    const { value } = await new HistoryStore(dataDir).loadSummaries();
    expect(value.map((s) => s.id)).toEqual(ids);
  });

  it('maxSessionSamples: memory keeps that many samples, the file keeps them all', async () => {
    const dataDir = tempDir('procprobe-hist-');
    const pm = tracked(new PerformanceMonitor({ dataDir, nodeBootstrap: false, maxSessionSamples: 50 }));
    const id = pm.startSession();
    await waitForSamples(pm);
    await sleep(250);
    const s = await pm.finishSession();
    expect(s.samples!.count).toBe(50);
    const disk = (await new HistoryStore(dataDir).loadSession(id)).value!;
    expect(disk.samples.count).toBeGreaterThan(150);
    // The 50 in memory are the first 50 of the file (same sequence numbers and RSS).
    const seqRss = (r: Float64Array, stride: number, n: number) =>
      Array.from({ length: n }, (_, i) => [r[i * stride + RECORD.SEQ], r[i * stride + RECORD.ROW + F.rssBytes]]);
    expect(seqRss(disk.samples.records, disk.samples.stride, 50)).toEqual(seqRss(s.samples!.records, s.samples!.stride, 50));
  });

  // Regression: once the in-memory buffer held maxSessionSamples records, SessionBuffer.drain() drops
  // every later record, and #housekeep / finishSession compute resource deltas from that capped
  // copy. A timing after the cap gets no `resources` (although the file holds samples covering
  // it), and the whole session's `resources` stop at the cap (toTimestamp far before endTime,
  // cpuMs missing the later work); the summary written to the index inherits both. With the
  // defaults this hits any session longer than 2 minutes at 1 kHz.
  it('maxSessionSamples: a timing after the cap still gets its resource delta, the session delta reaches its end', async () => {
    const pm = tracked(new PerformanceMonitor({ dataDir: tempDir('procprobe-hist-'), nodeBootstrap: false, maxSessionSamples: 50 }));
    pm.startSession();
    await waitForSamples(pm);
    await sleep(200); // well past 50 samples at 1 kHz
    const id = pm.startTiming('late');
    const c0 = process.cpuUsage();
    burnCpu(20_000);
    const inside = cpuMsSince(c0);
    pm.finishTiming(id);
    await sleep(5);
    const s = await pm.finishSession();
    const late = s.timings.find((t) => t.name === 'late')!;
    expect(late.resources, 'the late timing has a resource delta').toBeDefined();
    expect(late.resources!.cpuMs).toBeGreaterThanOrEqual(inside - 0.5);
    expect(s.endTime - s.resources!.toTimestamp, 'the session delta reaches the end').toBeLessThan(50);
  });
});

describe('lifecycle edges', () => {
  // Regression: finishSession() set #session = null synchronously and then reads this.#buffer,
  // this.#writer, this.#pending and this.#session again after its awaits. A startSession() made
  // while the previous finish is still pending is accepted (no session is open), and then the old
  // finish stops the sampler the new session uses, takes the new session's buffer as its own
  // samples, moves its finished timings into the new session, and closes the new session's history
  // writer with the old summary; the new session's own finish then fails ("Cannot read properties
  // of null (reading 'close')", emitted as an 'error' event). Either refuse startSession while a
  // finish is pending (SessionStateError), or capture the per-session state in locals before the
  // first await and restart the sampler after the old finish has stopped it.
  it('startSession while the previous finishSession is pending: refused, or both sessions intact', async () => {
    const dataDir = tempDir('procprobe-hist-');
    const pm = tracked(new PerformanceMonitor({ dataDir, nodeBootstrap: false }));
    const errors: ProcprobeError[] = [];
    pm.on('error', (e) => errors.push(e));
    const a = pm.startSession({ n: 'a' });
    await waitForSamples(pm);
    await pm.timeOperation('a-work', () => sleep(30));
    const finishingA = pm.finishSession();
    let b: string | null = null;
    try {
      b = pm.startSession({ n: 'b' });
    } catch (err) {
      expect(err).toBeInstanceOf(SessionStateError);
    }
    const sa = await finishingA;
    expect(sa.id).toBe(a);
    expect(sa.timings.map((t) => t.name)).toEqual(['a-work']);
    expect(sa.resources).toBeDefined();
    if (b !== null) {
      await waitForSamples(pm);
      const before = pm.getResourceUsageSummary()!.samples;
      await sleep(100);
      expect(pm.getResourceUsageSummary()!.samples, 'the new session is still sampled').toBeGreaterThan(before + 20);
      await pm.timeOperation('b-work', () => sleep(10));
      const sb = await pm.finishSession();
      expect(sb.timings.map((t) => t.name)).toEqual(['b-work']);
    }
    expect(errors.map((e) => e.message)).toEqual([]);
    const { value, warnings } = await new HistoryStore(dataDir).loadSummaries();
    expect(warnings).toEqual([]);
    expect(value.map((s) => [s.id, s.incomplete])).toEqual([[a, false], ...(b ? [[b, false]] : [])]);
  });

  // Regression: close() called closeAnalysisPool(), which destroyed the one analysis pool shared by every
  // monitor of the process. Closing monitor B rejects monitor A's getPerformanceStats() in flight
  // with piscina's plain Error('Terminating worker thread') (not even a ProcprobeError). The pool
  // should be reference-counted by open monitors (or left to its idle timeout), so that close()
  // releases only what this monitor uses.
  it("closing one monitor does not break another monitor's getPerformanceStats in flight", async () => {
    const a = tracked(new PerformanceMonitor({ dataDir: tempDir('procprobe-hist-'), nodeBootstrap: false }));
    const b = tracked(new PerformanceMonitor({ dataDir: tempDir('procprobe-hist-'), nodeBootstrap: false }));
    const pending = a.getPerformanceStats({ days: 7 }).then(
      (s) => s,
      (e: unknown) => e as Error,
    );
    await b.close();
    const result = await pending;
    expect(result).not.toBeInstanceOf(Error);
    expect((result as { sessionCount: number }).sessionCount).toBe(0);
  });
});
