/**
 * Bad input is refused at the door, before any thread starts: InvalidOptionError
 * (ERR_PROCPROBE_INVALID_OPTION) naming the option and the value; a pid that does not exist (above
 * /proc/sys/kernel/pid_max, read here) is a ProcessNotFoundError.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ProcessNotFoundError, RealTimeMonitor, Sampler } from '../dist/index.js';
import { selfThreads } from './helpers/monitor-readers.js';
import { procExists, thrown } from './helpers/readers.js';
import { expectInvalidOption } from './helpers/errors.js';

const CASES: [string, Record<string, unknown>, string, string][] = [
  ['samplingIntervalMs 0', { samplingIntervalMs: 0 }, 'options.samplingIntervalMs', '0'],
  ['samplingIntervalMs -1', { samplingIntervalMs: -1 }, 'options.samplingIntervalMs', '-1'],
  ['samplingIntervalMs NaN', { samplingIntervalMs: NaN }, 'options.samplingIntervalMs', 'NaN'],
  ['samplingIntervalMs 0.05', { samplingIntervalMs: 0.05 }, 'options.samplingIntervalMs', '0.05'],
  ['samplingIntervalMs "10"', { samplingIntervalMs: '10' }, 'options.samplingIntervalMs', '"10"'],
  ['capacity 1', { capacity: 1 }, 'options.capacity', '1'],
  ['capacity 2.5', { capacity: 2.5 }, 'options.capacity', '2.5'],
  ['pid -3', { pid: -3 }, 'options.pid', '-3'],
  ['pid 1.5', { pid: 1.5 }, 'options.pid', '1.5'],
  ["backend 'bogus'", { backend: 'bogus' }, 'options.backend', '"bogus"'],
  ['tree "yes"', { tree: 'yes' }, 'options.tree', '"yes"'],
  ['pssIntervalMs -1', { pssIntervalMs: -1 }, 'options.pssIntervalMs', '-1'],
  ['pssIntervalMs NaN', { pssIntervalMs: NaN }, 'options.pssIntervalMs', 'NaN'],
  ['pssIntervalMs "250"', { pssIntervalMs: '250' }, 'options.pssIntervalMs', '"250"'],
  ['countsIntervalMs -1', { countsIntervalMs: -1 }, 'options.countsIntervalMs', '-1'],
  ['countsIntervalMs Infinity', { countsIntervalMs: Infinity }, 'options.countsIntervalMs', 'Infinity'],
];

describe('bad options', () => {
  for (const [name, opts, option, shown] of CASES) {
    it(`${name}: InvalidOptionError from RealTimeMonitor and Sampler, no thread started`, () => {
      const threads = selfThreads();
      expectInvalidOption(() => new RealTimeMonitor(opts as never), option, shown);
      expectInvalidOption(() => new Sampler(opts as never), option, shown);
      expect(selfThreads()).toBe(threads);
    });
  }

  it('a pid that does not exist: ProcessNotFoundError (ERR_PROCPROBE_NO_SUCH_PROCESS)', () => {
    const pid = Number(readFileSync('/proc/sys/kernel/pid_max', 'latin1')) + 1;
    expect(procExists(pid)).toBe(false);
    for (const make of [() => new RealTimeMonitor({ pid }), () => new Sampler({ pid })]) {
      const err = thrown<Error>(make);
      expect(err).toBeInstanceOf(ProcessNotFoundError);
      expect((err as ProcessNotFoundError).code).toBe('ERR_PROCPROBE_NO_SUCH_PROCESS');
      expect((err as ProcessNotFoundError).pid).toBe(pid);
      expect((err as Error).message).toContain(String(pid));
    }
  });

  it("addCallback('nope'): InvalidOptionError naming the callback and the value", () => {
    const m = new RealTimeMonitor();
    expectInvalidOption(() => m.addCallback('nope' as never), 'callback', '"nope"');
    expectInvalidOption(() => m.addCallback(undefined as never), 'callback', 'undefined');
    expect(m.isMonitoring).toBe(false);
  });

  it('monitor options: alerts, alertHysteresis, maxAlerts, callbackIntervalMs; getRecentSnapshots(-1)', () => {
    expectInvalidOption(() => new RealTimeMonitor({ alerts: { cpuPercent: NaN } }), 'options.alerts.cpuPercent', 'NaN');
    expectInvalidOption(() => new RealTimeMonitor({ alerts: { queue: '10' as never } }), 'options.alerts.queue', '"10"');
    expectInvalidOption(() => new RealTimeMonitor({ alertHysteresis: 1.5 }), 'options.alertHysteresis', '1.5');
    expectInvalidOption(() => new RealTimeMonitor({ alertMinDurationMs: -5 }), 'options.alertMinDurationMs', '-5');
    expectInvalidOption(() => new RealTimeMonitor({ alertClearAfterMs: Infinity }), 'options.alertClearAfterMs', 'Infinity');
    expectInvalidOption(() => new RealTimeMonitor({ maxAlerts: 0 }), 'options.maxAlerts', '0');
    expectInvalidOption(() => new RealTimeMonitor({ callbackIntervalMs: 0 }), 'options.callbackIntervalMs', '0');
    const m = new RealTimeMonitor();
    expectInvalidOption(() => m.getRecentSnapshots(-1), 'count', '-1');
    expectInvalidOption(() => m.getAverageMetrics(NaN), 'durationMs', 'NaN');
  });

  it('the valid edges are accepted: samplingIntervalMs 0.1, capacity 2', () => {
    expect(new Sampler({ samplingIntervalMs: 0.1, capacity: 2 }).capacity).toBe(2);
    expect(new RealTimeMonitor({ samplingIntervalMs: 0.1, capacity: 2 }).isMonitoring).toBe(false);
  });
});
