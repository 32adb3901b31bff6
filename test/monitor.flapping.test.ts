/**
 * Alerts with the default options on a value that crosses the whole band (above the threshold,
 * below the clear level) at 1 kHz: a few alerts a second at most, not one per crossing. The
 * oracle is what this test set: the values are written to a gauge by this thread, and the
 * snapshots show how many crossings the sampler really recorded.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { RealTimeMonitor, type PerformanceSnapshot } from '../dist/index.js';
import { NO_DEFAULTS, watch } from './helpers/alert-watch.js';
import { sleep } from './helpers/readers.js';

let mon: RealTimeMonitor | undefined;
afterEach(async () => {
  await mon?.stop();
  mon = undefined;
});

const THRESHOLD = 100;

/** Crossings from at or below the clear level (90 with the default hysteresis 0.1) to over the threshold. */
function crossings(snaps: PerformanceSnapshot[]): number {
  let n = 0;
  let low = true;
  for (const s of snaps) {
    const v = s.customMetrics.flap;
    if (v === undefined) continue;
    if (low && v > THRESHOLD) {
      n++;
      low = false;
    } else if (v < THRESHOLD * 0.9) low = true;
  }
  return n;
}

/** A started 1 kHz monitor with the default alert options and one rule, flap > THRESHOLD, at 10 now. */
async function flapMonitor(capacity: number) {
  const m = (mon = new RealTimeMonitor({ samplingIntervalMs: 1, capacity, alerts: { ...NO_DEFAULTS, flap: THRESHOLD } }));
  const g = m.gauge('flap');
  g.set(10);
  const alerts = watch(m);
  await m.start();
  await sleep(50);
  return { m, g, ...alerts };
}

describe('alerts with default options', () => {
  it('a value crossing the band every millisecond for 3 s: one alert, cleared once a quiet second after it ends', async () => {
    const { m, g, raised, cleared } = await flapMonitor(8192);
    // setImmediate-paced: as fast as the loop turns, so that samples see both values.
    const t0 = Date.now();
    let high = true;
    while (Date.now() - t0 < 3000) {
      g.set(high ? 150 : 10);
      high = !high;
      const step = performance.now() + 1;
      while (performance.now() < step);
      await new Promise((r) => setImmediate(r));
    }
    g.set(10);
    const t1 = Date.now();
    await sleep(1300);
    await m.stop();
    const snaps = m.getRecentSnapshots(8192).filter((s) => s.timestamp >= t0 && s.customMetrics.flap !== undefined);
    const seen = crossings(snaps.filter((s) => s.timestamp <= t1));
    expect(seen, 'the sampler recorded the flapping').toBeGreaterThanOrEqual(300);
    expect(raised).toHaveLength(1);
    expect(raised[0]!.timestamp).toBeLessThanOrEqual(t0 + 50);
    expect(cleared).toHaveLength(1);
    // The quiet second starts at the first record below the clear level after the last one that
    // was not: under load that can be a few ms before this thread's t1 (the last low value was set
    // at the loop's last turn, whose setImmediate may be late), so the rule is checked against the
    // records it was given, and those records against what this thread set.
    const lastHigh = snaps.findLastIndex((s) => s.customMetrics.flap! >= THRESHOLD * 0.9);
    expect(snaps[lastHigh]!.timestamp, 'no high value recorded after it was set low').toBeLessThanOrEqual(t1 + 1);
    const quietFrom = snaps[lastHigh + 1]!.timestamp;
    const clearRecord = snaps.find((s) => s.timestamp - quietFrom >= 1000);
    expect(cleared[0]!.clearedAt).toBe(clearRecord!.timestamp);
    expect(quietFrom + 1000 - t1, 'the quiet second is timed from the end of the flapping').toBeGreaterThanOrEqual(1000 - 100);
  });

  it('a condition that comes back after quiet seconds raises each time it comes back', async () => {
    const { m, g, raised, cleared } = await flapMonitor(16_384);
    // 300 ms high, 1500 ms low, three times: three real conditions.
    const starts: number[] = [];
    for (let i = 0; i < 3; i++) {
      starts.push(Date.now());
      g.set(150);
      await sleep(300);
      g.set(10);
      await sleep(1500);
    }
    await m.stop();
    expect(raised).toHaveLength(3);
    expect(cleared).toHaveLength(3);
    // Each raised as its condition began, each cleared a quiet second after it ended.
    raised.forEach((a, i) => {
      expect(a.timestamp - starts[i]!).toBeGreaterThanOrEqual(-2);
      expect(a.timestamp - starts[i]!).toBeLessThan(100);
      expect(a.clearedAt! - (starts[i]! + 300)).toBeGreaterThanOrEqual(1000 - 2);
    });
  }, 15_000);
});
