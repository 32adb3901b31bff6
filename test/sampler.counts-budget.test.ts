/**
 * A tree's costly-counts budget (sampler/tree-upkeep.ts): as the tree's threads grow, the counts
 * interval lengthens to ~9 µs a thread per 5 µs of budget a ms, unless the user set it. The oracle
 * for the tree's size: the thread counts of /proc/PID/task of this process and its children, read here.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Sampler } from '../dist/index.js';
import { FIXTURES, killChildren, sleep, spawnReady } from './helpers/readers.js';
import { requireAddonFor } from './helpers/optional-readers.js';

const tasks = (pid: number | 'self'): number => readdirSync(`/proc/${pid}/task`).length;

describe.runIf(process.platform === 'linux')('the counts budget of a tree (native)', () => {
  requireAddonFor('native');
  let sampler: Sampler | undefined;
  afterEach(async () => {
    await sampler?.stop();
    sampler = undefined;
    await killChildren();
  });

  async function treeOfThreads(): Promise<number[]> {
    const kids = await Promise.all([0, 1].map(() => spawnReady('python3', [join(FIXTURES, 'threads8.py')])));
    return kids.map((k) => k.pid);
  }

  it('lengthens the default counts interval to the tree\'s threads, within the kernel\'s counts before and after', async () => {
    const kids = await treeOfThreads();
    sampler = new Sampler({ tree: true, samplingIntervalMs: 5 });
    await sampler.start();
    const before = tasks('self') + kids.reduce((n, p) => n + tasks(p), 0);
    await sleep(400); // several budget checks (every 50 ms, sampler/tree-upkeep.ts)
    const after = tasks('self') + kids.reduce((n, p) => n + tasks(p), 0);
    const budget = (threads: number) => Math.max(20, Math.ceil((threads * 9) / 5));
    // ±9 ms (5 threads): the budget counts threads from the members' last counts reading, which
    // may predate this process's own thread churn (vitest, the sampler) by one counts interval.
    expect(Math.min(before, after)).toBeGreaterThanOrEqual(16 + 8); // two 8-thread children and this process
    expect(sampler.countsIntervalMs).toBeGreaterThan(20);
    expect(sampler.countsIntervalMs).toBeGreaterThanOrEqual(budget(Math.min(before, after)) - 9);
    expect(sampler.countsIntervalMs).toBeLessThanOrEqual(budget(Math.max(before, after)) + 9);
  });

  it('keeps a counts interval the user set, however large the tree', async () => {
    await treeOfThreads();
    sampler = new Sampler({ tree: true, samplingIntervalMs: 5, countsIntervalMs: 20 });
    await sampler.start();
    await sleep(400);
    expect(sampler.countsIntervalMs).toBe(20);
  });
});
