/**
 * Context switches of this process count every thread. A worker thread sleeps ~3000 times (0.1 ms
 * Atomics.wait): the probe's delta must agree with process.resourceUsage() (all threads, exited
 * ones included) and be far above /proc/self/status (the leader thread only), both read here.
 */
import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { createProbe, type Probe, type ProcessSample } from '../dist/index.js';
import { ctxOf } from './helpers/readers.js';
import { requireAddonFor } from './helpers/optional-readers.js';

const WAITS = 3000;
const worker = new URL('./fixtures/ctx-switch-worker.mjs', import.meta.url);

function runWorker(): Promise<{ waits: number; timedOut: number }> {
  return new Promise((resolve, reject) => {
    const w = new Worker(worker, { workerData: { waits: WAITS } });
    let result: { waits: number; timedOut: number } | undefined;
    w.once('message', (m) => (result = m));
    w.once('error', reject);
    w.once('exit', (code) => (code === 0 && result ? resolve(result) : reject(new Error(`worker exit ${code}`))));
  });
}

/** resourceUsage, probe, resourceUsage: the probe's counters must lie between the two. */
function bracketed(probe: Probe): { ru: NodeJS.ResourceUsage; s: ProcessSample; ru2: NodeJS.ResourceUsage } {
  const ru = process.resourceUsage();
  const s = probe.sampleSync();
  const ru2 = process.resourceUsage();
  expect(s.voluntaryContextSwitches).toBeGreaterThanOrEqual(ru.voluntaryContextSwitches);
  expect(s.voluntaryContextSwitches).toBeLessThanOrEqual(ru2.voluntaryContextSwitches);
  expect(s.involuntaryContextSwitches).toBeGreaterThanOrEqual(ru.involuntaryContextSwitches);
  expect(s.involuntaryContextSwitches).toBeLessThanOrEqual(ru2.involuntaryContextSwitches);
  return { ru, s, ru2 };
}

describe.each(['native', 'builtin'] as const)('context switches of this process (%s)', (backend) => {
  requireAddonFor(backend);
  let probe: Probe | undefined;
  afterEach(() => probe?.close());

  it('count the sleeps of a worker thread (all threads), not only the main thread', async () => {
    probe = createProbe({ backend });
    const leader0 = ctxOf('/proc/self/status');
    const a = bracketed(probe);

    const result = await runWorker();

    const b = bracketed(probe);
    const leader1 = ctxOf('/proc/self/status');

    expect(result.waits).toBe(WAITS);
    expect(result.timedOut).toBe(WAITS); // nobody notifies: every wait slept until its timeout

    const probeDelta = b.s.voluntaryContextSwitches - a.s.voluntaryContextSwitches;
    const ruDelta = b.ru.voluntaryContextSwitches - a.ru.voluntaryContextSwitches;
    const leaderDelta = leader1.vol - leader0.vol;
    const msg = `probe +${probeDelta}, resourceUsage +${ruDelta}, leader thread (/proc/self/status) +${leaderDelta}`;

    // Every timed wait blocks once; a few may not (timer already expired): at least 80%.
    expect(ruDelta, msg).toBeGreaterThanOrEqual(WAITS * 0.8);
    // The probe and getrusage (via Node) agree; the few switches between back-to-back reads aside.
    expect(Math.abs(probeDelta - ruDelta), msg).toBeLessThanOrEqual(20);
    // The leader thread only waited for the worker: it saw a small fraction of those switches.
    expect(leaderDelta, msg).toBeLessThan(probeDelta / 10);
  });
});
