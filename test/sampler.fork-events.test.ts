/**
 * Fork events (src/sampler/fork-events.ts over native/forkwatch_linux.cc, the Linux proc
 * connector): a tree adopts a child at the first tick after its fork, instead of at the next
 * rescan, and the scan stays the fallback.
 *
 * Oracles: the fixture's own account (fixtures/fork-timed.py: every pid it forked, its parent,
 * its clock just before and just after each fork() and each process's first and last readings),
 * the pids the kernel gave child_process (spawnSync's pid), /proc/self/task for this process's
 * threads, /proc for liveness. In the event tests the tree's periodic scan is off
 * (rescanIntervalMs 600 000): a child that joins, joined through an event.
 *
 * "At the first tick after its fork", in ticks rather than milliseconds, so that it holds on a
 * loaded machine: record j is the first stamped after the fork() returned (the kernel queues the
 * event before that), so tick j + 1 drained after the event was queued, and record j + 1 counts
 * the child if it was alive when that record was read.
 */
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readdirSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { afterAll, describe, expect, it } from 'vitest';
import { loadNative, RealTimeMonitor, type PerformanceSnapshot } from '../dist/index.js';
import type { NativeAddon } from '../dist/probe/native.js';
import { ForkEvents, openForkEvents, type BirthSink } from '../dist/sampler/fork-events.js';
import { nextLine } from './helpers/monitor-readers.js';
import { describeWith, need } from './helpers/optional-readers.js';
import { FIXTURES, killChildren, procExists, sleep, spawnReady, waitFor } from './helpers/readers.js';

afterAll(killChildren);

// The system python: a pyenv shim on PATH would put a bash between the tree's root and python.
const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
const FORK = 1; // native/forkwatch.h
const EXIT = 2;
const NO_RESCAN = 600_000;
/** The sampler stamps records with performance.timeOrigin + now(), the fixture with time.time(): 1 ms covers their offset. */
const CLOCK_MS = 1;

interface Proc {
  pid: number;
  ppid: number;
  forkMs: number;
  forkedMs: number;
  startMs: number;
  endMs: number;
}

interface Plan {
  gapsMs: number[];
  lifeMs: number;
  grandchildren: boolean;
  serial?: boolean;
}

type Event = [kind: number, pid: number, ppid: number];
/** Int32s per drained record (native/forkwatch.h): [kind, pid, ppid, status]. */
const FIELDS = 4;

function addon(): NativeAddon {
  const a = loadNative().addon;
  if (!a?.forkWatchOpen) throw new Error(`no addon with fork events: ${loadNative().reason}`);
  return a;
}

/** Every event pending on handle h ([kind, pid, ppid]; `statuses`: each exit's, by pid), and how many overflows the drains reported. */
function drainAll(a: NativeAddon, h: number): { events: Event[]; lost: number; statuses: Map<number, number> } {
  const out = new Int32Array(1 + FIELDS * 512);
  const events: Event[] = [];
  const statuses = new Map<number, number>();
  let lost = 0;
  for (;;) {
    const n = a.forkWatchDrain!(h, out);
    expect(n, 'drain: a count, not -errno').toBeGreaterThanOrEqual(0);
    lost += out[0]!;
    for (let i = 0; i < n; i++) {
      const r = out.subarray(1 + FIELDS * i, 1 + FIELDS * (i + 1));
      events.push([r[0]!, r[1]!, r[2]!]);
      if (r[0] === EXIT) statuses.set(r[1]!, r[3]!);
    }
    if (n < 512) return { events, lost, statuses };
  }
}

describeWith('addon', 'the proc connector through the addon', () => {
  it("carries each exit's status in waitpid's encoding: the code of a child that exits, the signal of one killed", () => {
    const a = addon();
    expect(a.forkWatchFields).toBe(FIELDS);
    const h = a.forkWatchOpen!();
    expect(h).toBeGreaterThanOrEqual(0);
    try {
      // Oracle: libuv's own waitpid of each child, as spawnSync reports it.
      const coded = spawnSync('/bin/sh', ['-c', 'exit 37']);
      const killed = spawnSync('/bin/sh', ['-c', 'kill -TERM $$']);
      expect([coded.status, killed.signal]).toEqual([37, 'SIGTERM']);
      const { statuses } = drainAll(a, h);
      expect(statuses.get(coded.pid), 'exit 37').toBe(37 << 8);
      expect(statuses.get(killed.pid)! & 0x7f, 'SIGTERM').toBe(15);
    } finally {
      a.forkWatchClose!(h);
    }
  });

  it('reports the fork and the exit of a child this process starts, with its pid and ours, and no thread creation', async () => {
    const a = addon();
    const h = a.forkWatchOpen!();
    expect(h, 'forkWatchOpen: a handle, not -errno (this suite runs as root)').toBeGreaterThanOrEqual(0);
    try {
      const before = new Set(readdirSync('/proc/self/task'));
      const worker = new Worker('setTimeout(() => {}, 1000)', { eval: true }); // new tasks of this process
      await once(worker, 'online');
      const threads = readdirSync('/proc/self/task').filter((t) => !before.has(t)).map(Number);
      const child = spawnSync('/bin/true');
      await worker.terminate();
      const { events, lost } = drainAll(a, h);
      expect(lost).toBe(0);
      expect(events).toContainEqual([FORK, child.pid, process.pid]);
      expect(events).toContainEqual([EXIT, child.pid, process.pid]);
      expect(threads.length, 'the worker added threads').toBeGreaterThan(0);
      for (const tid of [process.pid, ...threads]) expect(events.filter((e) => e[1] === tid), `task ${tid}`).toEqual([]);
    } finally {
      a.forkWatchClose!(h);
    }
  });

  it('counts an overflow when more events come than its queue holds, poll() then asks for a rescan, and it reads on after', (ctx) => {
    need(ctx, 'python3');
    const a = addon();
    const h = a.forkWatchOpen!();
    const opened = openForkEvents();
    expect(h).toBeGreaterThanOrEqual(0);
    expect(opened.events, opened.reason).not.toBeNull();
    const sink: BirthSink = { has: () => false, adopt: () => false, ended: () => {}, execed: () => {} };
    try {
      // 3,000 forks and exits: 6,000 events, about three times what the socket's buffer holds.
      const storm = spawnSync(PYTHON, ['-c', 'import os\nfor _ in range(3000):\n  p = os.fork()\n  if p == 0: os._exit(0)\n  os.waitpid(p, 0)'], { timeout: 60_000 });
      expect(storm.status).toBe(0);
      const { events, lost } = drainAll(a, h);
      const forks = events.filter((e) => e[0] === FORK && e[2] === storm.pid).length;
      expect(lost, 'overflows reported').toBeGreaterThan(0);
      expect(forks, 'the kernel dropped some of the 3000 forks: what the overflow says').toBeLessThan(3000);
      expect(forks).toBeGreaterThan(0);
      expect(opened.events!.poll(sink), 'poll() after the same storm').toBe(false);
      const after = spawnSync('/bin/true');
      const next = drainAll(a, h);
      expect(next.lost).toBe(0);
      expect(next.events).toContainEqual([FORK, after.pid, process.pid]);
      expect(opened.events!.poll(sink)).toBe(true);
    } finally {
      a.forkWatchClose!(h);
      opened.events?.close();
    }
  }, 90_000);
});

/** An addon whose drain hands out scripted batches, and a sink that records what it adopted. */
function scripted(batches: { events: Event[]; lost?: number; err?: number }[], gone: ReadonlySet<number> = new Set()) {
  const calls = { drains: 0, closed: 0 };
  const fake = {
    forkWatchDrain(_h: number, out: Int32Array): number {
      calls.drains++;
      const b = batches.shift() ?? { events: [] };
      if (b.err) return -b.err;
      out[0] = b.lost ?? 0;
      b.events.forEach((e, i) => out.set(e, 1 + 3 * i));
      return b.events.length;
    },
    forkWatchClose: () => void calls.closed++,
  } as unknown as NativeAddon;
  const members = new Set([100]);
  const adopted: [number, number][] = [];
  const sink: BirthSink = {
    has: (pid) => members.has(pid),
    adopt: (pid, ppid) => {
      if (gone.has(pid)) return false; // exited and reaped before its probe could open
      adopted.push([pid, ppid]);
      members.add(pid);
      return true;
    },
    ended: () => {},
    execed: () => {},
  };
  return { events: new ForkEvents(fake, 0), sink, adopted, calls };
}

describe('ForkEvents reading a batch (a scripted addon; the tree is pid 100)', () => {
  it('adopts children and grandchildren of members, parents first, and nothing outside the tree', () => {
    const s = scripted([{ events: [[FORK, 101, 100], [FORK, 500, 1], [FORK, 102, 101], [FORK, 501, 500], [EXIT, 500, 1]] }]);
    expect(s.events.poll(s.sink)).toBe(true);
    expect(s.adopted).toEqual([[101, 100], [102, 101]]);
  });

  it("a grandchild whose event comes before its parent's (the child forked on another CPU first) still joins, after its parent", () => {
    const s = scripted([{ events: [[FORK, 102, 101], [FORK, 103, 102], [FORK, 101, 100]] }]);
    s.events.poll(s.sink);
    expect(s.adopted).toEqual([[101, 100], [102, 101], [103, 102]]);
  });

  it('a child that exits later in the same batch is not adopted (nothing left to read), but its own children are', () => {
    const s = scripted([{ events: [[FORK, 101, 100], [FORK, 102, 101], [EXIT, 101, 100], [FORK, 103, 100], [EXIT, 102, 101]] }]);
    s.events.poll(s.sink);
    expect(s.adopted).toEqual([[103, 100]]);
    const t = scripted([{ events: [[FORK, 101, 100], [FORK, 102, 101], [EXIT, 101, 100]] }]);
    t.events.poll(t.sink);
    expect(t.adopted).toEqual([[102, 101]]);
  });

  it("a child gone before its adoption (a double fork's middle, reaped at once) still brings its children of later batches in", () => {
    const s = scripted([{ events: [[FORK, 101, 100]] }, { events: [[EXIT, 101, 100]] }, { events: [[FORK, 102, 101]] }], new Set([101]));
    for (let i = 0; i < 3; i++) s.events.poll(s.sink);
    expect(s.adopted).toEqual([[102, 101]]);
    // The same when its exit came in the batch of its fork (never opened at all).
    const t = scripted([{ events: [[FORK, 101, 100], [EXIT, 101, 100]] }, { events: [[FORK, 102, 101], [FORK, 501, 500]] }]);
    t.events.poll(t.sink);
    t.events.poll(t.sink);
    expect(t.adopted).toEqual([[102, 101]]);
  });

  it('a batch with an overflow still adopts what came, and poll() returns false: the caller rescans', () => {
    const s = scripted([{ events: [[FORK, 101, 100]], lost: 1 }]);
    expect(s.events.poll(s.sink)).toBe(false);
    expect(s.adopted).toEqual([[101, 100]]);
    expect(s.events.poll(s.sink)).toBe(true);
  });

  it('drains again while batches come back full (1,024 events), and stops at the first short one', () => {
    const full: Event[] = Array.from({ length: 1024 }, (_, i) => [FORK, 1000 + i, 1]);
    full[1023] = [FORK, 101, 100];
    const s = scripted([{ events: full }, { events: [[FORK, 102, 101]] }, { events: [[FORK, 103, 102]] }]);
    s.events.poll(s.sink);
    expect(s.calls.drains).toBe(2);
    expect(s.adopted).toEqual([[101, 100], [102, 101]]);
  });

  it('a failed socket closes the watch: poll() returns false from then on, without calling the addon again', () => {
    const s = scripted([{ events: [], err: 9 }]);
    expect(s.events.poll(s.sink)).toBe(false);
    expect(s.calls).toEqual({ drains: 1, closed: 1 });
    expect(s.events.poll(s.sink)).toBe(false);
    s.events.close();
    expect(s.calls).toEqual({ drains: 1, closed: 1 });
  });
});

/** Run fork-timed.py's plan under a tree monitor at 1 ms; its report and every record. */
async function watch(plan: Plan, rescanIntervalMs: number, forkEvents = true) {
  const child = await spawnReady(PYTHON, [`${FIXTURES}fork-timed.py`, JSON.stringify(plan)]);
  // The worker gets a copy of this environment when it is created (in start()).
  if (!forkEvents) process.env.PROCPROBE_FORK_EVENTS = '0';
  const mon = new RealTimeMonitor({ pid: child.pid, tree: true, samplingIntervalMs: 1, rescanIntervalMs, capacity: 60_000 });
  try {
    await mon.start();
    delete process.env.PROCPROBE_FORK_EVENTS;
    await waitFor('a few samples of the parent alone', () => (mon.reader.latestSeq() >= 5 ? true : undefined));
    const report = nextLine(child, '[');
    child.stdin!.write('go\n');
    const procs = (JSON.parse(await report) as Proc[]).sort((p, q) => p.forkedMs - q.forkedMs);
    await sleep(30);
    const snaps = mon.getRecentSnapshots(60_000);
    return { procs, snaps, discovery: mon.treeDiscovery, rootPid: child.pid };
  } finally {
    delete process.env.PROCPROBE_FORK_EVENTS;
    await mon.stop();
    child.stdin!.end();
  }
}

/** Record j + 1, where j is the first record stamped after `ms`: the first tick that surely drained what happened by `ms`. */
function tickAfter(snaps: PerformanceSnapshot[], ms: number): PerformanceSnapshot {
  const j = snaps.findIndex((s) => s.timestamp >= ms + CLOCK_MS);
  expect(j, `a record after ${ms}`).toBeGreaterThanOrEqual(0);
  const next = snaps[j + 1]!;
  expect(next?.seq, 'consecutive records').toBe(snaps[j]!.seq + 1);
  return next;
}

/** Never more members than processes forked by then: nothing else joined. */
function expectNoStrangers(snaps: PerformanceSnapshot[], procs: Proc[]): void {
  for (const s of snaps) {
    const forked = procs.filter((p) => p.forkMs <= s.timestamp + CLOCK_MS).length;
    expect(s.processes, `seq ${s.seq}`).toBeLessThanOrEqual(1 + forked);
  }
}

const staggered = (n: number) => Array.from({ length: n }, (_, i) => 2 + (i % 4)); // 2, 3, 4, 5, 2... ms apart

describeWith('addon', 'a tree at 1 ms with fork events and no periodic scan', () => {
  it('10 children forked 2-5 ms apart: each is a member from the first tick after its fork', async (ctx) => {
    need(ctx, 'python3');
    const r = await watch({ gapsMs: staggered(10), lifeMs: 300, grandchildren: false }, NO_RESCAN);
    expect(r.discovery).toMatch(/^fork events/);
    expect(r.procs).toHaveLength(10);
    for (const p of r.procs) expect(p.ppid).toBe(r.rootPid);
    r.procs.forEach((p, k) => {
      // All ten live 300 ms: by child k's tick the root and children 0..k are alive.
      const s = tickAfter(r.snaps, p.forkedMs);
      expect(s.processes, `child ${k} (pid ${p.pid}) forked at ${p.forkedMs}, record seq ${s.seq} at ${s.timestamp}`).toBeGreaterThanOrEqual(2 + k);
    });
    expectNoStrangers(r.snaps, r.procs);
    for (const p of r.procs) expect(procExists(p.pid), `${p.pid} reaped`).toBe(false);
    expect(r.snaps.at(-1)!.processes).toBe(1);
  }, 60_000);

  it('20 children that live 5 ms, 20 ms apart: each is a member from the first tick after its fork, if it still lives', async (ctx) => {
    need(ctx, 'python3');
    // Serial: each is reaped before the next fork, so one child at most exists at any time.
    const r = await watch({ gapsMs: Array(20).fill(20), lifeMs: 5, grandchildren: false, serial: true }, NO_RESCAN);
    expect(r.procs).toHaveLength(20);
    let checked = 0;
    for (const p of r.procs) {
      const s = tickAfter(r.snaps, p.forkedMs);
      if (s.timestamp >= p.endMs) continue; // that tick came after the child's end (a loaded machine): nothing to see
      checked++;
      expect(s.processes, `child pid ${p.pid} alive ${p.startMs}-${p.endMs}, record seq ${s.seq} at ${s.timestamp}`).toBe(2);
    }
    expect(checked, 'children whose next tick fell within their 5 ms').toBeGreaterThanOrEqual(10);
    expectNoStrangers(r.snaps, r.procs);
  }, 60_000);

  it('5 children 2-5 ms apart, each forking a grandchild at once: both are members from the first tick after each fork', async (ctx) => {
    need(ctx, 'python3');
    const r = await watch({ gapsMs: staggered(5), lifeMs: 300, grandchildren: true }, NO_RESCAN);
    expect(r.procs).toHaveLength(10);
    const kids = r.procs.filter((p) => p.ppid === r.rootPid);
    expect(kids).toHaveLength(5);
    for (const g of r.procs.filter((p) => p.ppid !== r.rootPid)) expect(kids.map((k) => k.pid)).toContain(g.ppid);
    r.procs.forEach((p, k) => {
      const s = tickAfter(r.snaps, p.forkedMs);
      expect(s.processes, `process ${k} (pid ${p.pid}, parent ${p.ppid}), record seq ${s.seq}`).toBeGreaterThanOrEqual(2 + k);
    });
    expectNoStrangers(r.snaps, r.procs);
    expect(r.snaps.at(-1)!.processes).toBe(1);
  }, 60_000);
});

describe('PROCPROBE_FORK_EVENTS=0: the scan alone', () => {
  it('no child joins without a rescan; with rescans every 20 ms every child does', async (ctx) => {
    need(ctx, 'python3');
    const plan = { gapsMs: staggered(10), lifeMs: 300, grandchildren: false };
    const none = await watch(plan, NO_RESCAN, false);
    expect(none.discovery).toMatch(/^rescans only: PROCPROBE_FORK_EVENTS=0; rescans every 600000 ms: /);
    expect(none.procs).toHaveLength(10);
    expect(Math.max(...none.snaps.map((s) => s.processes)), 'no events, no scan: no member').toBe(1);

    const scanned = await watch(plan, 20, false);
    scanned.procs.forEach((p, k) => {
      // The next rescan is at most 20 ms after the fork; 30 ms more for ticks late on a loaded machine.
      const s = scanned.snaps.find((x) => x.timestamp >= p.forkedMs + 50);
      expect(s?.processes, `child ${k} (pid ${p.pid})`).toBeGreaterThanOrEqual(2 + k);
    });
    expectNoStrangers(scanned.snaps, scanned.procs);
  }, 60_000);
});

describeWith('pidns', 'in a pid namespace of its own (a container)', () => {
  it('the connector ignores the listener: open fails in ~20 ms with the reason, and the tree finds children by scanning', (ctx) => {
    need(ctx, 'addon');
    const r = spawnSync('unshare', ['-p', '-f', '--mount-proc', process.execPath, `${FIXTURES}tree-in-pidns.mjs`], { encoding: 'utf8', timeout: 30_000 });
    expect(r.status, r.stderr).toBe(0);
    const told = JSON.parse(r.stdout.trim().split('\n').pop()!) as { opened: boolean; reason: string; openMs: number; treeDiscovery: string; maxProcesses: number; kids: number };
    expect(told.opened).toBe(false);
    expect(told.openMs, 'the bounded wait for an answer (20 ms), with room for a loaded machine').toBeLessThan(1000);
    expect(told.reason).toMatch(/ETIMEDOUT.*namespace/);
    expect(told.treeDiscovery.startsWith(`${told.reason}; rescans every 20 ms: `), told.treeDiscovery).toBe(true);
    expect(told.kids, "the shell's children in that namespace's /proc").toBe(2);
    expect(told.maxProcesses).toBe(1 + told.kids);
  }, 60_000);
});
