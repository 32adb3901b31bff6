/**
 * Unknown option names are refused at the door of every public options object: an
 * InvalidOptionError (ERR_PROCPROBE_INVALID_OPTION) whose `option` is the unknown key, whose
 * message names the closest known option ("did you mean samplingIntervalMs?") or, when none is
 * close, lists the known ones, and ends with the value given; before anything starts (no thread,
 * no data dir, no metric registered). An alert on a near-miss of a sample field is refused the
 * same way. The same calls with the names spelt right still work, checked against what they did
 * (the threads in /proc/self/task, the trace parsed back, the HTML text, the registry).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  createProbe,
  exportSession,
  LiveWindow,
  PerformanceMonitor,
  RealTimeMonitor,
  registerOpenTelemetryMetrics,
  registerPrometheusMetrics,
  renderHtmlReport,
  Sampler,
  spawnNative,
  toChromeTrace,
} from '../dist/index.js';
import { makeInput } from './fixtures/export-session.js';
import { expectInvalidOption } from './helpers/errors.js';
import { selfThreads } from './helpers/monitor-readers.js';
import { closeMonitors, tracked } from './helpers/session-helpers.js';
import { removeTempDirs, tempDir } from './helpers/temp-dirs.js';

afterAll(async () => {
  await closeMonitors();
  removeTempDirs();
});

/** The refusal of `fn`: the unknown key named, the hint as given, the value at the end. */
function expectUnknown(fn: () => unknown, option: string, hint: string, shown: string): void {
  const err = expectInvalidOption(fn, option, shown);
  expect(err.message).toContain(hint);
}

describe('constructors refuse a misspelt option, naming the one meant, before starting anything', () => {
  const cases: [string, () => unknown, string, string, string][] = [
    ['createProbe pidd', () => createProbe({ pidd: 1 } as never), 'options.pidd', 'did you mean pid?', '1'],
    ['createProbe Backend', () => createProbe({ Backend: 'native' } as never), 'options.Backend', 'did you mean backend?', '"native"'],
    ['Sampler samplingIntervallMs', () => new Sampler({ samplingIntervallMs: 1 } as never), 'options.samplingIntervallMs', 'did you mean samplingIntervalMs?', '1'],
    ['Sampler capacty', () => new Sampler({ capacty: 10 } as never), 'options.capacty', 'did you mean capacity?', '10'],
    ['RealTimeMonitor samplingIntervallMs', () => new RealTimeMonitor({ samplingIntervallMs: 1 } as never), 'options.samplingIntervallMs', 'did you mean samplingIntervalMs?', '1'],
    ['RealTimeMonitor alertHysteresys', () => new RealTimeMonitor({ alertHysteresys: 0.2 } as never), 'options.alertHysteresys', 'did you mean alertHysteresis?', '0.2'],
    ['RealTimeMonitor event_loop', () => new RealTimeMonitor({ event_loop: false } as never), 'options.event_loop', 'did you mean eventLoop?', 'false'],
    ['RealTimeMonitor alert', () => new RealTimeMonitor({ alert: { cpuPercent: 5 } } as never), 'options.alert', 'did you mean alerts?', 'an object'],
  ];
  for (const [name, fn, option, hint, shown] of cases) {
    it(name, () => {
      const threads = selfThreads();
      expectUnknown(fn, option, hint, shown);
      expect(selfThreads(), 'a thread was started').toBe(threads);
    });
  }

  it('PerformanceMonitor dataDirr and resource_sampling_interval_ms: refused, and no data dir is made', () => {
    const dir = join(tempDir('procprobe-unknown-'), 'data');
    const threads = selfThreads();
    expectUnknown(() => new PerformanceMonitor({ dataDirr: dir } as never), 'options.dataDirr', 'did you mean dataDir?', JSON.stringify(dir));
    expectUnknown(
      () => new PerformanceMonitor({ dataDir: dir, resource_sampling_interval_ms: 1 } as never),
      'options.resource_sampling_interval_ms',
      'did you mean resourceSamplingIntervalMs?',
      '1',
    );
    expect(selfThreads()).toBe(threads);
    expect(existsSync(dir)).toBe(false);
  });

  it('a name close to none lists the known ones (createProbe: pid, backend)', () => {
    expectUnknown(() => createProbe({ verbose: true } as never), 'options.verbose', 'one of pid, backend', 'true');
    // A Sampler-only name is a RealTimeMonitor option too; a PerformanceMonitor-only one is not a Sampler's.
    expectUnknown(() => new Sampler({ dataDir: '/tmp/x' } as never), 'options.dataDir', 'one of pid, tree, samplingIntervalMs', '"/tmp/x"');
  });

  it('the names spelt right still work: a probe reads this pid, a monitor and a sampler construct without a thread', () => {
    const probe = createProbe({ pid: process.pid, backend: 'auto' });
    expect(probe.sampleSync().pid).toBe(process.pid);
    probe.close();
    const threads = selfThreads();
    const m = new RealTimeMonitor({ samplingIntervalMs: 5, capacity: 10, alertHysteresis: 0.2, eventLoop: false, alerts: { cpuPercent: 50 } });
    const s = new Sampler({ samplingIntervalMs: 5, capacity: 10 });
    expect(m.isMonitoring).toBe(false);
    expect(s.capacity).toBe(10);
    expect(selfThreads()).toBe(threads);
  });
});

describe('alerts on a near-miss of a sample field are refused (the alert would never fire)', () => {
  const cases: [Record<string, unknown>, string, string, string][] = [
    [{ cpuPercnt: 80 }, 'options.alerts.cpuPercnt', 'did you mean cpuPercent?', '80'],
    [{ cpu_percent: 80 }, 'options.alerts.cpu_percent', 'did you mean cpuPercent?', '80'],
    [{ rssByte: 1e9 }, 'options.alerts.rssByte', 'did you mean rssBytes?', '1000000000'],
    // Disabling a default under a typo would leave the default on.
    [{ memoryPercnt: false }, 'options.alerts.memoryPercnt', 'did you mean memoryPercent?', 'false'],
    // The event loop's figure is the gauge $eventLoopDelayMs.
    [{ eventLoopDelayMs: 50 }, 'options.alerts.eventLoopDelayMs', 'did you mean $eventLoopDelayMs?', '50'],
  ];
  for (const [alerts, option, hint, shown] of cases) {
    it(JSON.stringify(alerts), () => expectUnknown(() => new RealTimeMonitor({ alerts } as never), option, hint, shown));
  }

  it('a key no custom metric can have (empty, 64 bytes, a NUL) is refused', () => {
    expectInvalidOption(() => new RealTimeMonitor({ alerts: { '': 1 } }), 'options.alerts key', '""');
    const long = 'q'.repeat(64);
    expectInvalidOption(() => new RealTimeMonitor({ alerts: { [long]: 1 } }), 'options.alerts key', JSON.stringify(long));
    expectInvalidOption(() => new RealTimeMonitor({ alerts: { 'a\0b': 1 } }), 'options.alerts key', JSON.stringify('a\0b'));
  });

  it('custom metrics and the event-loop gauges are accepted', () => {
    const accepted: Record<string, number | false>[] = [{ queue_size: 100 }, { inflight: 3, tid: 1 }, { $eventLoopDelayMs: 50 }, { cpuPercent: false }];
    for (const alerts of accepted) {
      expect(new RealTimeMonitor({ alerts }).isMonitoring).toBe(false);
    }
  });
});

describe('method and function options', () => {
  it('finishSession { incompleet } and getPerformanceStats { dayz, lable }: refused, the session stays open', async () => {
    const pm = tracked(new PerformanceMonitor({ dataDir: tempDir('procprobe-unknown-'), nodeBootstrap: false }));
    const id = pm.startSession({});
    await expect(pm.finishSession(true, { incompleet: true } as never)).rejects.toMatchObject({
      code: 'ERR_PROCPROBE_INVALID_OPTION',
      option: 'options.incompleet',
      message: expect.stringContaining('did you mean incomplete?'),
    });
    expect(pm.currentSession?.id).toBe(id);
    await expect(pm.getPerformanceStats({ dayz: 3 } as never)).rejects.toMatchObject({ option: 'options.dayz', message: expect.stringContaining('did you mean days?') });
    await expect(pm.getPerformanceStats({ lable: 'x' } as never)).rejects.toMatchObject({ option: 'options.lable', message: expect.stringContaining('did you mean label?') });
    const done = await pm.finishSession(true, { incomplete: false });
    expect(done.id).toBe(id);
    expect((await pm.getPerformanceStats({ days: 1 })).sessionCount).toBe(1);
  });

  it('exportSession { maxPoint }, toChromeTrace { max_points }, renderHtmlReport { titel }: refused; spelt right, they take effect', () => {
    const input = makeInput();
    expectUnknown(() => exportSession(input, 'chrome-trace', { maxPoint: 10 } as never), 'options.maxPoint', 'did you mean maxPoints?', '10');
    expectUnknown(() => toChromeTrace(input, { max_points: 10 } as never), 'options.max_points', 'did you mean maxPoints?', '10');
    expectUnknown(() => renderHtmlReport(input, { titel: 'mine' } as never), 'options.titel', 'did you mean title?', '"mine"');
    // Spelt right: the trace's counter series are decimated to at most maxPoints each, the title shows.
    const counts = (text: string): number[] => {
      const byName = new Map<string, number>();
      for (const e of JSON.parse(text).traceEvents as { ph: string; name: string }[]) if (e.ph === 'C') byName.set(e.name, (byName.get(e.name) ?? 0) + 1);
      return [...byName.values()];
    };
    expect(Math.max(...counts(toChromeTrace(input)))).toBeGreaterThan(10);
    expect(Math.max(...counts(toChromeTrace(input, { maxPoints: 10 })))).toBeLessThanOrEqual(10);
    expect(Math.max(...counts(exportSession(input, 'chrome-trace', { maxPoints: 10 })))).toBeLessThanOrEqual(10);
    expect(renderHtmlReport(input, { title: 'mine' })).toContain('<title>mine');
  });

  it('LiveWindow { foldIntervalMS }, registerPrometheusMetrics { prefx }, registerOpenTelemetryMetrics { attributs }: refused before anything is registered', () => {
    const sampler = new Sampler({ capacity: 10 });
    expectUnknown(() => new LiveWindow(sampler, { foldIntervalMS: 5 } as never), 'options.foldIntervalMS', 'did you mean foldIntervalMs?', '5');
    const registered: string[] = [];
    // A stand-in for prom-client that records every metric created in it.
    class Metric {
      constructor(o: { name: string }) {
        registered.push(o.name);
      }
    }
    const client = { Gauge: Metric, Counter: Metric, register: { removeSingleMetric: () => undefined, getSingleMetric: () => undefined } };
    expectUnknown(() => registerPrometheusMetrics(sampler, { client, prefx: 'x_' } as never), 'options.prefx', 'did you mean prefix?', '"x_"');
    const observed: string[] = [];
    const inst = (name: string) => (observed.push(name), {});
    const meter = { createObservableCounter: inst, createObservableUpDownCounter: inst, createObservableGauge: inst, addBatchObservableCallback: () => undefined, removeBatchObservableCallback: () => undefined };
    expectUnknown(() => registerOpenTelemetryMetrics(sampler, { meter, attributs: {} } as never), 'options.attributs', 'did you mean attributes?', 'an object');
    expect(registered).toEqual([]);
    expect(observed).toEqual([]);
    // Spelt right, both register.
    const w = new LiveWindow(sampler, { foldIntervalMs: 0 });
    w.close();
    registerPrometheusMetrics(sampler, { client: client as never, prefix: 'x_', foldIntervalMs: 0 }).close();
    expect(registered.length).toBeGreaterThan(0);
    expect(registered.every((n) => n.startsWith('x_'))).toBe(true);
    registerOpenTelemetryMetrics(sampler, { meter: meter as never, attributes: {}, foldIntervalMs: 0 }).close();
    expect(observed.length).toBeGreaterThan(0);
  });

  it('spawnNative { arg }: refused on every platform, before any process is started', () => {
    const threads = selfThreads();
    expectUnknown(() => spawnNative({ command: 'true', arg: ['x'] } as never), 'options.arg', 'did you mean args?', 'an array');
    expectUnknown(() => spawnNative({ command: 'true', newProcessgroup: true } as never), 'options.newProcessgroup', 'did you mean newProcessGroup?', 'true');
    expect(selfThreads()).toBe(threads);
  });
});
