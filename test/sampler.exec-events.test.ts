/**
 * Exec events (native/forkwatch_linux.cc PP_FORKWATCH_EXEC, src/sampler/fork-events.ts): a tree
 * member's command is its argv after its last exec, read when the kernel reports the exec, not at
 * the next rescan; and with exec events live the default rescan is only the safety net.
 *
 * Oracles: the pids the kernel gave child_process (spawnSync's pid), the kernel's list of the
 * fixture's children (/proc/PID/task/TID/children), and that child's /proc/PID/cmdline read here
 * after the exec.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { afterAll, expect, it } from 'vitest';
import { loadNative, Sampler } from '../dist/index.js';
import { describeWith, need } from './helpers/optional-readers.js';
import { killChildren, spawnReady, waitFor } from './helpers/readers.js';

afterAll(killChildren);

const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
const FORK = 1; // native/forkwatch.h
const EXEC = 3;
const FIELDS = 4;
/** No periodic rescan in these tests: a command that changes, changed through an exec event. */
const NO_RESCAN = 600_000;

// The parent forks a child that waits for a byte on a pipe, then execs /bin/sleep; the parent
// prints `ready` and passes the byte on when the test writes a line.
const FIXTURE = `
import os, sys
r, w = os.pipe()
pid = os.fork()
if pid == 0:
    os.close(w)
    os.read(r, 1)
    os.execv('/bin/sleep', ['/bin/sleep', '7.25'])
os.close(r)
print('ready', flush=True)
sys.stdin.readline()
os.write(w, b'x')
os.waitpid(pid, 0)
`;

describeWith('addon', 'exec events', () => {
  it('the connector reports the exec of a child this process spawns, after its fork', () => {
    const a = loadNative().addon!;
    expect(a.forkWatchExec).toBe(EXEC);
    const h = a.forkWatchOpen!();
    expect(h, 'forkWatchOpen: a handle, not -errno').toBeGreaterThanOrEqual(0);
    try {
      const child = spawnSync('/bin/true');
      const out = new Int32Array(1 + FIELDS * 512);
      const kinds: number[] = [];
      for (let n = FIELDS; n > 0; ) {
        n = a.forkWatchDrain!(h, out);
        for (let i = 0; i < n; i++) if (out[2 + FIELDS * i] === child.pid) kinds.push(out[1 + FIELDS * i]!);
        if (n < 512) break;
      }
      expect(kinds.slice(0, 2), "the child's first two events: its fork, then its exec").toEqual([FORK, EXEC]);
    } finally {
      a.forkWatchClose!(h);
    }
  });

  it("a member's command becomes its new argv when it execs, with no rescan", async (ctx) => {
    need(ctx, 'python3');
    const parent = await spawnReady(PYTHON, ['-c', FIXTURE]);
    const sampler = new Sampler({ pid: parent.pid, tree: true, samplingIntervalMs: 5, rescanIntervalMs: NO_RESCAN });
    // The kernel's list of the parent's children (the fixture's own print of it came with `ready`).
    const childPid = Number(readFileSync(`/proc/${parent.pid}/task/${parent.pid}/children`, 'latin1').trim());
    expect(childPid).toBeGreaterThan(0);
    try {
      // The child was forked before the sampler: the first scan finds it, with the parent's argv.
      await sampler.start();
      const before = await sampler.processes();
      expect(before?.list.find((p) => p.pid === childPid)?.command).toContain('import os');
      parent.stdin!.write('go\n');
      const cmdline = await waitFor('the exec', () => {
        const c = readFileSync(`/proc/${childPid}/cmdline`, 'utf8');
        return c.startsWith('/bin/sleep') ? c : undefined;
      });
      expect(cmdline, 'the kernel shows the new argv').toBe('/bin/sleep\u00007.25\u0000');
      let command: string | undefined;
      for (const end = Date.now() + 5_000; command !== '/bin/sleep 7.25' && Date.now() < end; ) {
        command = (await sampler.processes())?.list.find((x) => x.pid === childPid)?.command;
      }
      expect(command, 'the process list within 5 s of the exec, with no rescan').toBe('/bin/sleep 7.25');
    } finally {
      await sampler.stop();
      parent.kill('SIGKILL');
      spawnSync('kill', ['-9', String(childPid)]);
    }
  }, 30_000);

  it('with fork and exec events live, a default rescan is the 1 s safety net; one the user sets is kept', async () => {
    const kept = new Sampler({ tree: true, samplingIntervalMs: 5, rescanIntervalMs: 30 });
    const dflt = new Sampler({ tree: true, samplingIntervalMs: 5 });
    try {
      await Promise.all([kept.start(), dflt.start()]);
      expect(dflt.treeDiscovery).toMatch(/^fork events \(Linux proc connector\); rescans every 1000 ms: /);
      expect(kept.treeDiscovery).toMatch(/^fork events \(Linux proc connector\); rescans every 30 ms: /);
    } finally {
      await Promise.all([kept.stop(), dflt.stop()]);
    }
  });
});
