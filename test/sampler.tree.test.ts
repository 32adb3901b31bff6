/**
 * tree: true sums a process and its descendants. The target is a node child (fixtures/
 * tree-parent.mjs) that starts three node grandchildren, then SIGKILLs them and leaves them zombies
 * for 400 ms before reaping them. The pids and their memory come from /proc here: stat (ppid,
 * state, utime/stime/cutime/cstime) and statm.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RealTimeMonitor, type PerformanceSnapshot } from '../dist/index.js';
import { CLK_TCK, liveDescendants, MiB, nextLine, statmRss } from './helpers/monitor-readers.js';
import { FIXTURES, killChildren, procExists, procStat, sleep, spawnReady, waitFor } from './helpers/readers.js';

const GRANDCHILDREN = 3;

interface RssCheck {
  snapshot: PerformanceSnapshot;
  before: number;
  after: number;
}

let mon: RealTimeMonitor | undefined;
let rootPid = 0;
let grandPids: number[] = [];
let snaps: PerformanceSnapshot[] = [];
let rssChecks: RssCheck[] = [];
let descendantsWhileAlive: number[] = [];
let kernelCpuUs = 0; // the child's own CPU + its reaped children's, from /proc/PID/stat, after the kill
let cpuAfterKill = NaN;

const cpu = (s: PerformanceSnapshot) => s.cpuUserUs + s.cpuSystemUs;
const sumRss = (pids: number[]) => pids.reduce((a, p) => a + statmRss(p), 0);

beforeAll(async () => {
  const child = await spawnReady(process.execPath, [`${FIXTURES}tree-parent.mjs`]);
  rootPid = child.pid;
  try {
    mon = new RealTimeMonitor({ pid: rootPid, tree: true, samplingIntervalMs: 10, rescanIntervalMs: 20, capacity: 5000 });
    await mon.start();
    const m = mon;
    const newest = () => m.getRecentSnapshots(1)[0]!;
    await waitFor('a few samples of the child alone', () => (m.reader.latestSeq() >= 5 ? true : undefined));

    const spawned = nextLine(child, 'spawned');
    child.stdin!.write(`spawn ${GRANDCHILDREN}\n`);
    grandPids = (await spawned).slice('spawned '.length).split(',').map(Number);
    descendantsWhileAlive = liveDescendants(rootPid).sort();
    await waitFor('the tree to count the grandchildren', () => (newest().processes === 1 + GRANDCHILDREN ? true : undefined));
    await sleep(200); // the grandchildren settle (startup done, 16 MiB touched)

    // Summed RSS against statm over the same pids, read before and after a fresh sample.
    const pids = [rootPid, ...grandPids];
    for (let i = 0; i < 5; i++) {
      const before = sumRss(pids);
      const t = Date.now();
      await waitFor('a sample after the statm read', () => (newest().timestamp > t + 1 ? true : undefined));
      const after = sumRss(pids);
      rssChecks.push({ snapshot: newest(), before, after });
      await sleep(30);
    }

    const killed = nextLine(child, 'killed');
    child.stdin!.write('kill\n');
    await killed;
    for (const p of grandPids) expect(procExists(p), `grandchild ${p} reaped`).toBe(false);
    await waitFor('the tree to fall back to the child alone', () => (newest().processes === 1 ? true : undefined));
    await sleep(100);
    const seq = m.reader.latestSeq();
    await waitFor('one more sample', () => (m.reader.latestSeq() > seq ? true : undefined));
    cpuAfterKill = cpu(newest());
    const st = procStat(rootPid);
    kernelCpuUs = ((st.field(14) + st.field(15) + st.field(16) + st.field(17)) * 1e6) / CLK_TCK;
    await m.stop();
    snaps = m.getRecentSnapshots(5000);
  } finally {
    await mon?.stop();
    child.stdin!.end();
  }
}, 60_000);

afterAll(async () => {
  await mon?.stop();
  await killChildren();
});

describe('tree: true over a child that starts and kills grandchildren', () => {
  it('the grandchildren are the direct children of the root (checked in /proc)', () => {
    expect(grandPids).toHaveLength(GRANDCHILDREN);
    expect(descendantsWhileAlive).toEqual([...grandPids].sort());
  });

  it('`processes` rises from 1 to include the grandchildren and falls back to 1 after they exit', () => {
    const ok = snaps.filter((s) => s.status === 0);
    expect(ok.length).toBe(snaps.length);
    expect(ok[0]!.processes).toBe(1);
    expect(Math.max(...ok.map((s) => s.processes))).toBe(1 + GRANDCHILDREN);
    expect(ok.at(-1)!.processes).toBe(1);
    const up = ok.findIndex((s) => s.processes === 1 + GRANDCHILDREN);
    const down = ok.findIndex((s, i) => i > up && s.processes === 1);
    expect(up).toBeGreaterThan(0);
    expect(down).toBeGreaterThan(up);
    for (const s of ok) expect(s.pid).toBe(rootPid);
  });

  it('summed rssBytes is the sum of /proc/PID/statm resident over the same pids (±4 MiB)', () => {
    expect(rssChecks).toHaveLength(5);
    for (const { snapshot, before, after } of rssChecks) {
      const msg = JSON.stringify({ rss: snapshot.rssBytes, before, after, processes: snapshot.processes });
      expect(snapshot.processes, msg).toBe(1 + GRANDCHILDREN);
      expect(snapshot.rssBytes, msg).toBeGreaterThanOrEqual(Math.min(before, after) - 4 * MiB);
      expect(snapshot.rssBytes, msg).toBeLessThanOrEqual(Math.max(before, after) + 4 * MiB);
      // Each grandchild holds 16 MiB it touched: the sum is well above the root alone.
      expect(snapshot.rssBytes, msg).toBeGreaterThan(GRANDCHILDREN * 16 * MiB);
    }
  });

  it('cumulative CPU never decreases when members exit, and matches the kernel total after they are reaped', () => {
    for (let i = 1; i < snaps.length; i++) {
      const [a, b] = [snaps[i - 1]!, snaps[i]!];
      const msg = `seq ${b.seq}: processes ${a.processes} -> ${b.processes}, cpu ${cpu(a)} -> ${cpu(b)}`;
      // (1e-6 µs: summing in another order after a fold may round the last bit.)
      expect(cpu(b), msg).toBeGreaterThanOrEqual(cpu(a) - 1e-6);
    }
    // Root utime+stime plus the reaped grandchildren's cutime+cstime (10 ms ticks each, 4 processes).
    const tol = 4 * (1e6 / CLK_TCK) + 30_000;
    expect(Math.abs(cpuAfterKill - kernelCpuUs), `tree ${cpuAfterKill} µs, kernel ${kernelCpuUs} µs`).toBeLessThanOrEqual(tol);
    // The grandchildren's CPU is in it: each burnt 100 ms on purpose.
    expect(cpuAfterKill).toBeGreaterThan(cpu(snaps[0]!) + GRANDCHILDREN * 100_000);
  });

  // Found by this suite: (1) a member read as a zombie is folded with its zombie row, whose context
  // switches are NaN, so its switches drop out of the sum (tree.ts folds `s` for ZOMBIE); (2) now
  // and then a member being killed reads OK with NaN context switches (its task/TID/status files
  // vanish mid-read) and NaN + x makes the whole tree's figure NaN for that sample.
  it('cumulative context switches and page faults never decrease when members exit', () => {
    for (let i = 1; i < snaps.length; i++) {
      const a = snaps[i - 1]!;
      const b = snaps[i]!;
      const msg = `seq ${b.seq}: processes ${a.processes} -> ${b.processes}`;
      expect(b.minorPageFaults, msg).toBeGreaterThanOrEqual(a.minorPageFaults);
      expect(b.contextSwitches, msg).not.toBeNaN();
      expect(b.contextSwitches, msg).toBeGreaterThanOrEqual(a.contextSwitches);
    }
  });
});
