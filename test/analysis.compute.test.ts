/**
 * src/analysis/compute.ts: the days window, success/incomplete counts and rates, errors by
 * operation, phase order of first appearance, per-phase figures, and repeated phases summed per
 * session for the trend.
 */
import { describe, expect, it } from 'vitest';
import { InvalidOptionError } from '../dist/errors.js';
import { computeStats } from '../dist/analysis/compute.js';
import type { SessionError, SessionSummary } from '../dist/session/types.js';
import { ph, resourceDeltaWith } from './helpers/summaries.js';

const DAY = 86_400_000;
const NOW = Date.UTC(2025, 5, 1, 12);

// 5 samples, 10 ms of CPU and 1e8 bytes resident; the rest as STEADY_RES.
const res = resourceDeltaWith({ samples: 5, cpuMs: 10, rssStartBytes: 1e8, rssEndBytes: 1e8, rssPeakBytes: 1e8 });

function sess(startTime: number, over: Partial<SessionSummary> = {}): SessionSummary {
  return {
    id: `s${startTime}`, startTime, endTime: startTime + 1000, durationMs: 1000, success: true,
    incomplete: false, metadata: {}, phases: [], errors: [], ...over,
  };
}

describe('computeStats', () => {
  it('keeps sessions started within `days` before `now` (inclusive), none from the future', () => {
    const sessions = [
      sess(NOW - 7 * DAY - 1, { durationMs: 1 }), // just outside
      sess(NOW - 7 * DAY, { durationMs: 2 }), // on the boundary: in
      sess(NOW - 3 * DAY, { durationMs: 3 }),
      sess(NOW, { durationMs: 4 }),
      sess(NOW + 1, { durationMs: 5 }), // future: out
    ];
    const st = computeStats(sessions, { days: 7, now: NOW });
    expect(st.days).toBe(7);
    expect(st.sessionCount).toBe(3);
    expect(st.totalStartup).toMatchObject({ count: 3, min: 2, max: 4 });
    expect(computeStats(sessions, { days: 0.5, now: NOW }).sessionCount).toBe(1);
  });

  it('counts successes and incomplete sessions; the total covers successful sessions only', () => {
    const sessions = [
      sess(NOW - 4000, { durationMs: 100 }),
      sess(NOW - 3000, { durationMs: 300 }),
      sess(NOW - 2000, { durationMs: 9999, success: false }),
      sess(NOW - 1000, { durationMs: 50, success: false, incomplete: true }),
    ];
    const st = computeStats(sessions, { days: 1, now: NOW });
    expect(st).toMatchObject({ sessionCount: 4, successCount: 2, incompleteCount: 1, successRate: 0.5 });
    expect(st.totalStartup).toMatchObject({ count: 2, mean: 200, median: 200, max: 300 });
    expect(st.totalTrend).toMatchObject({ verdict: 'insufficient_data', recentCount: 2, baselineCount: 0 });
  });

  it('returns NaN rates and empty figures for no sessions', () => {
    const st = computeStats([], { days: 30, now: NOW });
    expect(st.sessionCount).toBe(0);
    expect(st.successRate).toBeNaN();
    expect(st.totalStartup.count).toBe(0);
    expect(st.totalTrend.verdict).toBe('insufficient_data');
    expect(st.phases).toEqual([]);
    expect(st.errorsByOperation).toEqual({});
    expect(st.suggestions).toEqual([]);
  });

  it("counts errors by operation, '(none)' without one", () => {
    const e = (operation?: string): SessionError => (operation === undefined ? { timestamp: 0, message: 'x' } : { timestamp: 0, message: 'x', operation });
    const sessions = [
      sess(NOW - 2000, { errors: [e('db'), e(), e('db')] }),
      sess(NOW - 1000, { errors: [e(), e('port_management')] }),
      sess(NOW - 30 * DAY, { errors: [e('old')] }), // outside the window
    ];
    expect(computeStats(sessions, { days: 7, now: NOW }).errorsByOperation).toEqual({ db: 2, '(none)': 2, port_management: 1 });
  });

  it('orders phases by first appearance: sessions by startTime, timings by startOffsetMs', () => {
    const later = sess(NOW - 1000, { phases: [ph('a', 0, 10), ph('c', 10, 10)] });
    // Given first but started earlier; its timings are listed in finish order (b ends last).
    const earlier = sess(NOW - 2000, { phases: [ph('a', 50, 10), ph('b', 0, 100)] });
    const st = computeStats([later, earlier], { days: 1, now: NOW });
    expect(st.phases.map((p) => p.name)).toEqual(['b', 'a', 'c']);
    expect(earlier.phases.map((p) => p.name)).toEqual(['a', 'b']); // input left alone
  });

  it('describes each successful timing; successRate over all timings; peaks and mean CPU over resources', () => {
    const sessions = [
      sess(NOW - 3000, { phases: [ph('p', 0, 100, { resources: res({ cpuPercent: 90, rssPeakBytes: 5e8, fdsPeak: 30, threadsPeak: 9 }) })] }),
      sess(NOW - 2000, { phases: [ph('p', 0, 300, { success: false, errorMessage: 'boom', resources: res({ cpuPercent: 10, rssPeakBytes: 7e8, fdsPeak: 25, threadsPeak: 12 }) })] }),
      sess(NOW - 1000, { phases: [ph('p', 0, 200), ph('q', 200, 5)] }),
    ];
    const [p, q] = computeStats(sessions, { days: 1, now: NOW }).phases;
    expect(p).toMatchObject({
      name: 'p',
      successRate: 2 / 3,
      peakRssBytes: 7e8,
      peakCpuPercent: 90,
      peakOpenFds: 30,
      peakThreads: 12,
      meanCpuPercent: 50,
    });
    expect(p!.durations).toMatchObject({ count: 2, min: 100, max: 200, median: 150 });
    expect(q).toMatchObject({ name: 'q', successRate: 1 });
    for (const k of ['peakRssBytes', 'peakCpuPercent', 'peakOpenFds', 'peakThreads', 'meanCpuPercent'] as const) expect(q![k]).toBeNaN();
  });

  it('sums a phase repeated within a session for its trend (one value per session)', () => {
    // 40 sessions, 'retry' twice in each: 100 + 50 ms, then 200 + 100 ms in the last 10.
    const sessions = Array.from({ length: 40 }, (_, i) => {
      const k = i >= 30 ? 2 : 1;
      return sess(NOW - (40 - i) * 1000, {
        phases: [ph('retry', 0, 100 * k + (i % 3)), ph('work', 150, 20), ph('retry', 200, 50 * k)],
      });
    });
    const retry = computeStats(sessions, { days: 1, now: NOW }).phases[0]!;
    expect(retry.name).toBe('retry');
    expect(retry.durations.count).toBe(80);
    expect(retry.trend).toMatchObject({ verdict: 'degrading', recentCount: 10, baselineCount: 30 });
    // medians of the per-session sums: 151 → 301
    expect(retry.trend.delta).toBeCloseTo(301 / 151 - 1, 12);
  });

  it('leaves a session out of a phase trend when one of its timings of the phase failed', () => {
    const sessions = Array.from({ length: 25 }, (_, i) =>
      sess(NOW - (25 - i) * 1000, {
        phases: [ph('x', 0, 100), ph('x', 100, 50, { success: i === 3 ? false : true })],
      }),
    );
    const x = computeStats(sessions, { days: 1, now: NOW }).phases[0]!;
    expect(x.trend).toMatchObject({ recentCount: 10, baselineCount: 14, verdict: 'stable', delta: 0 });
    expect(x.successRate).toBeCloseTo(49 / 50, 12);
  });

  it('rejects a bad days or now with InvalidOptionError', () => {
    for (const [opts, option] of [
      [{ days: -1, now: NOW }, 'days'],
      [{ days: NaN, now: NOW }, 'days'],
      [{ days: 7, now: Infinity }, 'now'],
    ] as const) {
      let caught: unknown;
      try {
        computeStats([], opts);
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(InvalidOptionError);
      expect((caught as InvalidOptionError).option).toBe(option);
    }
  });
});
