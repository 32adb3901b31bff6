/**
 * The seed's three alerts (high_cpu, high_memory, file_handle_leak) with its message format, a
 * custom-metric threshold, and the bounded alerts list. Each condition is made real and checked
 * with a reader procprobe does not own: process.resourceUsage() for CPU, /proc/self/statm and
 * /proc/meminfo for memory, /proc/self/fd for open files.
 */
import { closeSync, openSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { RealTimeMonitor, type Alert } from '../dist/index.js';
import { memTotalBytes, selfFds, spin, statmRss } from './helpers/monitor-readers.js';
import { sleep, waitFor } from './helpers/readers.js';
import { NO_DEFAULTS, watch } from './helpers/alert-watch.js';


let mon: RealTimeMonitor | undefined;
afterEach(async () => {
  await mon?.stop();
  mon = undefined;
});


describe('seed alerts', () => {
  it("high_cpu: a busy main thread raises 'High CPU usage: N.N%'", async () => {
    // The condition must be real: getrusage must see this process use over 25 % of a core during
    // the spin. A 2-core machine crowded by parallel tests may not give it that: up to 3 tries.
    let raised: Alert[] = [];
    let t0 = 0;
    let t1 = 0;
    let used = 0;
    for (let attempt = 0; attempt < 3 && used <= 0.25; attempt++) {
      await mon?.stop();
      const m = (mon = new RealTimeMonitor({ samplingIntervalMs: 10, capacity: 1000, alerts: { cpuPercent: 20 } }));
      raised = watch(m).raised;
      await m.start();
      await sleep(50);
      const ru0 = process.resourceUsage();
      t0 = Date.now();
      spin(600);
      t1 = Date.now();
      const ru1 = process.resourceUsage();
      used = (ru1.userCPUTime + ru1.systemCPUTime - ru0.userCPUTime - ru0.systemCPUTime) / ((t1 - t0) * 1e3);
    }
    expect(used).toBeGreaterThan(0.25);
    const m = mon!;
    await sleep(150); // housekeeping evaluates the records written during the spin
    // The alert that covers the spin: raised in it, or just before it (a busy moment before the
    // spin, still active: an alert clears only after a quiet second, alertClearAfterMs).
    const cpu = raised.filter((a) => a.type === 'high_cpu' && a.timestamp <= t1 + 20 && (a.clearedAt ?? Infinity) >= t0);
    expect(cpu.length).toBeGreaterThanOrEqual(1);
    const a = cpu[0]!;
    expect(a.metric).toBe('cpuPercent');
    expect(a.threshold).toBe(20);
    expect(a.value).toBeGreaterThan(20);
    expect(a.message).toMatch(/^High CPU usage: \d+\.\d%$/);
    expect(a.message).toBe(`High CPU usage: ${a.value.toFixed(1)}%`);
    expect(a.timestamp).toBeLessThanOrEqual(t1 + 20);
    expect(a.peak).toBeGreaterThanOrEqual(a.value);
    expect(m.alerts).toContain(a);
  });

  // Found by this suite: the first record's cpuPercent is the average since the process started
  // (documented for the probe), and the alert engine treats it as a current rate: a process that
  // was busy before start() and is idle now gets a high_cpu alert stamped at start.
  it('an idle process whose lifetime CPU average is above the threshold raises no high_cpu', async () => {
    const lifetime = () => {
      const ru = process.resourceUsage();
      return ((ru.userCPUTime + ru.systemCPUTime) / (process.uptime() * 1e6)) * 100;
    };
    const deadline = Date.now() + 5000;
    while (lifetime() < 20 && Date.now() < deadline) spin(50); // a young vitest fork is usually there already
    const lifetimePct = lifetime();
    expect(lifetimePct).toBeGreaterThanOrEqual(20); // the setup: busy on average since it started
    const threshold = lifetimePct / 2;
    // alertMinDurationMs 50: a monitor that took the lifetime average for a current figure would
    // hold it on every sample and still raise; the monitor's own start (its worker's boot, ~40 ms
    // of this process's CPU, once seen at 49 % in one 10 ms record) is this process's CPU but brief.
    const m = (mon = new RealTimeMonitor({ samplingIntervalMs: 10, alerts: { cpuPercent: threshold }, alertMinDurationMs: 50 }));
    const { raised } = watch(m);
    const ru0 = process.resourceUsage();
    const t0 = Date.now();
    await m.start();
    await sleep(300);
    const ru1 = process.resourceUsage();
    const idle = ((ru1.userCPUTime + ru1.systemCPUTime - ru0.userCPUTime - ru0.systemCPUTime) / ((Date.now() - t0) * 1e3)) * 100;
    expect(idle).toBeLessThan(threshold); // and below the threshold while monitored, by getrusage
    expect(raised.filter((a) => a.type === 'high_cpu')).toEqual([]);
  });

  it("high_memory: a threshold just below the current memoryPercent raises 'High memory usage: N.N%'", async () => {
    const pct = () => (statmRss('self') / memTotalBytes()) * 100;
    const now = pct();
    const threshold = now * 0.8;
    const m = (mon = new RealTimeMonitor({ samplingIntervalMs: 10, alerts: { memoryPercent: threshold } }));
    const { raised } = watch(m);
    const before = pct();
    await m.start();
    await waitFor('a high_memory alert', () => (raised.some((a) => a.type === 'high_memory') ? true : undefined), 5000);
    const after = pct();
    const a = raised.find((x) => x.type === 'high_memory')!;
    expect(a.metric).toBe('memoryPercent');
    expect(a.threshold).toBe(threshold);
    expect(a.value).toBeGreaterThan(threshold);
    expect(a.value).toBeGreaterThanOrEqual(Math.min(before, after) * 0.95);
    expect(a.value).toBeLessThanOrEqual(Math.max(before, after) * 1.05);
    expect(a.message).toBe(`High memory usage: ${a.value.toFixed(1)}%`);
    expect(m.activeAlerts).toContain(a);
    expect(raised.filter((x) => x.type === 'high_memory')).toHaveLength(1);
  });

  it("file_handle_leak: opening fds past the openFds threshold raises 'High number of open files: N', closing clears it", async () => {
    const base = selfFds();
    const threshold = base + 20;
    const m = (mon = new RealTimeMonitor({ samplingIntervalMs: 5, alerts: { openFds: threshold }, alertHysteresis: 0.1 }));
    const { raised, cleared } = watch(m);
    await m.start();
    await sleep(50);
    expect(raised.filter((a) => a.type === 'file_handle_leak')).toEqual([]);
    const fds: number[] = [];
    try {
      for (let i = 0; i < 50; i++) fds.push(openSync('/dev/null', 'r'));
      const held = selfFds();
      expect(held).toBeGreaterThanOrEqual(base + 50);
      await waitFor('a file_handle_leak alert', () => (raised.some((a) => a.type === 'file_handle_leak') ? true : undefined), 5000);
      const a = raised.find((x) => x.type === 'file_handle_leak')!;
      expect(a.metric).toBe('openFds');
      expect(a.value).toBeGreaterThan(threshold);
      // The sampler runs in its own thread, so it may catch the loop above half-way: the alert's
      // value is a count taken while opening, between the threshold and what /proc/self/fd lists now.
      expect(a.value).toBeLessThanOrEqual(held + 3);
      await sleep(30);
      const latest = m.getRecentSnapshots(1)[0]!;
      expect(Math.abs(latest.openFiles - selfFds())).toBeLessThanOrEqual(3);
      expect(a.message).toBe(`High number of open files: ${a.value}`);
    } finally {
      for (const fd of fds) closeSync(fd);
    }
    expect(selfFds()).toBeLessThan(threshold * 0.9);
    await waitFor('the alert to clear', () => (cleared.some((a) => a.type === 'file_handle_leak') ? true : undefined), 5000);
    const c = cleared.find((x) => x.type === 'file_handle_leak')!;
    expect(c.clearedAt).toBeGreaterThan(c.timestamp);
    expect(raised.filter((a) => a.type === 'file_handle_leak')).toHaveLength(1);
    expect(m.activeAlerts.filter((a) => a.type === 'file_handle_leak')).toEqual([]);
  });
});

describe('custom thresholds and the alerts list', () => {
  it("alerts: { queue: 10 } raises high_queue when a callback's queue exceeds 10", async () => {
    let queue = 3;
    const m = (mon = new RealTimeMonitor({ samplingIntervalMs: 5, callbackIntervalMs: 20, alerts: { ...NO_DEFAULTS, queue: 10 } }));
    m.addCallback(() => ({ queue }));
    const { raised } = watch(m);
    await m.start();
    await sleep(100);
    expect(raised).toEqual([]);
    queue = 12;
    await waitFor('a high_queue alert', () => (raised.length > 0 ? true : undefined), 5000);
    expect(raised).toHaveLength(1);
    const a = raised[0]!;
    expect(a.type).toBe('high_queue');
    expect(a.metric).toBe('queue');
    expect(a.threshold).toBe(10);
    expect(a.value).toBe(12);
    expect(a.message).toContain('queue');
    expect(a.message).toContain('12');
  });

  it('the alerts list keeps at most maxAlerts, the newest', async () => {
    const m = (mon = new RealTimeMonitor({ samplingIntervalMs: 2, maxAlerts: 3, alerts: { ...NO_DEFAULTS, spikes: 10 }, alertHysteresis: 0, alertClearAfterMs: 0 }));
    const g = m.gauge('spikes');
    const { raised, cleared } = watch(m);
    g.set(0);
    await m.start();
    const waitSamples = async (n: number) => {
      const s = m.reader.latestSeq();
      await waitFor(`${n} samples`, () => (m.reader.latestSeq() >= s + n ? true : undefined));
    };
    for (let i = 0; i < 7; i++) {
      g.set(20 + i);
      await waitSamples(3);
      g.set(0);
      await waitSamples(3);
    }
    await sleep(150);
    expect(raised).toHaveLength(7);
    expect(cleared).toHaveLength(7);
    expect(raised.map((a) => a.value)).toEqual([20, 21, 22, 23, 24, 25, 26]);
    expect(m.alerts).toHaveLength(3);
    expect(m.alerts).toEqual(raised.slice(-3));
  });
});
