/**
 * The sample account of a finished session: what its figures rest on and what the ring's two
 * readers missed. The host thread is blocked for longer than the ring holds at 10 kHz, so the
 * memory drain (on this thread) misses records while the history writer (its own worker) does
 * not. Oracles: the two readers' counts must add up to the same span of the ring, the history
 * loader counts the file's records itself, and the session's CPU must agree with
 * process.cpuUsage() taken around it on this thread.
 */
import { statSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { HistoryStore, PerformanceMonitor, RingReader } from '../dist/index.js';
import { removeTempDirs, tempDir } from './helpers/temp-dirs.js';

afterAll(() => removeTempDirs());

/** Block this thread without burning CPU (the sampler worker needs the cores). */
function blockFor(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

describe('sample account', () => {
  it('a host thread blocked past the ring: memory misses records, the file has them, the figures come from the file', async () => {
    const dataDir = tempDir('procprobe-hist-');
    const pm = new PerformanceMonitor({ dataDir, resourceSamplingIntervalMs: 0.1, nodeBootstrap: false });
    try {
      const outer0 = process.cpuUsage();
      pm.startSession({ label: 'blocked' });
      await pm.samplingReady();
      const cpu0 = process.cpuUsage();
      // Blocked until the ring has wrapped (65,536 records: 6.6 s at 10 kHz, longer when a loaded
      // machine delays the sampler), read from the ring's own header: at least 9 s, at most 60.
      const ring = new RingReader(pm.sharedBuffer);
      const seq0 = ring.latestSeq();
      const t0 = performance.now();
      while (performance.now() - t0 < 9000 || (ring.latestSeq() - seq0 < ring.capacity + 2000 && performance.now() - t0 < 60_000)) blockFor(250);
      const cpu1 = process.cpuUsage(cpu0);
      const session = await pm.finishSession();
      const outer = process.cpuUsage(outer0);
      const a = session.sampleAccount!;
      expect(session.saved).toBe(true);
      expect(a.missedInMemory, JSON.stringify(a)).toBeGreaterThan(0);
      expect(a.missedInFile).toBe(0);
      expect(a.overflowed).toBe(false);
      // Both readers started at the session's first record and stopped at its last.
      expect(a.inMemory + a.missedInMemory).toBe(a.inFile);
      const store = new HistoryStore(dataDir);
      const loaded = (await store.loadSession(session.id)).value!;
      expect(loaded.samples.count).toBe(a.inFile);
      // The end record (of the figures recomputed from the file) went through the writer's own fd
      // before it closed: its byte count is the whole file.
      expect(a.fileBytes).toBe(statSync(store.sessionPath(session.id)).size);
      // The session's CPU, every thread of this process: at least the block's, at most what was
      // used from before startSession to after finishSession.
      expect(session.resources!.cpuMs).toBeGreaterThanOrEqual((cpu1.user + cpu1.system) / 1000 - 2);
      expect(session.resources!.cpuMs).toBeLessThanOrEqual((outer.user + outer.system) / 1000 + 1);
    } finally {
      await pm.close();
    }
  }, 120_000);

  it('an unhurried session: nothing missed, memory and file hold the same records', async () => {
    const dataDir = tempDir('procprobe-hist-');
    const pm = new PerformanceMonitor({ dataDir, nodeBootstrap: false });
    try {
      pm.startSession();
      await new Promise((r) => setTimeout(r, 200));
      const session = await pm.finishSession();
      const a = session.sampleAccount!;
      expect(a).toMatchObject({ missedInMemory: 0, missedInFile: 0, overflowed: false });
      expect(a.inMemory).toBe(session.samples!.count);
      const loaded = (await new HistoryStore(dataDir).loadSession(session.id)).value!;
      expect(loaded.samples.count).toBe(a.inMemory);
      expect(a.inFile).toBe(a.inMemory);
      expect(a.fileBytes).toBe(statSync(new HistoryStore(dataDir).sessionPath(session.id)).size);
    } finally {
      await pm.close();
    }
  });
});
