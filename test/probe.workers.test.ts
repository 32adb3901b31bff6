/**
 * The addon loaded and unloaded in 50 worker threads, 5 at a time, each probing this process and a
 * child 200 times; every fifth worker is terminated mid-sampling. The host must not crash, the
 * samples must be right (pids, the child's threads and RSS against /proc), and afterwards this
 * process's fd count (/proc/self/fd, read here) returns to its baseline and RSS (statm) stays
 * bounded: probes left open are closed when their thread's environment is torn down.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { createProbe, ProbeStatus, type Probe } from '../dist/index.js';
import { need } from './helpers/optional-readers.js';
import { getconf, killChildren, selfProcFdCount, selfRssBytes, sleep, spawnSleeper, statmPages } from './helpers/readers.js';

const WORKERS = 50;
const AT_ONCE = 5;
const SAMPLES = 200;
const script = new URL('./fixtures/probe-churn-worker.mjs', import.meta.url);
// Under AddressSanitizer (npm run test:asan: libasan is mapped here) freed memory stays mapped in
// the sanitizer's quarantine and size-class caches, 54-70 MiB after this churn where the plain
// allocator gives it back; LeakSanitizer is the leak check there (scripts/test-asan.mjs).
const RSS_BOUND = (readFileSync('/proc/self/maps', 'latin1').includes('/libasan.') ? 150 : 50) * 2 ** 20;

interface Outcome {
  index: number;
  code: number;
  result?: { ok: number; bad: unknown[]; childThreads: number; childRss: number; selfPid: number };
}

/** Most fds on /proc seen while a terminated worker was alive with its probes open. */
let peakProcFds = 0;

function runWorker(index: number, childPid: number, terminate: boolean): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const w = new Worker(script, { workerData: { childPid, mode: terminate ? 'terminate' : 'sample', samples: SAMPLES } });
    let result: Outcome['result'];
    w.on('message', (m) => {
      if (m.started) {
        peakProcFds = Math.max(peakProcFds, selfProcFdCount());
        // Let it sample for 0-4 ms, then stop it mid-loop.
        setTimeout(() => void w.terminate(), index % 5);
      } else {
        result = m;
      }
    });
    w.once('error', (err) => reject(new Error(`worker ${index} failed: ${err.stack ?? err}`)));
    w.once('exit', (code) => resolve({ index, code, result }));
  });
}

/** This process's fds and their targets (readlink), the listing's own fd left out. */
function fdTargets(): Map<string, string> {
  const out = new Map<string, string>();
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      out.set(fd, readlinkSync(`/proc/self/fd/${fd}`));
    } catch {
      // the listing's own fd, closed by now
    }
  }
  return out;
}

/** The fds opened since `before` (same number, same target is the same fd). */
function newFds(before: Map<string, string>): string[] {
  return [...fdTargets()].filter(([fd, target]) => before.get(fd) !== target).map(([fd, target]) => `${fd} -> ${target}`);
}

/** fd counts settle once the exited threads' handles are gone; poll briefly before judging. */
async function settledProcFds(target: number): Promise<number> {
  let now = selfProcFdCount();
  for (let i = 0; i < 100 && now !== target; i++) {
    await sleep(20);
    now = selfProcFdCount();
  }
  return now;
}

describe('the addon in worker threads', () => {
  let mainProbe: Probe | undefined;
  afterEach(async () => {
    mainProbe?.close();
    await killChildren();
  });

  it('survives 50 workers (10 terminated mid-sampling) without leaking fds or memory', async (ctx) => {
    need(ctx, 'addon');
    const child = await spawnSleeper('sleep', 'sleep');
    const page = getconf('PAGESIZE');
    mainProbe = createProbe();

    // Warm-up: the first worker creates per-process state (platform threads, module caches).
    const warm = await runWorker(-1, child.pid, false);
    expect(warm.code).toBe(0);
    await sleep(100);
    const baseFds = fdTargets();
    const baseProc = selfProcFdCount();
    const baseRss = selfRssBytes();

    const outcomes: Outcome[] = [];
    for (let start = 0; start < WORKERS; start += AT_ONCE) {
      const batch = [];
      for (let i = start; i < Math.min(start + AT_ONCE, WORKERS); i++) {
        batch.push(runWorker(i, child.pid, i % 5 === 2));
      }
      outcomes.push(...(await Promise.all(batch)));
    }

    expect(outcomes).toHaveLength(WORKERS);
    const terminated = outcomes.filter((o) => o.index % 5 === 2);
    const completed = outcomes.filter((o) => o.index % 5 !== 2);
    expect(terminated).toHaveLength(10);
    for (const o of terminated) {
      expect(o.code, `worker ${o.index} was terminated`).toBe(1);
      expect(o.result, `worker ${o.index} never finished its endless loop`).toBeUndefined();
    }
    const childRss = statmPages(child.pid).resident * page;
    for (const o of completed) {
      expect(o.code, `worker ${o.index}`).toBe(0);
      expect(o.result, `worker ${o.index}`).toBeDefined();
      expect(o.result!.bad, `worker ${o.index}`).toEqual([]);
      expect(o.result!.ok).toBe(SAMPLES);
      expect(o.result!.selfPid).toBe(process.pid);
      expect(o.result!.childThreads).toBe(1);
      expect(o.result!.childRss).toBe(childRss); // a sleeping child's statm does not move
    }

    // Each live worker held its probes' kernel files (3 probes, 4 files each, opened natively:
    // Node does not track them); the terminated ones never closed them themselves.
    expect(peakProcFds, `baseline ${baseProc} fds on /proc`).toBeGreaterThanOrEqual(baseProc + 12);
    // The addon opens only /proc files: those must all be closed again. Other fds belong to
    // Node and the test runner (an RPC socket, a worker's eventfd) and may come and go while
    // this runs; a leak per worker would still show as ten or more of them.
    const procFds = await settledProcFds(baseProc);
    const opened = newFds(baseFds);
    expect(procFds, `fds on /proc before ${baseProc}, after ${procFds}; new: ${opened.join(', ')}`).toBe(baseProc);
    expect(opened.filter((f) => f.includes('-> /proc/'))).toEqual([]);
    expect(opened.length, `new fds: ${opened.join(', ')}`).toBeLessThan(terminated.length);
    const growth = selfRssBytes() - baseRss;
    expect(growth, `RSS grew by ${(growth / 2 ** 20).toFixed(1)} MiB`).toBeLessThan(RSS_BOUND);

    // The main thread's addon instance is untouched by the workers' teardowns.
    const row = new Float64Array(32);
    expect(mainProbe.sampleInto(row, 0)).toBe(ProbeStatus.OK);
    expect(row[0]).toBe(process.pid);
  });
});
