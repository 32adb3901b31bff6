/**
 * PSS (src/probe/pss.ts): read from /proc/PID/smaps_rollup every pssIntervalMs, carried by the
 * next record (R.PSS_BYTES, NaN in the others), summed over a tree's members, and its peak in a
 * session's resources (pssPeakBytes).
 *
 * Oracles: smaps_rollup and statm read here with fs and parsed here (helpers/monitor-readers.ts);
 * the fixtures' own pid accounts (fixtures/pss-fork.py: a parent that touched 50 MiB and forked 4
 * children that only read it). A quiet `sleep` has a steady PSS, so the test's reading before and
 * after bounds the sampler's.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PerformanceMonitor, RealTimeMonitor, type PerformanceSnapshot } from '../dist/index.js';
import { readPssBytes } from '../dist/probe/pss.js';
import { expectInvalidOption } from './helpers/errors.js';
import { MiB, smapsPss, statmRss } from './helpers/monitor-readers.js';
import { describeWith } from './helpers/optional-readers.js';
import { FIXTURES, killChildren, sleep, spawnReady, spawnSleeper, waitFor } from './helpers/readers.js';
import { removeTempDirs, tempDir } from './helpers/temp-dirs.js';

const PYTHON = '/usr/bin/python3';
const SHARED_MIB = 50;
const CHILDREN = 4;

afterAll(async () => {
  await killChildren();
  removeTempDirs();
});

/** Every snapshot of a monitor over `pid` for `ms`. */
async function watch(opts: ConstructorParameters<typeof RealTimeMonitor>[0], ms: number): Promise<PerformanceSnapshot[]> {
  const mon = new RealTimeMonitor({ capacity: 5000, ...opts });
  try {
    await mon.start();
    await sleep(ms);
    return mon.getRecentSnapshots(5000);
  } finally {
    await mon.stop();
  }
}

const withPss = (snaps: PerformanceSnapshot[]) => snaps.filter((s) => !Number.isNaN(s.pssBytes));

describe('one process', () => {
  it('readPssBytes is the Pss line of smaps_rollup (a quiet sleep: the same before and after)', async () => {
    const child = await spawnSleeper('/bin/sleep', 'sleep');
    const before = smapsPss(child.pid);
    const got = readPssBytes(child.pid);
    const after = smapsPss(child.pid);
    expect(before).toBe(after);
    expect(got).toBe(before);
    expect(got).toBeGreaterThan(0);
    child.kill('SIGKILL');
  });

  it.each([
    ['the JavaScript loop (10 ms)', 10],
    ['the native loop (1 ms)', 1],
  ])('%s: every 50 ms one record carries the PSS smaps_rollup shows; the others carry NaN', async (_name, intervalMs) => {
    // A process that touched 20 MiB of its own: its PSS is that and a few hundred KiB of shared
    // libraries, whose shares move by a few KiB as other processes map them.
    const out = join(tempDir('procprobe-pss-'), 'pids.json');
    const child = await spawnReady(PYTHON, [`${FIXTURES}pss-fork.py`, '20', '0', out], 60_000);
    const before = smapsPss(child.pid);
    const snaps = await watch({ pid: child.pid, samplingIntervalMs: intervalMs, pssIntervalMs: 50 }, 1000);
    const after = smapsPss(child.pid);
    child.stdin!.end();
    const read = withPss(snaps);
    // 1 s at one reading per >= 50 ms: about 20; a loaded machine's late ticks make fewer.
    expect(read.length, `${read.length} readings in ${snaps.length} records`).toBeGreaterThanOrEqual(4);
    expect(read.length).toBeLessThanOrEqual(21);
    expect(before).toBeGreaterThan(20 * MiB);
    for (const s of read) {
      expect(s.pssBytes, `seq ${s.seq}: test read ${before} and ${after}`).toBeGreaterThanOrEqual(Math.min(before, after) - 256 * 1024);
      expect(s.pssBytes, `seq ${s.seq}: test read ${before} and ${after}`).toBeLessThanOrEqual(Math.max(before, after) + 256 * 1024);
    }
    // Read >= 50 ms apart; each rides the next record, which a stalled thread on a loaded machine
    // can write tens of ms after the read (seen: gaps of 134 then 2 ms): the gaps jitter by that,
    // their mean hardly.
    const gaps = read.slice(1).map((s, i) => s.timestamp - read[i]!.timestamp);
    expect((read.at(-1)!.timestamp - read[0]!.timestamp) / gaps.length, `gaps ${gaps.map(Math.round).join(', ')} ms`).toBeGreaterThanOrEqual(40);
    expect(snaps.length - read.length, 'records without a reading').toBeGreaterThan(read.length);
  }, 60_000);

  it('pssIntervalMs 0: no record carries PSS', async () => {
    const child = await spawnSleeper('/bin/sleep', 'sleep');
    const snaps = await watch({ pid: child.pid, samplingIntervalMs: 5, pssIntervalMs: 0 }, 300);
    child.kill('SIGKILL');
    expect(snaps.length).toBeGreaterThan(10);
    expect(withPss(snaps)).toHaveLength(0);
  }, 30_000);

  it('by default PSS is read for another pid, never for this process (its walks would be its own CPU)', async () => {
    const child = await spawnSleeper('/bin/sleep', 'sleep');
    const other = await watch({ pid: child.pid, samplingIntervalMs: 5 }, 800);
    child.kill('SIGKILL');
    expect(withPss(other).length, 'another pid, default interval (250 ms)').toBeGreaterThanOrEqual(1);
    const self = await watch({ samplingIntervalMs: 5 }, 800);
    expect(self.length).toBeGreaterThan(10);
    expect(withPss(self), 'this process, default').toHaveLength(0);
    const asked = await watch({ samplingIntervalMs: 5, pssIntervalMs: 100 }, 800);
    expect(withPss(asked).length, 'this process, asked for').toBeGreaterThanOrEqual(1);
  }, 30_000);

  it('a bad pssIntervalMs is refused by PerformanceMonitor too, naming it and the value', () => {
    expectInvalidOption(() => new PerformanceMonitor({ dataDir: tempDir('procprobe-pss-'), pssIntervalMs: -5 }), 'options.pssIntervalMs', '-5');
  });
});

describeWith('python3', 'a forked tree: a parent that touched 50 MiB and 4 children that only read it', () => {
  let pids: number[] = [];
  let stop = () => {};

  beforeAll(async () => {
    const out = join(tempDir('procprobe-pss-'), 'pids.json');
    const child = await spawnReady(PYTHON, [`${FIXTURES}pss-fork.py`, String(SHARED_MIB), String(CHILDREN), out], 60_000);
    const account = JSON.parse(readFileSync(out, 'utf8')) as { parent: number; children: number[] };
    pids = [account.parent, ...account.children];
    stop = () => child.stdin!.end();
  }, 90_000);

  afterAll(() => stop());

  const sum = (f: (pid: number) => number) => pids.reduce((a, p) => a + f(p), 0);

  it('the tree sums its members: PSS within 3 % of the sum of their smaps_rollup, summed RSS far above it', async () => {
    const mon = new RealTimeMonitor({ pid: pids[0]!, tree: true, samplingIntervalMs: 10, pssIntervalMs: 50, capacity: 5000 });
    const checks: { snap: PerformanceSnapshot; lo: number; hi: number; rss: number }[] = [];
    try {
      await mon.start();
      await waitFor('the tree to count its 5 processes', () => (mon.getRecentSnapshots(1)[0]!.processes === pids.length ? true : undefined), 30_000);
      for (let i = 0; i < 3; i++) {
        const before = sum(smapsPss);
        const t = Date.now();
        // The first reading taken after the test's: it rides a record stamped after t.
        const snap = await waitFor('a record with PSS after the read', () => withPss(mon.getRecentSnapshots(200)).find((s) => s.timestamp > t + 1 && s.processes === pids.length), 10_000);
        const after = sum(smapsPss);
        checks.push({ snap, lo: Math.min(before, after), hi: Math.max(before, after), rss: sum(statmRss) });
      }
    } finally {
      await mon.stop();
    }
    for (const { snap, lo, hi, rss } of checks) {
      const msg = JSON.stringify({ pss: snap.pssBytes, lo, hi, rss: snap.rssBytes, rssTest: rss });
      expect(snap.pssBytes, msg).toBeGreaterThanOrEqual(lo * 0.97);
      expect(snap.pssBytes, msg).toBeLessThanOrEqual(hi * 1.03);
      // Each process's RSS counts the 50 MiB; the tree's PSS counts it once.
      expect(snap.pssBytes, msg).toBeGreaterThan(SHARED_MIB * MiB * 0.9);
      expect(snap.pssBytes, msg).toBeLessThan(SHARED_MIB * MiB * 2);
      expect(rss, msg).toBeGreaterThan(lo + CHILDREN * SHARED_MIB * MiB * 0.8);
      expect(snap.rssBytes, msg).toBeGreaterThan(snap.pssBytes + CHILDREN * SHARED_MIB * MiB * 0.8);
    }
  }, 60_000);

  it("a session's resources: pssPeakBytes near the members' summed smaps_rollup, below rssPeakBytes", async () => {
    const pm = new PerformanceMonitor({ dataDir: tempDir('procprobe-pss-'), pid: pids[0]!, tree: true, resourceSamplingIntervalMs: 5, pssIntervalMs: 50, nodeBootstrap: false });
    try {
      const lo = sum(smapsPss);
      pm.startSession();
      await pm.samplingReady();
      await sleep(600);
      const session = await pm.finishSession(true);
      const hi = sum(smapsPss);
      const r = session.resources!;
      const msg = JSON.stringify({ pss: r.pssPeakBytes, rss: r.rssPeakBytes, lo, hi });
      expect(r.pssPeakBytes, msg).toBeGreaterThanOrEqual(Math.min(lo, hi) * 0.97);
      expect(r.pssPeakBytes, msg).toBeLessThanOrEqual(Math.max(lo, hi) * 1.03);
      expect(r.rssPeakBytes, msg).toBeGreaterThan(r.pssPeakBytes! + CHILDREN * SHARED_MIB * MiB * 0.8);
    } finally {
      await pm.close();
    }
  }, 60_000);
});
