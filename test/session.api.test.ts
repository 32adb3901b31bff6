/**
 * The seed's PerformanceMonitor API (000_86271e7beb1884f1.txt) in TypeScript idiom: constants,
 * session ids, timings (explicit, callback, `using` disposable), errors, finishSession's result,
 * getResourceUsageSummary and ResourceSnapshot. Durations are checked against performance.now()
 * read in the test, CPU against process.cpuUsage()/resourceUsage(), memory against
 * process.memoryUsage.rss(), fds and threads against /proc/self.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism, totalmem } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { MetricType, PerformanceMonitor, ResourceSnapshot, StartupPhase, StartupSession, TimingContext } from '../dist/index.js';
import { fdCount, sleep } from './helpers/readers.js';
import { burnCpu, closeMonitors, cpuMsSince, tracked, waitForSamples } from './helpers/session-helpers.js';
import { removeTempDirs, tempDir } from './helpers/temp-dirs.js';

afterEach(async () => {
  await closeMonitors();
  removeTempDirs();
});

const monitor = () => tracked(new PerformanceMonitor({ dataDir: tempDir('procprobe-hist-'), nodeBootstrap: false }));
const userPhases = (s: StartupSession) => s.timings.filter((p) => !p.name.startsWith('node:'));

describe('seed constants', () => {
  it('MetricType and StartupPhase carry the seed values, frozen', () => {
    expect({ ...MetricType }).toEqual({
      TIMING: 'timing',
      SUCCESS_RATE: 'success_rate',
      RESOURCE_USAGE: 'resource_usage',
      ERROR_COUNT: 'error_count',
      PHASE_DURATION: 'phase_duration',
    });
    expect({ ...StartupPhase }).toEqual({
      ENVIRONMENT_VALIDATION: 'environment_validation',
      PORT_MANAGEMENT: 'port_management',
      PROCESS_STARTUP: 'process_startup',
      HEALTH_VERIFICATION: 'health_verification',
      TOTAL_STARTUP: 'total_startup',
    });
    expect(Object.isFrozen(MetricType)).toBe(true);
    expect(Object.isFrozen(StartupPhase)).toBe(true);
  });
});

describe('sessions and timings', () => {
  it('startSession returns unique ids that sort in start order', async () => {
    const pm = monitor();
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      ids.push(pm.startSession({ i }));
      await pm.finishSession();
    }
    expect(new Set(ids).size).toBe(3);
    expect([...ids].sort()).toEqual(ids);
    expect(pm.sessions.map((s) => s.id)).toEqual(ids);
    expect(pm.sessions.map((s) => s.metadata)).toEqual([{ i: 0 }, { i: 1 }, { i: 2 }]);
  });

  it('startTiming/finishTiming: duration within the window measured here; a failure keeps its message', async () => {
    const pm = monitor();
    pm.startSession();
    const outer0 = performance.now();
    const id = pm.startTiming(StartupPhase.ENVIRONMENT_VALIDATION, { step: 1 });
    const inner0 = performance.now();
    await sleep(30);
    const inner1 = performance.now();
    pm.finishTiming(id, false, 'missing DATABASE_URL');
    const outer1 = performance.now();
    const ok = pm.startTiming(StartupPhase.PORT_MANAGEMENT);
    pm.finishTiming(ok);
    const s = await pm.finishSession(false);
    const [env, port] = userPhases(s);
    expect(env).toMatchObject({ name: 'environment_validation', success: false, errorMessage: 'missing DATABASE_URL' });
    expect(env!.durationMs).toBeGreaterThanOrEqual(inner1 - inner0);
    expect(env!.durationMs).toBeLessThanOrEqual(outer1 - outer0);
    // startOffsetMs: from the session start (wall clock) to the timing start.
    expect(s.startTime + env!.startOffsetMs).toBeGreaterThanOrEqual(performance.timeOrigin + outer0 - 0.01);
    expect(s.startTime + env!.startOffsetMs).toBeLessThanOrEqual(performance.timeOrigin + inner0 + 0.01);
    expect(port).toMatchObject({ name: 'port_management', success: true });
    expect(port!.errorMessage).toBeUndefined();
    expect(s.success).toBe(false);
  });

  it('timeOperation records a success, and a failure that it rethrows', async () => {
    const pm = monitor();
    pm.startSession();
    const t0 = performance.now();
    const value = await pm.timeOperation('ok-op', async () => {
      await sleep(20);
      return 42;
    });
    const t1 = performance.now();
    expect(value).toBe(42);
    const boom = new Error('port 8080 in use');
    await expect(pm.timeOperation('bad-op', () => Promise.reject(boom))).rejects.toBe(boom);
    await expect(pm.timeOperation('sync-bad', () => { throw new Error('sync throw'); })).rejects.toThrow('sync throw');
    const s = await pm.finishSession();
    const phases = userPhases(s);
    const ok = phases.find((p) => p.name === 'ok-op')!;
    expect(ok.success).toBe(true);
    expect(ok.durationMs).toBeGreaterThanOrEqual(19);
    expect(ok.durationMs).toBeLessThanOrEqual(t1 - t0);
    expect(phases.find((p) => p.name === 'bad-op')).toMatchObject({ success: false, errorMessage: 'port 8080 in use' });
    expect(phases.find((p) => p.name === 'sync-bad')).toMatchObject({ success: false, errorMessage: 'sync throw' });
    expect(phases).toHaveLength(3);
  });

  it('timing(): the `using` disposable finishes on scope exit; fail(err) marks a failure', async () => {
    const pm = monitor();
    pm.startSession();
    let inner = 0;
    {
      using t = pm.timing(StartupPhase.PROCESS_STARTUP);
      expect(t).toBeInstanceOf(TimingContext);
      const a = performance.now();
      await sleep(15);
      inner = performance.now() - a;
    }
    try {
      using t = pm.timing(StartupPhase.HEALTH_VERIFICATION);
      try {
        throw new Error('health check timed out');
      } catch (err) {
        t.fail(err);
        throw err;
      }
    } catch {
      // expected: the disposable still ran and did not overwrite the failure
    }
    // The same without the syntax: Symbol.dispose, twice (idempotent).
    const ctx = pm.timing('explicit-dispose');
    ctx[Symbol.dispose]();
    ctx[Symbol.dispose]();
    const failed = pm.timing('explicit-fail');
    failed.fail('plain string reason');
    failed[Symbol.dispose]();
    const s = await pm.finishSession();
    const byName = Object.fromEntries(userPhases(s).map((p) => [p.name, p]));
    expect(userPhases(s)).toHaveLength(4);
    expect(byName.process_startup).toMatchObject({ success: true });
    expect(byName.process_startup!.durationMs).toBeGreaterThanOrEqual(inner);
    expect(byName.health_verification).toMatchObject({ success: false, errorMessage: 'health check timed out' });
    expect(byName['explicit-dispose']).toMatchObject({ success: true });
    expect(byName['explicit-fail']).toMatchObject({ success: false, errorMessage: 'plain string reason' });
  });

  it('recordError and finishSession: the session holds timings, errors, samples and resources', async () => {
    const pm = monitor();
    const id = pm.startSession({ label: 'api' });
    await waitForSamples(pm);
    const before = Date.now();
    pm.recordError('config file unreadable', StartupPhase.ENVIRONMENT_VALIDATION);
    pm.recordError('no operation given');
    const after = Date.now();
    await pm.timeOperation('work', () => burnCpu(5000));
    const s = await pm.finishSession(true);
    expect(s).toBeInstanceOf(StartupSession);
    expect(s.id).toBe(id);
    expect(s.finished).toBe(true);
    expect(s.success).toBe(true);
    expect(s.incomplete).toBe(false);
    expect(s.errors).toHaveLength(2);
    expect(s.errors[0]).toMatchObject({ message: 'config file unreadable', operation: 'environment_validation' });
    expect(s.errors[1]!.message).toBe('no operation given');
    expect(s.errors[1]!.operation).toBeUndefined();
    for (const e of s.errors) {
      expect(e.timestamp).toBeGreaterThanOrEqual(before);
      expect(e.timestamp).toBeLessThanOrEqual(after);
    }
    const work = userPhases(s)[0]!;
    expect(Object.keys(work).sort()).toEqual(['durationMs', 'name', 'resources', 'startOffsetMs', 'success']);
    expect(s.samples!.count).toBeGreaterThanOrEqual(3); // one before 'work' (waitForSamples), and after the end
    expect(s.getSamples()).toHaveLength(s.samples!.count);
    // The whole-session delta runs from the first sample to the first one at/after the end.
    const samples = s.getSamples();
    expect(s.resources!.fromTimestamp).toBe(samples[0]!.timestamp);
    expect(s.resources!.samples).toBeLessThanOrEqual(samples.length);
    expect(Math.abs(s.resources!.toTimestamp - s.endTime)).toBeLessThan(50);
    expect(s.resources!.rssPeakBytes).toBe(Math.max(...samples.filter((x) => x.timestamp <= s.resources!.toTimestamp).map((x) => x.rssBytes)));
    expect(s.durationMs).toBeCloseTo(s.endTime - s.startTime, 6);
  });

  it('getResourceUsageSummary: null before any session; during one it brackets CPU burnt here; after, the last session', async () => {
    const pm = monitor();
    expect(pm.getResourceUsageSummary()).toBeNull();
    const c0 = process.cpuUsage();
    const id = pm.startSession();
    await waitForSamples(pm);
    const c1 = process.cpuUsage();
    burnCpu(30_000);
    const sinceSampling = cpuMsSince(c1);
    const asked = performance.timeOrigin + performance.now();
    const during = pm.getResourceUsageSummary()!;
    const allCpu = cpuMsSince(c0);
    const rss = process.memoryUsage.rss();
    expect(during.sessionId).toBe(id);
    // From the first sample (after c0, before c1) to the newest one (a little before the call):
    // at least the CPU burnt after c1 less what all cores could burn after the newest sample,
    // at most everything since c0 (+1 ms: the probe's reads are not exactly at its timestamps).
    const lagMs = Math.max(0, asked - during.toTimestamp);
    const line = `summary ${during.cpuMs} ms, cpuUsage since sampling ${sinceSampling}, since c0 ${allCpu}, newest sample ${lagMs.toFixed(2)} ms old`;
    expect(during.cpuMs, line).toBeGreaterThanOrEqual(sinceSampling - availableParallelism() * lagMs - 1);
    expect(during.cpuMs, line).toBeLessThanOrEqual(allCpu + 1);
    expect(lagMs, line).toBeLessThan(100);
    expect(during.avgRssBytes).toBeGreaterThan(rss * 0.8);
    expect(during.avgRssBytes).toBeLessThan(rss * 1.2);
    expect(during.peakCpuPercent).toBeGreaterThanOrEqual(during.avgCpuPercent);
    const s = await pm.finishSession();
    const after = pm.getResourceUsageSummary()!;
    expect(after.sessionId).toBe(id);
    expect(after.cpuMs).toBe(s.resources!.cpuMs);
    expect(after.rssPeakBytes).toBe(s.resources!.rssPeakBytes);
    expect(after.cpuMs).toBeGreaterThanOrEqual(during.cpuMs);
  });
});

describe('ResourceSnapshot.capture()', () => {
  it('agrees with process.resourceUsage(), memoryUsage.rss(), /proc/self/fd and /proc/self/status', () => {
    ResourceSnapshot.capture(); // first capture creates the probe (and opens its fds)
    const t0 = Date.now();
    const ru0 = process.resourceUsage();
    const rss0 = process.memoryUsage.rss();
    const fds0 = fdCount('self');
    const snap = ResourceSnapshot.capture();
    const fds1 = fdCount('self');
    const rss1 = process.memoryUsage.rss();
    const ru1 = process.resourceUsage();
    const t1 = Date.now();
    const threads = Number(/^Threads:\s*(\d+)/m.exec(readFileSync('/proc/self/status', 'latin1'))![1]);
    expect(snap).toBeInstanceOf(ResourceSnapshot);
    expect(snap.pid).toBe(process.pid);
    expect(snap.timestamp).toBeGreaterThanOrEqual(t0 - 1);
    expect(snap.timestamp).toBeLessThanOrEqual(t1 + 1);
    const cpu = snap.cpuUserUs + snap.cpuSystemUs;
    expect(cpu).toBeGreaterThanOrEqual(ru0.userCPUTime + ru0.systemCPUTime - 1000);
    expect(cpu).toBeLessThanOrEqual(ru1.userCPUTime + ru1.systemCPUTime + 1000);
    const mib = 1 << 20;
    expect(snap.rssBytes).toBeGreaterThanOrEqual(Math.min(rss0, rss1) - 4 * mib);
    expect(snap.rssBytes).toBeLessThanOrEqual(Math.max(rss0, rss1) + 4 * mib);
    expect(snap.memoryMb).toBeCloseTo(snap.rssBytes / mib, 9);
    expect(snap.memoryPercent).toBeCloseTo((snap.rssBytes / totalmem()) * 100, 3);
    expect(snap.openFds).toBeGreaterThanOrEqual(Math.min(fds0, fds1) - 2);
    expect(snap.openFds).toBeLessThanOrEqual(Math.max(fds0, fds1) + 2);
    expect(Math.abs(snap.threads - threads)).toBeLessThanOrEqual(2);
    expect(snap.cpuPercent).toBeGreaterThanOrEqual(0);
  });
});
