/**
 * getPerformanceStats over the history: counts and rates against the sessions this test made (or
 * crafted), and computed off the main thread: a 1 ms interval keeps ticking during the call (max
 * gap measured here) and /proc/self/status shows the extra thread of the analysis pool.
 */
import { readFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PerformanceMonitor } from '../dist/index.js';
import { sleep } from './helpers/readers.js';
import { median } from './helpers/numbers.js';
import {
  burnCpu,
  closeMonitors,
  craftedId,
  tracked,
  waitForSamples,
  writeCrafted,
  type CraftedSession,
} from './helpers/session-helpers.js';
import { removeTempDirs, tempDir } from './helpers/temp-dirs.js';

afterEach(async () => {
  await closeMonitors();
  removeTempDirs();
});

const DAY = 86_400_000;
const threads = () => Number(/^Threads:\s*(\d+)/m.exec(readFileSync('/proc/self/status', 'latin1'))![1]);

describe('getPerformanceStats', () => {
  it('after three sessions: count, success rate, per-phase stats and errors', async () => {
    const dataDir = tempDir('procprobe-hist-');
    const pm = tracked(new PerformanceMonitor({ dataDir, nodeBootstrap: false }));
    const durations: number[] = [];
    const outcomes = [true, false, true];
    for (const ok of outcomes) {
      pm.startSession({ label: 'stats' });
      await waitForSamples(pm);
      const id = pm.startTiming('config');
      burnCpu(5000);
      pm.finishTiming(id, ok, ok ? undefined : 'bad config');
      if (!ok) pm.recordError('bad config', 'config');
      await pm.timeOperation('listen', () => sleep(10));
      const s = await pm.finishSession(ok);
      if (ok) durations.push(s.durationMs);
    }
    const stats = await pm.getPerformanceStats({ days: 7 });
    expect(stats.warnings).toEqual([]);
    expect(stats.days).toBe(7);
    expect(stats.sessionCount).toBe(3);
    expect(stats.successCount).toBe(2);
    expect(stats.incompleteCount).toBe(0);
    expect(stats.successRate).toBeCloseTo(2 / 3, 12);
    expect(stats.totalStartup.count).toBe(2);
    expect(stats.totalStartup.median).toBeCloseTo(median(durations), 6);
    expect(stats.phases.map((p) => p.name)).toEqual(['config', 'listen']);
    const config = stats.phases[0]!;
    expect(config.successRate).toBeCloseTo(2 / 3, 12);
    expect(config.durations.count).toBe(2);
    expect(config.peakRssBytes).toBeGreaterThan(0);
    expect(config.peakRssBytes).toBeLessThan(process.memoryUsage.rss() * 2);
    expect(config.meanCpuPercent).toBeGreaterThan(0);
    expect(stats.phases[1]!.successRate).toBe(1);
    expect(stats.errorsByOperation).toEqual({ config: 1 });
    // The label filter.
    expect((await pm.getPerformanceStats({ days: 7, label: 'other' })).sessionCount).toBe(0);
  });

  it('200 crafted sessions: the figures match the history; the event loop stays responsive, work runs in a thread', async () => {
    const dataDir = tempDir('procprobe-hist-');
    mkdirSync(join(dataDir, 'sessions'), { mode: 0o700 });
    mkdirSync(join(dataDir, 'index'), { mode: 0o700 });
    const now = Date.now();
    const sessions: CraftedSession[] = [];
    for (let i = 0; i < 200; i++) {
      const startTime = now - 3 * DAY + i * 60_000;
      const phases = Array.from({ length: 20 }, (_, k) => ({
        name: `phase-${k}`,
        startOffsetMs: k * 10,
        durationMs: 5 + ((i * 7 + k * 13) % 17),
        success: !(k === 0 && i % 10 === 0),
      }));
      sessions.push({ id: craftedId(startTime, i), startTime, durationMs: 300 + (i % 50), success: i % 4 !== 3, phases });
    }
    // Older than the 7-day window: never counted.
    for (let i = 0; i < 10; i++) {
      const startTime = now - 9 * DAY + i * 1000;
      sessions.push({ id: craftedId(startTime, 1000 + i), startTime, durationMs: 1, success: false, phases: [] });
    }
    for (const s of sessions) writeCrafted(dataDir, s);
    const inWindow = sessions.slice(0, 200);

    const pm = tracked(new PerformanceMonitor({ dataDir, nodeBootstrap: false }));
    const baseThreads = threads();
    let maxThreads = baseThreads;
    let last = performance.now();
    let maxGap = 0;
    let ticks = 0;
    const timer = setInterval(() => {
      const t = performance.now();
      maxGap = Math.max(maxGap, t - last);
      last = t;
      ticks++;
      maxThreads = Math.max(maxThreads, threads());
    }, 1);
    const t0 = performance.now();
    let stats;
    try {
      stats = await pm.getPerformanceStats({ days: 7 });
    } finally {
      clearInterval(timer);
    }
    const took = performance.now() - t0;
    const line = `getPerformanceStats took ${took.toFixed(1)} ms, ${ticks} ticks, max gap ${maxGap.toFixed(1)} ms, threads ${baseThreads} -> ${maxThreads}`;
    console.log(`[stats] ${line}`);
    expect(maxGap, line).toBeLessThan(50);
    expect(maxThreads, line).toBeGreaterThan(baseThreads);

    expect(stats.warnings).toEqual([]);
    expect(stats.sessionCount).toBe(200);
    expect(stats.successCount).toBe(inWindow.filter((s) => s.success).length);
    expect(stats.successRate).toBeCloseTo(150 / 200, 12);
    expect(stats.totalStartup.count).toBe(150);
    expect(stats.totalStartup.median).toBe(median(inWindow.filter((s) => s.success).map((s) => s.durationMs)));
    expect(stats.phases.map((p) => p.name)).toEqual(Array.from({ length: 20 }, (_, k) => `phase-${k}`));
    const p0 = stats.phases[0]!;
    expect(p0.successRate).toBeCloseTo(180 / 200, 12);
    const ok0 = inWindow.flatMap((s) => s.phases.filter((p) => p.name === 'phase-0' && p.success).map((p) => p.durationMs));
    expect(p0.durations.count).toBe(ok0.length);
    expect(p0.durations.median).toBe(median(ok0));
    expect(p0.durations.max).toBe(Math.max(...ok0));
    expect(Number.isNaN(p0.peakRssBytes)).toBe(true); // crafted phases carry no resources
  });
});
