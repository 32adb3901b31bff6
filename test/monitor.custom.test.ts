/**
 * Custom metrics: the seed's addCallback (values in customMetrics), a throwing callback (counted,
 * warned about once, sampling goes on), gauges set on the main thread and from another worker
 * thread, and a RingReader in another thread that reads the samples without any message.
 */
import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { RealTimeMonitor, type ProcprobeError } from '../dist/index.js';
import { FIXTURES, sleep, waitFor } from './helpers/readers.js';

let mon: RealTimeMonitor | undefined;
const workers: Worker[] = [];
afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.terminate()));
  await mon?.stop();
  mon = undefined;
});

describe('custom metrics', () => {
  it('addCallback: the values it returns appear in customMetrics (non-numbers ignored)', async () => {
    const m = (mon = new RealTimeMonitor({ samplingIntervalMs: 5, callbackIntervalMs: 20, capacity: 1000 }));
    const returned = new Set<number>();
    let calls = 0;
    let firstCallAt = 0;
    m.addCallback(() => {
      calls++;
      if (calls === 1) firstCallAt = Date.now();
      returned.add(calls * 10);
      return { custom_counter: calls * 10, queue_size: 7.5, label: 'not a number' as unknown as number };
    });
    const t0 = Date.now();
    await m.start();
    await sleep(300);
    await m.stop();
    const elapsed = Date.now() - t0;
    // Called at the housekeeping rate: ~elapsed / 20 times (timers on a busy machine run late, never early).
    expect(calls).toBeGreaterThanOrEqual(5);
    expect(calls).toBeLessThanOrEqual(elapsed / 20 + 3);
    // Records taken after the first call (those before it are the subject of the next test).
    const snaps = m.getRecentSnapshots(1000).filter((s) => s.timestamp > firstCallAt + 1);
    for (const s of snaps) expect(s.customMetrics).toHaveProperty('custom_counter');
    expect(snaps.length).toBeGreaterThan(20);
    const seen = new Set(snaps.map((s) => s.customMetrics.custom_counter!));
    for (const v of seen) expect(returned.has(v), `snapshot value ${v}`).toBe(true);
    expect(seen.size).toBeGreaterThanOrEqual(Math.min(5, calls - 1));
    for (const s of snaps) {
      expect(s.customMetrics.queue_size).toBe(7.5);
      expect(s.customMetrics).not.toHaveProperty('label');
    }
    // Non-decreasing over time: a snapshot never shows an older callback value after a newer one.
    for (let i = 1; i < snaps.length; i++) {
      expect(snaps[i]!.customMetrics.custom_counter!).toBeGreaterThanOrEqual(snaps[i - 1]!.customMetrics.custom_counter!);
    }
  });

  // Found by this suite: gauge slots start as 0 in a new ring (only defineGauge writes NaN), and a
  // snapshot is decoded with today's gauge names, so a record written before a callback metric
  // existed shows that metric as a made-up 0.
  it('a record written before a callback metric first had a value leaves the metric out (no made-up 0)', async () => {
    const m = (mon = new RealTimeMonitor({ samplingIntervalMs: 2, callbackIntervalMs: 50, capacity: 1000 }));
    let firstCallAt = 0;
    let seqAtFirstCall = -1; // records up to this one were complete before the metric had a value
    m.addCallback(() => {
      if (firstCallAt === 0) {
        firstCallAt = Date.now();
        seqAtFirstCall = m.reader.latestSeq();
      }
      return { late_metric: 5 };
    });
    await m.start();
    await sleep(100);
    await m.stop();
    const snaps = m.getRecentSnapshots(1000);
    const before = snaps.filter((s) => s.seq <= seqAtFirstCall);
    const after = snaps.filter((s) => s.timestamp > firstCallAt + 1);
    expect(before.length).toBeGreaterThanOrEqual(1);
    expect(after.length).toBeGreaterThan(10);
    for (const s of after) expect(s.customMetrics.late_metric).toBe(5);
    for (const s of before) expect(s.customMetrics, `seq ${s.seq}`).not.toHaveProperty('late_metric');
  });

  it('a throwing callback: counted in stats.callbackErrors, one warning (ERR_PROCPROBE_CALLBACK), sampling continues', async () => {
    const m = (mon = new RealTimeMonitor({ samplingIntervalMs: 5, callbackIntervalMs: 20, capacity: 1000 }));
    const warnings: ProcprobeError[] = [];
    m.on('warning', (w) => warnings.push(w));
    let thrown = 0;
    let good = 0;
    m.addCallback(() => {
      thrown++;
      throw new Error(`boom ${thrown}`);
    });
    m.addCallback(() => ({ good: ++good }));
    await m.start();
    await sleep(150);
    const seqMid = m.reader.latestSeq();
    const goodMid = good;
    await sleep(150);
    await m.stop();
    expect(thrown).toBeGreaterThanOrEqual(5);
    expect(m.stats.callbackErrors).toBe(thrown);
    // One warning for the throws. On a loaded machine a call may also run over its time budget
    // (2 ms at a 20 ms interval): that is its own warning, once, and nothing else may appear.
    const threw = warnings.filter((w) => w.message.includes(' threw: '));
    expect(threw).toHaveLength(1);
    expect(threw[0]!.code).toBe('ERR_PROCPROBE_CALLBACK');
    expect(threw[0]!.message).toContain('boom 1');
    const others = warnings.filter((w) => !threw.includes(w)).map((w) => w.message);
    expect(others.every((t) => t.startsWith('custom metric callback took ')), others.join('\n')).toBe(true);
    expect(others.length).toBeLessThanOrEqual(2); // at most once per callback
    // Sampling and the other callback went on after the errors.
    expect(m.reader.latestSeq()).toBeGreaterThan(seqMid + 10);
    expect(good).toBeGreaterThan(goodMid);
    expect(m.getRecentSnapshots(1)[0]!.customMetrics.good).toBeGreaterThan(goodMid - 1);
  });

  it("gauge('x').set(v) on the main thread shows in the snapshots taken after it", async () => {
    const m = (mon = new RealTimeMonitor({ samplingIntervalMs: 2, capacity: 1000 }));
    const g = m.gauge('x');
    await m.start();
    await sleep(30);
    const t1 = Date.now();
    g.set(42);
    await sleep(100);
    const t2 = Date.now();
    g.set(-3.25);
    await sleep(100);
    const snaps = m.getRecentSnapshots(1000);
    const before = snaps.filter((s) => s.timestamp < t1 - 1);
    const first = snaps.filter((s) => s.timestamp > t1 + 1 && s.timestamp < t2 - 1);
    const second = snaps.filter((s) => s.timestamp > t2 + 1);
    expect(before.length).toBeGreaterThanOrEqual(3);
    expect(first.length).toBeGreaterThanOrEqual(3);
    expect(second.length).toBeGreaterThanOrEqual(3);
    for (const s of before) expect(s.customMetrics).not.toHaveProperty('x'); // unset: NaN, left out
    for (const s of first) expect(s.customMetrics.x).toBe(42);
    for (const s of second) expect(s.customMetrics.x).toBe(-3.25);
    expect(g.value).toBe(-3.25);
  });

  it('a gauge set from another worker thread (attachGauge on monitor.sharedBuffer) shows in the snapshots', async () => {
    const m = (mon = new RealTimeMonitor({ samplingIntervalMs: 2, capacity: 2000 }));
    m.gauge('from_worker');
    await m.start();
    const values = [11, 22, 33];
    const w = new Worker(new URL('gauge-worker.mjs', `file://${FIXTURES}`), {
      workerData: { sab: m.sharedBuffer, name: 'from_worker', values, holdMs: 150 },
    });
    workers.push(w);
    const done = await new Promise<{ setAt: number[]; endAt: number }>((resolve, reject) => {
      w.once('message', resolve);
      w.once('error', reject);
    });
    const snaps = m.getRecentSnapshots(2000);
    for (let i = 0; i < values.length; i++) {
      const from = done.setAt[i]! + 1;
      const to = (done.setAt[i + 1] ?? done.endAt) - 1;
      const during = snaps.filter((s) => s.timestamp > from && s.timestamp < to);
      expect(during.length, `samples while ${values[i]} was set`).toBeGreaterThanOrEqual(3);
      for (const s of during) expect(s.customMetrics.from_worker).toBe(values[i]);
    }
  });

  it('a RingReader in another thread reads the samples with no message but its final count', async () => {
    const m = (mon = new RealTimeMonitor({ samplingIntervalMs: 2, capacity: 1000 }));
    await m.start();
    const seqBefore = m.reader.latestSeq();
    const w = new Worker(new URL('ring-reader-worker.mjs', `file://${FIXTURES}`), {
      workerData: { sab: m.sharedBuffer, durationMs: 400, pid: process.pid },
    });
    workers.push(w);
    const messages: unknown[] = [];
    w.on('message', (msg) => messages.push(msg));
    const exitCode = await new Promise<number>((resolve, reject) => {
      w.once('exit', resolve);
      w.once('error', reject);
    });
    const seqAfter = m.reader.latestSeq();
    expect(exitCode).toBe(0);
    expect(messages).toHaveLength(1);
    const r = messages[0] as Record<string, number>;
    expect(r.badOrder).toBe(0);
    expect(r.badPid).toBe(0);
    expect(r.outside).toBe(0);
    expect(r.missed).toBe(0);
    expect(r.count).toBe(r.lastSeq! - r.firstSeq! + 1);
    expect(r.firstSeq).toBeGreaterThanOrEqual(seqBefore);
    expect(r.lastSeq).toBeLessThanOrEqual(seqAfter);
    // ~1 record per 2 ms over 400 ms: at least a quarter of them on a loaded machine.
    expect(r.count).toBeGreaterThanOrEqual(50);
    expect(r.count).toBeLessThanOrEqual((r.endedAt! - r.startedAt!) / 2 + 5);
    await waitFor('the monitor to still be sampling', () => (m.reader.latestSeq() > seqAfter ? true : undefined));
  });
});
