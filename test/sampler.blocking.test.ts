/**
 * The sampler lives in a worker: a main thread blocked synchronously does not stop it. The block
 * is timed with Date.now() on the main thread (not by procprobe), and the CPU the main thread burns
 * while it spins is checked against process.resourceUsage().
 */
import { afterEach, describe, expect, it } from 'vitest';
import { RealTimeMonitor, type PerformanceSnapshot } from '../dist/index.js';
import { block, spin } from './helpers/monitor-readers.js';
import { sleep } from './helpers/readers.js';

let mon: RealTimeMonitor | undefined;
afterEach(async () => {
  await mon?.stop();
  mon = undefined;
});

function within(snaps: PerformanceSnapshot[], t0: number, t1: number): PerformanceSnapshot[] {
  return snaps.filter((s) => s.timestamp >= t0 && s.timestamp <= t1);
}

describe('a blocked main thread', () => {
  it('asleep for 2 s at 1 kHz: ~2,000 consecutive samples cover the block, readable afterwards', async () => {
    mon = new RealTimeMonitor({ samplingIntervalMs: 1, capacity: 5000 });
    await mon.start();
    await sleep(100);
    const missed0 = mon.stats.missedDeadlines;
    const t0 = Date.now();
    block(2000);
    const t1 = Date.now();
    const missed1 = mon.stats.missedDeadlines;
    expect(t1 - t0).toBeGreaterThanOrEqual(1990);

    const during = within(mon.getRecentSnapshots(5000), t0, t1);
    const msg = `${during.length} samples in ${t1 - t0} ms, missed deadlines ${missed1 - missed0}`;
    for (let i = 1; i < during.length; i++) {
      expect(during[i]!.seq, msg).toBe(during[i - 1]!.seq + 1);
      expect(during[i]!.timestamp, msg).toBeGreaterThan(during[i - 1]!.timestamp);
    }
    // The samples span the block: none of it is uncovered by more than 100 ms at either end.
    expect(during[0]!.timestamp - t0, msg).toBeLessThan(100);
    expect(t1 - during.at(-1)!.timestamp, msg).toBeLessThan(100);
    // ~1 per ms: at least 70 % of them on a loaded 2-core machine, never more than the deadlines.
    expect(during.length, msg).toBeGreaterThanOrEqual(1400);
    expect(during.length, msg).toBeLessThanOrEqual(t1 - t0 + 5);
    // Every deadline of the block was either sampled or counted as missed.
    expect(during.length + (missed1 - missed0), msg).toBeGreaterThanOrEqual(0.95 * (t1 - t0));
    // And the largest gap between two samples stays small.
    let gap = 0;
    for (let i = 1; i < during.length; i++) gap = Math.max(gap, during[i]!.timestamp - during[i - 1]!.timestamp);
    expect(gap, msg).toBeLessThan(250);
  });

  it('spinning for 1 s: the samples show the CPU burnt, as process.resourceUsage() counts it', async () => {
    mon = new RealTimeMonitor({ samplingIntervalMs: 1, capacity: 5000 });
    await mon.start();
    await sleep(50);
    const ru0 = process.resourceUsage();
    const t0 = Date.now();
    spin(1000);
    const t1 = Date.now();
    const ru1 = process.resourceUsage();
    const during = within(mon.getRecentSnapshots(5000), t0 + 1, t1 - 3);
    expect(during.length).toBeGreaterThanOrEqual(200);
    const a = during[0]!;
    const b = during.at(-1)!;
    const probeUs = b.cpuUserUs + b.cpuSystemUs - (a.cpuUserUs + a.cpuSystemUs);
    const ruUs = ru1.userCPUTime + ru1.systemCPUTime - (ru0.userCPUTime + ru0.systemCPUTime);
    // The samples are inside [ru0, ru1]: their CPU delta is at most getrusage's ...
    expect(probeUs).toBeLessThanOrEqual(ruUs);
    // ... and all of it but the edges [t0, a] and [b, t1] (at most 2 cores each) and the kernel's
    // lag in posting a thread's time running on another CPU (one 4 ms tick per busy thread, x2).
    const edgesMs = a.timestamp - t0 + (t1 - b.timestamp) + 2;
    expect(probeUs).toBeGreaterThanOrEqual(ruUs - 2 * edgesMs * 1e3 - 16_000);
    expect(ruUs).toBeGreaterThan(0);
  });
});
