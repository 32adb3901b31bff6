/**
 * Lifecycle of the sampler under RealTimeMonitor (and Sampler itself): start/stop idempotent, the
 * seed's startMonitoring/stopMonitoring names, restart, and the ring bounded by capacity. How many
 * sampler threads run is read from /proc/self/task (one more thread per worker), not from procprobe.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { RealTimeMonitor, Sampler } from '../dist/index.js';
import { selfThreads } from './helpers/monitor-readers.js';
import { sleep, waitFor } from './helpers/readers.js';

const running: { stop(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((m) => m.stop()));
});

function monitor(opts: ConstructorParameters<typeof RealTimeMonitor>[0]): RealTimeMonitor {
  const m = new RealTimeMonitor(opts);
  running.push(m);
  return m;
}

/** The thread count once it has held still across a 30 ms pause (threads of earlier tests are gone). */
async function steadyThreads(): Promise<number> {
  return waitFor('a steady thread count', () => {
    const a = selfThreads();
    const start = Date.now();
    while (Date.now() - start < 30);
    return selfThreads() === a ? a : undefined;
  });
}

const waitThreads = (n: number) => waitFor(`${n} threads in /proc/self/task`, () => (selfThreads() === n ? true : undefined));

describe('start() and stop()', () => {
  it('two concurrent start() calls run one worker; isMonitoring is true; samples arrive', async () => {
    const base = await steadyThreads();
    const m = monitor({ samplingIntervalMs: 5 });
    expect(m.isMonitoring).toBe(false);
    await Promise.all([m.start(), m.start()]);
    expect(m.isMonitoring).toBe(true);
    await m.start(); // and a third, later
    await sleep(100);
    expect(selfThreads()).toBe(base + 1);
    const seq = m.reader.latestSeq();
    const t0 = performance.now();
    await sleep(100);
    const added = m.reader.latestSeq() - seq;
    const elapsed = performance.now() - t0;
    // One writer at 5 ms: at most one record per 5 ms deadline, not twice that.
    expect(added).toBeGreaterThanOrEqual(5);
    expect(added).toBeLessThanOrEqual(elapsed / 5 + 2);
    const snaps = m.getRecentSnapshots(30);
    for (let i = 1; i < snaps.length; i++) expect(snaps[i]!.seq).toBe(snaps[i - 1]!.seq + 1);
  });

  it('stop() is idempotent: concurrent and repeated calls resolve, isMonitoring false, the thread is gone', async () => {
    const base = await steadyThreads();
    const m = monitor({ samplingIntervalMs: 5 });
    await m.stop(); // before any start: a no-op
    await m.start();
    expect(selfThreads()).toBe(base + 1);
    await sleep(50);
    await Promise.all([m.stop(), m.stop()]);
    expect(m.isMonitoring).toBe(false);
    await m.stop();
    expect(m.isMonitoring).toBe(false);
    await waitThreads(base);
    const seq = m.reader.latestSeq();
    await sleep(50);
    expect(m.reader.latestSeq()).toBe(seq); // nothing writes any more
    expect(m.getRecentSnapshots(5).length).toBe(5); // and the samples stay
  });

  it('startMonitoring/stopMonitoring are the same operations under the seed names', async () => {
    const base = await steadyThreads();
    const m = monitor({ samplingIntervalMs: 5 });
    await m.startMonitoring();
    expect(m.isMonitoring).toBe(true);
    await m.start(); // same worker
    await sleep(30);
    expect(selfThreads()).toBe(base + 1);
    await m.stopMonitoring();
    expect(m.isMonitoring).toBe(false);
    await m.stop();
    await waitThreads(base);
  });

  it('stop() then start() continues the sequence numbers and keeps the old samples', async () => {
    const m = monitor({ samplingIntervalMs: 5, capacity: 500 });
    await m.start();
    await sleep(100);
    await m.stop();
    const old = m.getRecentSnapshots(500);
    const lastOld = old.at(-1)!;
    await sleep(60);
    await m.start();
    expect(m.isMonitoring).toBe(true);
    await sleep(100);
    await m.stop();
    const all = m.getRecentSnapshots(500);
    const at = all.findIndex((s) => s.seq === lastOld.seq);
    expect(at).toBeGreaterThanOrEqual(0);
    expect(all.slice(0, at + 1)).toEqual(old.slice(old.length - at - 1)); // unchanged
    const next = all[at + 1]!;
    expect(next.seq).toBe(lastOld.seq + 1);
    expect(next.timestamp - lastOld.timestamp).toBeGreaterThanOrEqual(50); // the pause is visible
    expect(all.length - at - 1).toBeGreaterThanOrEqual(5);
    for (let i = 1; i < all.length; i++) expect(all[i]!.seq).toBe(all[i - 1]!.seq + 1);
  });

  // Found by this suite: start() while a stop() is in flight returns the old, settled start promise,
  // and the stop then completes, so the monitor ends up stopped although start() was the last call.
  it('start() called while stop() is in flight leaves the monitor running', async () => {
    const m = monitor({ samplingIntervalMs: 5 });
    await m.start();
    const stopping = m.stop();
    await m.start();
    await stopping;
    await sleep(50);
    expect(m.isMonitoring).toBe(true);
    const seq = m.reader.latestSeq();
    await sleep(50);
    expect(m.reader.latestSeq()).toBeGreaterThan(seq);
  });

  it('Sampler: concurrent start() share one worker, stop() twice resolves, the ring keeps the records', async () => {
    const base = await steadyThreads();
    const s = new Sampler({ samplingIntervalMs: 5, capacity: 100 });
    running.push(s);
    const [a, b] = [s.start(), s.start()];
    expect(a).toBe(b);
    await a;
    expect(s.isRunning).toBe(true);
    expect(s.reader.latestSeq()).toBeGreaterThanOrEqual(0); // start resolves with a sample in the ring
    expect(selfThreads()).toBe(base + 1);
    await Promise.all([s.stop(), s.stop()]);
    expect(s.isRunning).toBe(false);
    await waitThreads(base);
    expect(s.reader.size).toBeGreaterThan(0);
  });
});

describe('capacity', () => {
  it('bounds the ring: after more than capacity samples, getRecentSnapshots(2 * capacity) returns capacity', async () => {
    const capacity = 50;
    const m = monitor({ samplingIntervalMs: 1, capacity });
    await m.start();
    await waitFor('130 samples', () => (m.reader.latestSeq() >= 130 ? true : undefined));
    await m.stop();
    const latest = m.reader.latestSeq();
    expect(m.stats.samples).toBe(latest + 1);
    const snaps = m.getRecentSnapshots(capacity * 2);
    expect(snaps).toHaveLength(capacity);
    expect(snaps.at(-1)!.seq).toBe(latest);
    expect(snaps[0]!.seq).toBe(latest - capacity + 1);
  });
});
