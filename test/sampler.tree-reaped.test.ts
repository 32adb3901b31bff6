/**
 * A tree's CPU includes every child its members waited for, even children the sampler never saw
 * (they lived and were reaped between two rescans), and counts none twice once it did see them.
 * The target (fixtures/reaper-server.py) forks short children one after another, each forking a
 * grandchild it waits for, and reports the kernel's account: its own getrusage(RUSAGE_SELF) and
 * the sum of every child's wait4 rusage (µs; a child's includes the grandchild it waited for).
 */
import { existsSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { RealTimeMonitor, type PerformanceSnapshot } from '../dist/index.js';
import { nextLine } from './helpers/monitor-readers.js';
import { killChildren, sleep, spawnReady, waitFor } from './helpers/readers.js';
import { requireAddonFor } from './helpers/optional-readers.js';

afterAll(killChildren);

// The system python: a pyenv shim on PATH would put a bash between the tree's root and python.
const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
const FIXTURE = new URL('./fixtures/reaper-server.py', import.meta.url).pathname;
// The kernel's reaped-children times are whole USER_HZ ticks, user and system each truncated.
const TICK_US = 10_000;

interface Told {
  selfUs: number;
  childrenUs: number;
  pids: number[];
}

const cpu = (s: PerformanceSnapshot) => s.cpuUserUs + s.cpuSystemUs;

/**
 * Run the fixture under a tree monitor; the tree's CPU a few samples after the fixture's report.
 * forkEvents false: children join only at a rescan (PROCPROBE_FORK_EVENTS=0, read by the worker
 * when start() creates it).
 */
async function watch(backend: 'native' | 'builtin', rescanIntervalMs: number, args: number[], forkEvents = true) {
  const child = await spawnReady(PYTHON, [FIXTURE, ...args.map(String)]);
  const mon = new RealTimeMonitor({ pid: child.pid, tree: true, backend, samplingIntervalMs: 2, rescanIntervalMs, capacity: 50_000 });
  try {
    if (!forkEvents) process.env.PROCPROBE_FORK_EVENTS = '0';
    await mon.start();
    delete process.env.PROCPROBE_FORK_EVENTS;
    await waitFor('a few samples of the parent alone', () => (mon.reader.latestSeq() >= 3 ? true : undefined));
    const report = nextLine(child, '{');
    child.stdin!.write('go\n');
    const told = JSON.parse(await report) as Told;
    await sleep(50); // several samples after every child was reaped
    const snaps = mon.getRecentSnapshots(50_000);
    return { told, snaps, treeUs: cpu(snaps.at(-1)!), maxProcesses: Math.max(...snaps.map((s) => s.processes)) };
  } finally {
    delete process.env.PROCPROBE_FORK_EVENTS;
    await mon.stop();
    child.stdin!.end();
  }
}

/** `ticks`: how many tick-truncated counters the tree sums (2 per member that reaped; own CPU too on builtin). */
function expectExact(r: Awaited<ReturnType<typeof watch>>, ticks: number): void {
  const oracle = r.told.selfUs + r.told.childrenUs;
  const msg = `tree ${r.treeUs} µs, the kernel told the fixture ${oracle} µs (children ${r.told.childrenUs})`;
  // At most one tick short per counter the kernel keeps in ticks, and nothing counted twice: over
  // by no more than the parent's own CPU since it printed.
  expect(r.treeUs, msg).toBeGreaterThanOrEqual(oracle - ticks * TICK_US);
  expect(r.treeUs, msg).toBeLessThanOrEqual(oracle * 1.02 + 3000);
  for (let i = 1; i < r.snaps.length; i++) {
    expect(cpu(r.snaps[i]!), `seq ${r.snaps[i]!.seq}`).toBeGreaterThanOrEqual(cpu(r.snaps[i - 1]!) - 1e-6);
  }
}

describe('tree CPU counts reaped children', () => {
  requireAddonFor('native');

  it('20 children and 20 grandchildren the sampler never adopted (no rescan, no fork events): all their CPU is in the tree', async () => {
    const r = await watch('native', 600_000, [20, 5, 0, 1], false);
    expect(r.told.pids).toHaveLength(40);
    expect(r.maxProcesses, 'no child was adopted').toBe(1);
    expect(r.told.childrenUs).toBeGreaterThan(40 * 5000); // each burnt 5 ms of CPU on purpose
    expectExact(r, 2);
  }, 60_000);

  it('the same on the builtin tier (/proc/PID/stat cutime and cstime read from JavaScript)', async () => {
    const r = await watch('builtin', 600_000, [20, 5, 0, 1], false);
    expect(r.maxProcesses).toBe(1);
    expectExact(r, 4); // the parent's own CPU is in ticks too here (no CPU clock from JavaScript)
  }, 60_000);

  it('children adopted while they ran (rescan every 2 ms), then reaped: counted once, not twice', async () => {
    const r = await watch('native', 2, [8, 15, 60, 1], false);
    expect(r.told.pids).toHaveLength(16);
    expect(r.maxProcesses, 'children and grandchildren were adopted').toBeGreaterThanOrEqual(2);
    // Members that reaped: the parent and each child (its grandchild).
    expectExact(r, 2 * (1 + 8));
  }, 60_000);

  it('the same children adopted at their fork (fork events, no rescan): counted once, not twice', async () => {
    const r = await watch('native', 600_000, [8, 15, 60, 1]);
    expect(r.told.pids).toHaveLength(16);
    expect(r.maxProcesses, 'children and grandchildren were adopted').toBeGreaterThanOrEqual(3);
    expectExact(r, 2 * (1 + 8));
  }, 60_000);
});
