/**
 * src/analysis/suggest.ts: each rule fires on constructed evidence and reports it; a balanced
 * history gets none of the resource suggestions; thresholds bind where the constants say; order.
 */
import { describe, expect, it } from 'vitest';
import { computeStats } from '../dist/analysis/compute.js';
import { suggest } from '../dist/analysis/suggest.js';
import type { Suggestion } from '../dist/analysis/types.js';
import type { PhaseSummary, ResourceDelta, SessionSummary } from '../dist/session/types.js';
import { resourceDeltaWith } from './helpers/summaries.js';

const MiB = 1024 * 1024;
const DAY = 86_400_000;
const NOW = Date.UTC(2025, 0, 31);

// STEADY_RES as it is: 10 samples, 50 % CPU, 100 MiB resident, 20 fds, 7 threads, no counters.
const res = resourceDeltaWith({});

/** A phase of `ms` at `cpu` % of one core (cpuMs consistent), with extra resource fields. */
function phase(name: string, offset: number, ms: number, cpu: number, extra: Partial<ResourceDelta> = {}): PhaseSummary {
  return { name, startOffsetMs: offset, durationMs: ms, success: true, resources: res({ cpuPercent: cpu, cpuMs: (ms * cpu) / 100, ...extra }) };
}

function session(i: number, phases: PhaseSummary[], fdsEnd = 20): SessionSummary {
  const startTime = NOW - DAY + i * 60_000;
  const durationMs = phases.reduce((a, p) => a + p.durationMs, 0);
  return {
    id: `s${i}`,
    startTime,
    endTime: startTime + durationMs,
    durationMs,
    success: true,
    incomplete: false,
    metadata: {},
    phases,
    errors: [],
    resources: res({ fdsEnd }),
  };
}

const byKind = (s: Suggestion[], kind: Suggestion['kind']) => s.filter((x) => x.kind === kind);

describe('suggest', () => {
  // 8 sessions: a CPU-bound phase, a waiting phase, a phase growing RSS by 80 MiB, a contended
  // phase, and fds at session end rising by 5 per session.
  const sessions = Array.from({ length: 8 }, (_, i) =>
    session(
      i,
      [
        phase('compile', 0, 300, 95),
        phase('connect', 300, 400, 5),
        phase('load_data', 700, 150, 50, { rssDeltaBytes: 80 * MiB, rssEndBytes: 180 * MiB, rssPeakBytes: 185 * MiB }),
        phase('spawn_workers', 850, 150, 60, { involuntaryContextSwitches: 200 }),
      ],
      20 + 5 * i,
    ),
  );
  const stats = computeStats(sessions, { days: 7, now: NOW });
  const s = stats.suggestions;

  it('flags the CPU-bound phase with its mean CPU and median duration', () => {
    const [cpu, ...more] = byKind(s, 'cpu_bound_phase');
    expect(more).toHaveLength(0);
    expect(cpu).toMatchObject({ phase: 'compile', evidence: { meanCpuPercent: 95, medianMs: 300 } });
    expect(cpu!.message).toMatch(/lazily/);
    expect(cpu!.message).toMatch(/compile cache/);
  });

  it('flags the waiting phase', () => {
    const [w, ...more] = byKind(s, 'waiting_phase');
    expect(more).toHaveLength(0);
    expect(w).toMatchObject({ phase: 'connect', evidence: { meanCpuPercent: 5, medianMs: 400 } });
    expect(w!.message).toMatch(/overlap/);
    expect(w!.message).toMatch(/DNS/);
  });

  it('flags 80 MiB of RSS growth', () => {
    const [r, ...more] = byKind(s, 'rss_growth');
    expect(more).toHaveLength(0);
    expect(r).toMatchObject({
      phase: 'load_data',
      evidence: { medianRssDeltaBytes: 80 * MiB, medianRssStartBytes: 100 * MiB, growthPercent: 80, samples: 8 },
    });
    expect(r!.message).toContain('80 MiB');
  });

  it('flags CPU contention: 200 involuntary switches per 90 ms of CPU', () => {
    const [c, ...more] = byKind(s, 'cpu_contention');
    expect(more).toHaveLength(0);
    expect(c!.phase).toBe('spawn_workers');
    expect(c!.evidence.involuntarySwitchesPerCpuSecond).toBeCloseTo(200 / 0.09, 6);
    expect(c!.evidence).toMatchObject({ involuntaryContextSwitches: 1600, samples: 8 });
    expect(c!.evidence.cpuMs).toBeCloseTo(720, 9);
  });

  it('flags fds rising by 5 per session over 8 sessions', () => {
    const [f, ...more] = byKind(s, 'fd_leak');
    expect(more).toHaveLength(0);
    expect(f!.evidence).toEqual({ sessions: 8, firstFds: 20, lastFds: 55, rise: 35, spearman: 1 });
    expect(f!.phase).toBeUndefined();
  });

  it('has no dominant phase (the largest is 400 of 1000 ms) and no trend suggestion (8 sessions)', () => {
    expect(byKind(s, 'dominant_phase')).toHaveLength(0);
    expect(byKind(s, 'degrading_trend')).toHaveLength(0);
    expect(s.map((x) => x.kind)).toEqual(['cpu_bound_phase', 'waiting_phase', 'rss_growth', 'fd_leak', 'cpu_contention']);
  });

  it('gives a balanced history no suggestion at all', () => {
    const balanced = Array.from({ length: 25 }, (_, i) =>
      session(i, [
        phase('a', 0, 100 + (i % 3), 50, { rssDeltaBytes: 5 * MiB }),
        phase('b', 101, 120 - (i % 2), 40, { rssDeltaBytes: 2 * MiB, involuntaryContextSwitches: 3 }),
        phase('c', 221, 90, 60),
      ], 20 + (i % 3)),
    );
    expect(computeStats(balanced, { days: 7, now: NOW }).suggestions).toEqual([]);
  });

  it("sees no dominant phase in a Node run whose only phase beside process_startup is Node's own bootstrap inside it", () => {
    const h = Array.from({ length: 5 }, (_, i) =>
      session(i, [phase('process_startup', 0, 170, 50), phase('node:v8_start', 14, 100, 50), phase('node:bootstrap', 127, 35, 50)]),
    );
    expect(byKind(computeStats(h, { days: 7, now: NOW }).suggestions, 'dominant_phase')).toEqual([]);
  });

  it('flags a dominant phase with its share', () => {
    const h = Array.from({ length: 5 }, (_, i) => session(i, [phase('big', 0, 800, 50), phase('small', 800, 200, 50)]));
    const d = byKind(computeStats(h, { days: 7, now: NOW }).suggestions, 'dominant_phase');
    expect(d).toHaveLength(1);
    expect(d[0]).toMatchObject({ phase: 'big', evidence: { phaseMedianMs: 800, totalMedianMs: 1000, sharePercent: 80 } });
    expect(d[0]!.message).toContain('80 %');
  });

  it('binds the thresholds where the constants say', () => {
    const kinds = (phases: PhaseSummary[], n = 5) =>
      computeStats(Array.from({ length: n }, (_, i) => session(i, phases.map((p) => ({ ...p })))), { days: 7, now: NOW })
        .suggestions.map((x) => x.kind)
        .filter((k) => k !== 'dominant_phase');
    expect(kinds([phase('x', 0, 20, 80), phase('pad', 20, 100, 50)])).toEqual(['cpu_bound_phase']);
    expect(kinds([phase('x', 0, 19, 95), phase('pad', 20, 100, 50)])).toEqual([]);
    expect(kinds([phase('x', 0, 50, 79.9), phase('pad', 50, 100, 50)])).toEqual([]);
    expect(kinds([phase('x', 0, 100, 20), phase('pad', 100, 100, 50)])).toEqual(['waiting_phase']);
    expect(kinds([phase('x', 0, 99, 0), phase('pad', 100, 100, 50)])).toEqual([]);
    // 50 % of a 60 MiB start, but under 50 MiB: the relative rule.
    expect(kinds([phase('x', 0, 10, 50, { rssStartBytes: 60 * MiB, rssDeltaBytes: 30 * MiB })])).toEqual(['rss_growth']);
    expect(kinds([phase('x', 0, 10, 50, { rssStartBytes: 200 * MiB, rssDeltaBytes: 49 * MiB })])).toEqual([]);
    // Contention needs ≥ 100 ms of CPU in total: 5 × 10 ms is too little.
    expect(kinds([phase('x', 0, 20, 50, { involuntaryContextSwitches: 100 })])).toEqual([]);
  });

  it('needs 5 sessions and a rise of 10 fds for fd_leak', () => {
    const fds = (values: number[]) =>
      byKind(computeStats(values.map((f, i) => session(i, [phase('a', 0, 10, 50)], f)), { days: 7, now: NOW }).suggestions, 'fd_leak');
    expect(fds([20, 25, 30, 35])).toHaveLength(0); // 4 sessions
    expect(fds([20, 21, 22, 23, 24, 25, 26, 27])).toHaveLength(0); // rise 7
    expect(fds([20, 60, 20, 60, 20, 60, 20, 60])).toHaveLength(0); // not steady
    expect(fds([20, 20, 25, 24, 30, 35])).toHaveLength(1); // ρ 0.93, rise 15
  });

  it('puts degrading trends first, the total before phases, with Δ in percent, p and the gate', () => {
    const mk = (i: number, step: number) =>
      session(i, [phase('init', 0, 500 * (1 + step) + (i % 7), 50), phase('serve', 600, 200 + (i % 5), 50)]);
    const h = Array.from({ length: 40 }, (_, i) => mk(i, i >= 30 ? 0.3 : 0));
    const st = computeStats(h, { days: 7, now: NOW });
    const kinds = st.suggestions.map((x) => [x.kind, x.phase]);
    expect(kinds.slice(0, 3)).toEqual([
      ['degrading_trend', undefined],
      ['degrading_trend', 'init'],
      ['dominant_phase', 'init'],
    ]);
    const phaseTrend = st.suggestions[1]!;
    expect(phaseTrend.evidence.deltaPercent).toBeCloseTo(100 * st.phases[0]!.trend.delta, 9);
    expect(phaseTrend.evidence.deltaPercent).toBeGreaterThan(25);
    expect(phaseTrend.evidence.p).toBeLessThan(0.01);
    expect(phaseTrend.evidence.gatePercent).toBeCloseTo(5, 12);
    expect(phaseTrend.message).toMatch(/^'init' got \d+(\.\d)? % slower/);
  });

  it('gives nothing without evidence: no sessions, no resources', () => {
    const empty = computeStats([], { days: 7, now: NOW });
    expect(empty.suggestions).toEqual([]);
    const bare = Array.from({ length: 6 }, (_, i) => {
      const s = session(i, [{ name: 'a', startOffsetMs: 0, durationMs: 500, success: true }]);
      delete s.resources;
      return s;
    });
    // One phase alone is the whole startup: "it dominates" would point at nothing.
    expect(computeStats(bare, { days: 7, now: NOW }).suggestions).toEqual([]);
    const two = Array.from({ length: 6 }, (_, i) => {
      const s = session(i, [
        { name: 'a', startOffsetMs: 0, durationMs: 500, success: true },
        { name: 'b', startOffsetMs: 500, durationMs: 5, success: true },
      ]);
      delete s.resources;
      return s;
    });
    const { suggestions, ...rest } = computeStats(two, { days: 7, now: NOW });
    expect(suggest(rest, two).map((x) => `${x.kind} ${x.phase}`)).toEqual(['dominant_phase a']);
    expect(suggestions.map((x) => `${x.kind} ${x.phase}`)).toEqual(['dominant_phase a']);
  });
});
