/**
 * The host's event-loop figures see every block: this thread is blocked for 50 ms, 500 ms and
 * 3 s with a busy loop, timed here with Date.now() (the oracle), and the snapshots around it
 * must show a delay of about that length — while it lasts (records the sampler worker wrote
 * during the block) and in the window after it — with utilisation at 1 once a whole
 * housekeeping window was blocked.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { RealTimeMonitor, type PerformanceSnapshot } from '../dist/index.js';
import { sleep } from './helpers/readers.js';

let mon: RealTimeMonitor | undefined;
afterEach(async () => {
  await mon?.stop();
  mon = undefined;
});

/** Block this thread for `ms` of wall time; returns the block as Date.now() saw it. */
function block(ms: number): { from: number; to: number } {
  const from = Date.now();
  const t0 = performance.now();
  while (performance.now() - t0 < ms);
  return { from, to: Date.now() };
}

const BEAT_MS = 10; // the documented beat: a block shows as at least its length less this
const WINDOW_MS = 100; // the default housekeeping window at samplingIntervalMs 1

describe('eventLoopDelayMs and eventLoopUtilization', () => {
  for (const ms of [50, 500, 3000]) {
    it(`a ${ms} ms block shows as a ${ms} ms delay, during and right after it`, async () => {
      const m = (mon = new RealTimeMonitor({ samplingIntervalMs: 1, capacity: 16_384 }));
      await m.start();
      await sleep(300); // a few housekeeping windows before
      const b = block(ms);
      await sleep(250); // two windows after
      const snaps = m.getRecentSnapshots(16_384);
      const pick = (lo: number, hi: number): PerformanceSnapshot[] => snaps.filter((s) => s.timestamp >= lo && s.timestamp <= hi);
      const during = pick(b.from, b.to);
      const after = pick(b.to, b.to + 200);
      const lasted = b.to - b.from;
      expect(during.length, 'the sampler kept sampling through the block').toBeGreaterThan(ms / 4);
      const duringMax = Math.max(...during.map((s) => s.eventLoopDelayMs));
      // While blocked, the last beat ages with every record: at its end, about the whole block.
      expect(duringMax).toBeGreaterThanOrEqual(lasted - BEAT_MS - 5);
      expect(duringMax).toBeLessThanOrEqual(lasted + 5);
      // After it, the window's worst lateness is the block.
      const afterMax = Math.max(...after.map((s) => s.eventLoopDelayMs));
      expect(afterMax).toBeGreaterThanOrEqual(lasted - BEAT_MS - 5);
      expect(afterMax).toBeLessThanOrEqual(lasted + 50);
      if (ms >= 500) {
        // A housekeeping window (100 ms) entirely inside the block was all busy.
        expect(Math.max(...during.map((s) => s.eventLoopUtilization))).toBe(1);
        // The first window after it holds the block and at most one window (100 ms) of the
        // idle loop before it: busy for at least lasted / (lasted + 100) of it.
        expect(Math.max(...after.map((s) => s.eventLoopUtilization))).toBeGreaterThanOrEqual(lasted / (lasted + WINDOW_MS) - 0.02);
      }
      // And once the loop runs freely again, the figure comes back down: within 2 s, a record
      // under half the block (a loaded machine delays the free loop too, by tens of ms at load 15).
      let last = m.getRecentSnapshots(1)[0]!.eventLoopDelayMs;
      for (const until = Date.now() + 2000; last >= ms / 2 && Date.now() < until; ) {
        await sleep(50);
        last = m.getRecentSnapshots(1)[0]!.eventLoopDelayMs;
      }
      expect(last).toBeLessThan(ms / 2);
    });
  }

  it('eventLoop: false measures nothing (NaN), and the three gauge slots are not taken', async () => {
    const m = (mon = new RealTimeMonitor({ samplingIntervalMs: 1, eventLoop: false }));
    await m.start();
    await sleep(50);
    const s = m.getRecentSnapshots(1)[0]!;
    expect(s.eventLoopDelayMs).toBeNaN();
    expect(s.eventLoopUtilization).toBeNaN();
    expect(Object.keys(s.customMetrics)).toEqual([]);
  });
});
