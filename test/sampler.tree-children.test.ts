/**
 * A tree's rescan finds descendants downward from its members through /proc/PID/task/TID/children
 * (src/sampler/descendants.ts), and falls back to the full /proc scan where those files are absent
 * (forced here with PROCPROBE_CHILDREN_FILE=0 or a Descendants('scan')).
 *
 * Oracle: the fixture's own account (fixtures/tree-threads.py: every process reports its pid and
 * its parent's; the command records the `sleep` a second thread started and that thread's id), and
 * the kernel's children files read here with fs to show that this child really is listed under
 * the second thread and not under the leader.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RealTimeMonitor } from '../dist/index.js';
import { FIELD_COUNT } from '../dist/probe/layout.js';
import { CHILDREN_FILE_ENV, Descendants } from '../dist/sampler/descendants.js';
import { TreeSource } from '../dist/sampler/tree.js';
import { describeWith } from './helpers/optional-readers.js';
import { FIXTURES, killChildren, procExists, spawnReady, waitFor } from './helpers/readers.js';
import { removeTempDirs, tempDir } from './helpers/temp-dirs.js';

const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
const CHILDREN = 3;

interface Account {
  command: number;
  processes: Array<{ role: string; pid: number; ppid: number }>;
  threadTid: number;
}

let account: Account;
let stop: () => void = () => {};

/** The pids of the fixture's tree, the command's included, sorted. */
const expected = () => [account.command, ...account.processes.map((p) => p.pid)].sort((a, b) => a - b);

/** Every pid one rescan of a TreeSource over the command adopts (read once, so listed). */
function adoptedBy(descendants: Descendants): number[] {
  const tree = new TreeSource(account.command, 'auto', false, descendants);
  try {
    tree.rescan();
    tree.sampleInto(new Float64Array(FIELD_COUNT), 0);
    return tree.processList().list.map((p) => p.pid).sort((a, b) => a - b);
  } finally {
    tree.close();
  }
}

/** A tree monitor over the command with fork events off (only rescans find children): its discovery and the most members a record counted. */
async function monitorSees(env: Record<string, string>): Promise<{ discovery: string | null; processes: number }> {
  Object.assign(process.env, { PROCPROBE_FORK_EVENTS: '0', ...env }); // copied into the worker at start()
  const mon = new RealTimeMonitor({ pid: account.command, tree: true, samplingIntervalMs: 5, rescanIntervalMs: 20, capacity: 2000 });
  try {
    await mon.start();
    for (const k of ['PROCPROBE_FORK_EVENTS', ...Object.keys(env)]) delete process.env[k];
    const all = expected().length;
    await waitFor(`${all} members`, () => (mon.getRecentSnapshots(1)[0]!.processes >= all ? true : undefined), 30_000);
    return { discovery: mon.treeDiscovery, processes: Math.max(...mon.getRecentSnapshots(2000).map((s) => s.processes)) };
  } finally {
    for (const k of ['PROCPROBE_FORK_EVENTS', ...Object.keys(env)]) delete process.env[k];
    await mon.stop();
  }
}

describeWith('python3', 'rescans over /proc/PID/task/TID/children', () => {
  beforeAll(async () => {
    const out = join(tempDir('procprobe-tree-children-'), 'account.json');
    const child = await spawnReady(PYTHON, [`${FIXTURES}tree-threads.py`, String(CHILDREN), out]);
    account = JSON.parse(readFileSync(out, 'utf8')) as Account;
    stop = () => child.stdin!.end();
  }, 30_000);

  afterAll(async () => {
    stop();
    await killChildren();
    removeTempDirs();
  });

  it('the fixture: children, grandchildren, and a child listed under a second thread only (read from the kernel)', () => {
    expect(account.processes.filter((p) => p.role === 'child')).toHaveLength(CHILDREN);
    expect(account.processes.filter((p) => p.role === 'grandchild')).toHaveLength(CHILDREN);
    const threadChild = account.processes.find((p) => p.role === 'thread-child')!;
    const listed = (tid: number) => readFileSync(`/proc/${account.command}/task/${tid}/children`, 'latin1').split(' ').filter(Boolean).map(Number);
    expect(account.threadTid).not.toBe(account.command);
    expect(listed(account.threadTid)).toContain(threadChild.pid);
    expect(listed(account.command)).not.toContain(threadChild.pid);
    for (const p of account.processes) expect(procExists(p.pid), `${p.role} ${p.pid} alive`).toBe(true);
  });

  it('this kernel has the children files, so a tree uses them unless told not to', () => {
    expect(existsSync(`/proc/self/task/${readdirSync('/proc/self/task')[0]}/children`)).toBe(true);
    expect(Descendants.open().mode).toBe('children');
    process.env[CHILDREN_FILE_ENV] = '0';
    try {
      const d = Descendants.open();
      expect(d.mode).toBe('scan');
      expect(d.reason).toBe(`full /proc scan: ${CHILDREN_FILE_ENV}=0`);
    } finally {
      delete process.env[CHILDREN_FILE_ENV];
    }
  });

  it('one rescan over the children files adopts every process the fixture reports, and nothing else', () => {
    expect(adoptedBy(new Descendants('children'))).toEqual(expected());
  });

  it('the fallback, the full scan, adopts the same processes', () => {
    expect(adoptedBy(new Descendants('scan'))).toEqual(expected());
  });

  it('a tree monitor finds them all by rescans over the children files, and says so', async () => {
    const r = await monitorSees({});
    expect(r.discovery).toBe("rescans only: PROCPROBE_FORK_EVENTS=0; rescans every 20 ms: each member's /proc/PID/task/TID/children");
    expect(r.processes).toBe(expected().length);
  }, 60_000);

  it('with PROCPROBE_CHILDREN_FILE=0 it finds them all by the full scan, and says so', async () => {
    const r = await monitorSees({ [CHILDREN_FILE_ENV]: '0' });
    expect(r.discovery).toBe(`rescans only: PROCPROBE_FORK_EVENTS=0; rescans every 20 ms: full /proc scan: ${CHILDREN_FILE_ENV}=0`);
    expect(r.processes).toBe(expected().length);
  }, 60_000);
});

describe('retired pids', () => {
  it('a retired pid is forgotten once the kernel has no such process, and kept while it exists', () => {
    const gone = Number(readFileSync('/proc/sys/kernel/pid_max', 'utf8')) - 1; // almost surely unused
    expect(procExists(gone)).toBe(false);
    for (const mode of ['children', 'scan'] as const) {
      const retired = new Map([[process.pid, 0], [gone, 0]]);
      const d = new Descendants(mode);
      d.find([process.pid]); // the scan's prune uses what its find saw
      d.prune(retired);
      expect([...retired.keys()], mode).toEqual([process.pid]);
    }
  });
});
