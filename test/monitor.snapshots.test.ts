/**
 * Snapshots of this process: the seed's fields beside the ProcessSample ones, order and bounds of
 * getRecentSnapshots, values against readers procprobe does not own (process.memoryUsage.rss(),
 * process.resourceUsage(), /proc/self/statm, /proc/self/task, /proc/meminfo), and
 * getAverageMetrics against a manual average over the same window.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { RealTimeMonitor, type PerformanceSnapshot } from '../dist/index.js';
import { memTotalBytes, MiB, selfThreads, spinUntil, statmRss } from './helpers/monitor-readers.js';
import { sleep, waitFor } from './helpers/readers.js';

const SEED_FIELDS = ['timestamp', 'cpuPercent', 'memoryMb', 'memoryPercent', 'openFiles', 'threads', 'contextSwitches', 'customMetrics'];
const SAMPLE_FIELDS = [
  'pid', 'timestamp', 'cpuUserUs', 'cpuSystemUs', 'cpuPercent', 'rssBytes', 'vmsBytes', 'memoryPercent', 'openFds', 'threads',
  'voluntaryContextSwitches', 'involuntaryContextSwitches', 'minorPageFaults', 'majorPageFaults', 'startTime',
];

let mon: RealTimeMonitor | undefined;
afterEach(async () => {
  await mon?.stop();
  mon = undefined;
});

async function started(opts: ConstructorParameters<typeof RealTimeMonitor>[0]): Promise<RealTimeMonitor> {
  mon = new RealTimeMonitor(opts);
  await mon.start();
  return mon;
}

describe('RealTimeMonitor snapshots', () => {
  it('getRecentSnapshots(count): at most count, oldest first, consecutive seq, increasing timestamps, seed + sample fields', async () => {
    const m = await started({ samplingIntervalMs: 2, capacity: 500 });
    await waitFor('120 samples', () => (m.reader.latestSeq() >= 120 ? true : undefined));
    const before = m.reader.latestSeq();
    const snaps = m.getRecentSnapshots(10);
    expect(snaps).toHaveLength(10);
    expect(snaps.at(-1)!.seq).toBeGreaterThanOrEqual(before);
    for (let i = 1; i < snaps.length; i++) {
      expect(snaps[i]!.seq).toBe(snaps[i - 1]!.seq + 1);
      expect(snaps[i]!.timestamp).toBeGreaterThan(snaps[i - 1]!.timestamp);
    }
    expect(m.getRecentSnapshots(0)).toEqual([]);
    expect(m.getRecentSnapshots().length).toBe(100); // the seed's default count
    const total = m.reader.latestSeq() + 1;
    const many = m.getRecentSnapshots(100_000);
    expect(many.length).toBeGreaterThanOrEqual(Math.min(500, total));
    expect(many.length).toBeLessThanOrEqual(500); // capacity

    const s = snaps.at(-1)!;
    for (const f of [...SEED_FIELDS, ...SAMPLE_FIELDS]) expect(s, f).toHaveProperty(f);
    for (const f of SAMPLE_FIELDS) expect(typeof (s as unknown as Record<string, unknown>)[f], f).toBe('number');
    expect(s.pid).toBe(process.pid);
    expect(s.status).toBe(0);
    expect(s.memoryMb).toBe(s.rssBytes / 1048576);
    expect(s.openFiles).toBe(s.openFds);
    expect(s.contextSwitches).toBe(s.voluntaryContextSwitches + s.involuntaryContextSwitches);
    expect(s.memoryPercent).toBeCloseTo((s.rssBytes / memTotalBytes()) * 100, 6);
    expect(s.customMetrics).toEqual({});
  });

  it('rss, CPU, context switches and page faults lie between independent readings taken before and after', async () => {
    const m = await started({ samplingIntervalMs: 2, capacity: 1000 });
    await sleep(50);
    const ru1 = process.resourceUsage();
    const rss1 = [process.memoryUsage.rss(), statmRss('self')];
    const threads1 = selfThreads();
    const t1 = Date.now();
    const seq0 = m.reader.latestSeq();
    spinUntil('8 new samples', () => m.reader.latestSeq() >= seq0 + 8);
    const t2 = Date.now();
    const rss2 = [process.memoryUsage.rss(), statmRss('self')];
    const threads2 = selfThreads();
    const ru2 = process.resourceUsage();

    // A sample stamped after t1 + 1 read the kernel after ru1; one stamped before t2 - 3, before ru2.
    const inside = m.getRecentSnapshots(200).filter((s) => s.timestamp >= t1 + 1 && s.timestamp <= t2 - 3);
    expect(inside.length, `samples within [${t1}, ${t2}]`).toBeGreaterThan(0);
    const lo = Math.min(...rss1, ...rss2) - 2 * MiB;
    const hi = Math.max(...rss1, ...rss2) + 2 * MiB;
    for (const s of inside) {
      const msg = JSON.stringify({ s, ru1, ru2, rss1, rss2 });
      expect(s.cpuUserUs, msg).toBeGreaterThanOrEqual(ru1.userCPUTime);
      expect(s.cpuUserUs, msg).toBeLessThanOrEqual(ru2.userCPUTime);
      expect(s.cpuSystemUs, msg).toBeGreaterThanOrEqual(ru1.systemCPUTime);
      expect(s.cpuSystemUs, msg).toBeLessThanOrEqual(ru2.systemCPUTime);
      expect(s.voluntaryContextSwitches, msg).toBeGreaterThanOrEqual(ru1.voluntaryContextSwitches);
      expect(s.voluntaryContextSwitches, msg).toBeLessThanOrEqual(ru2.voluntaryContextSwitches);
      expect(s.involuntaryContextSwitches, msg).toBeGreaterThanOrEqual(ru1.involuntaryContextSwitches);
      expect(s.involuntaryContextSwitches, msg).toBeLessThanOrEqual(ru2.involuntaryContextSwitches);
      expect(s.minorPageFaults, msg).toBeGreaterThanOrEqual(ru1.minorPageFault);
      expect(s.minorPageFaults, msg).toBeLessThanOrEqual(ru2.minorPageFault);
      expect(s.rssBytes, msg).toBeGreaterThanOrEqual(lo);
      expect(s.rssBytes, msg).toBeLessThanOrEqual(hi);
      expect(s.threads, msg).toBeGreaterThanOrEqual(Math.min(threads1, threads2));
      expect(s.threads, msg).toBeLessThanOrEqual(Math.max(threads1, threads2));
    }
  });

  it('getAverageMetrics(durationMs) averages only the records in the window, like a manual average', async () => {
    const ru0 = process.resourceUsage();
    const m = await started({ samplingIntervalMs: 5, capacity: 2000 });
    await sleep(200);
    const ballast = Buffer.alloc(48 * MiB, 1); // rss steps up: the window's average differs from the run's
    const mid = Date.now();
    await sleep(200);
    await m.stop();
    const ru1 = process.resourceUsage();
    expect(ballast[ballast.length - 1]).toBe(1);

    const all = m.getRecentSnapshots(2000).filter((s) => s.status === 0);
    expect(all.length).toBeGreaterThan(20);
    const manual = (list: PerformanceSnapshot[]) => {
      const mean = (f: (s: PerformanceSnapshot) => number) => list.reduce((a, s) => a + f(s), 0) / list.length;
      const a = list[0]!;
      const b = list.at(-1)!;
      const cpu = (s: PerformanceSnapshot) => s.cpuUserUs + s.cpuSystemUs;
      return {
        avgCpuPercent: ((cpu(b) - cpu(a)) / ((b.timestamp - a.timestamp) * 1e3)) * 100,
        avgMemoryMb: mean((s) => s.memoryMb),
        avgMemoryPercent: mean((s) => s.memoryPercent),
        avgOpenFiles: mean((s) => s.openFiles),
        avgThreads: mean((s) => s.threads),
        samples: list.length,
      };
    };
    // The window is decided by Date.now() inside the call: take the one whose bounds agree.
    for (let attempt = 0; ; attempt++) {
      const duration = Date.now() - mid;
      const tBefore = Date.now();
      const got = m.getAverageMetrics(duration);
      const tAfter = Date.now();
      const wide = all.filter((s) => s.timestamp >= tBefore - duration);
      const narrow = all.filter((s) => s.timestamp >= tAfter - duration);
      if (wide.length !== narrow.length) {
        if (attempt > 20) throw new Error('the window edge kept falling on a record');
        continue;
      }
      expect(narrow.length).toBeGreaterThan(5);
      expect(narrow.length).toBeLessThan(all.length);
      const want = manual(narrow);
      expect(got.samples).toBe(want.samples);
      for (const k of ['avgCpuPercent', 'avgMemoryMb', 'avgMemoryPercent', 'avgOpenFiles', 'avgThreads'] as const) {
        expect(got[k], k).toBeCloseTo(want[k], 6);
      }
      // Not the whole run: the window holds only the records after the allocation.
      expect(got.avgMemoryMb).toBeGreaterThan(manual(all).avgMemoryMb + 5);
      break;
    }
    // The whole run: its CPU cannot exceed what getrusage counted around it.
    const whole = m.getAverageMetrics(60_000);
    expect(whole.samples).toBe(all.length);
    const span = (all.at(-1)!.timestamp - all[0]!.timestamp) * 1e3;
    const probeCpuUs = (whole.avgCpuPercent / 100) * span;
    expect(probeCpuUs).toBeGreaterThanOrEqual(0);
    expect(probeCpuUs).toBeLessThanOrEqual(ru1.userCPUTime + ru1.systemCPUTime - ru0.userCPUTime - ru0.systemCPUTime);
  });

  it('getAverageMetrics over an empty window: samples 0 and NaN averages', async () => {
    const m = await started({ samplingIntervalMs: 5 });
    await sleep(50);
    await m.stop();
    await sleep(20);
    const last = m.getRecentSnapshots(1)[0]!;
    expect(last.timestamp).toBeLessThan(Date.now()); // nothing is newer than now
    const got = m.getAverageMetrics(0);
    expect(got.samples).toBe(0);
    for (const k of ['avgCpuPercent', 'avgMemoryMb', 'avgMemoryPercent', 'avgOpenFiles', 'avgThreads'] as const) expect(got[k], k).toBeNaN();
    expect(m.getAverageMetrics(60_000).samples).toBeGreaterThan(0);
  });
});
