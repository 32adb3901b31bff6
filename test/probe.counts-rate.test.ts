/**
 * The costly counts at their own rate (createProbe's countsIntervalMs): open fds, threads and
 * another pid's per-thread context switches are carried between readings, CPU is read at every
 * sample, and once the interval has passed the counts are the kernel's again. Oracles: the
 * fixture's own record of the fds it opened, and /proc/PID/fd, /proc/PID/task/TID/status and
 * schedstat read here.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createProbe, type Probe } from '../dist/index.js';
import { fdCount, FIXTURES, kernelView, killChildren, quietRead, sleep, spawnReady, taskCtxSum, taskSchedUs, waitFor } from './helpers/readers.js';
import { requireAddonFor } from './helpers/optional-readers.js';

/** Ask the fixture to open n more fds; resolves with the count it says it holds. */
function openMore(child: Awaited<ReturnType<typeof spawnReady>>, n: number): Promise<number> {
  return new Promise((resolve) => {
    const onData = (d: Buffer): void => {
      const m = /opened (\d+)/.exec(String(d));
      if (!m) return;
      child.stdout!.off('data', onData);
      resolve(Number(m[1]));
    };
    child.stdout!.on('data', onData);
    child.stdin!.write(`open ${n}\n`);
  });
}

// Long enough that the fixture's round trip fits inside it on a loaded 2-core machine (each test
// checks that it did), short enough to wait out.
const INTERVAL_MS = 1500;

describe.runIf(process.platform === 'linux')('the costly counts at their own rate (native)', () => {
  requireAddonFor('native');
  let probe: Probe | undefined;
  afterEach(async () => {
    probe?.close();
    probe = undefined;
    await killChildren();
  });

  it('carries fds and switches between readings while CPU moves, then reads the kernel\'s again', async () => {
    const child = await spawnReady(process.execPath, [join(FIXTURES, 'fds-on-command.mjs')]);
    const pid = child.pid;
    probe = createProbe({ pid, backend: 'native', countsIntervalMs: INTERVAL_MS });
    const p = probe;
    const first = await quietRead(() => kernelView(pid), () => ({ at: performance.now(), s: p.sampleSync() }));
    const s1 = first.probed.s;
    expect(s1.openFds).toBe(first.before.fds);
    expect(s1.voluntaryContextSwitches).toBe(first.before.vol);

    const held = await openMore(child, 50);
    expect(held).toBe(50);
    // A switch is counted when the fixture's thread blocks again after its reply: wait for it.
    await waitFor('the fixture to block again', () => (taskCtxSum(pid).vol > s1.voluntaryContextSwitches ? taskCtxSum(pid).vol : undefined));
    const fdsNow = fdCount(pid);
    const schedBefore = taskSchedUs(pid);
    const s2 = p.sampleSync();
    const schedAfter = taskSchedUs(pid);
    expect(performance.now() - first.probed.at, 'the round trip fit in the interval').toBeLessThan(INTERVAL_MS);
    // The kernel moved: the fixture opened 50 fds (and switched, above).
    expect(fdsNow).toBe(s1.openFds + 50);
    // The counts are the carried reading...
    expect(s2.openFds).toBe(s1.openFds);
    expect(s2.threads).toBe(s1.threads);
    expect(s2.voluntaryContextSwitches).toBe(s1.voluntaryContextSwitches);
    expect(s2.involuntaryContextSwitches).toBe(s1.involuntaryContextSwitches);
    // ...while the CPU is read now: the fixture's work shows, within the schedstat bracket.
    const cpu2 = s2.cpuUserUs + s2.cpuSystemUs;
    expect(cpu2).toBeGreaterThan(s1.cpuUserUs + s1.cpuSystemUs);
    expect(cpu2).toBeGreaterThanOrEqual(schedBefore - 1);
    expect(cpu2).toBeLessThanOrEqual(schedAfter + 1);
    expect(s2.timestamp).toBeGreaterThan(s1.timestamp);

    await sleep(INTERVAL_MS + 100);
    const fresh = await quietRead(() => kernelView(pid), () => p.sampleSync());
    expect(fresh.probed.openFds).toBe(fresh.before.fds);
    expect(fresh.probed.openFds).toBe(s1.openFds + 50);
    expect(fresh.probed.threads).toBe(fresh.before.tasks);
    expect(fresh.probed.voluntaryContextSwitches).toBe(fresh.before.vol);
    expect(fresh.probed.involuntaryContextSwitches).toBe(fresh.before.invol);
  });

  it('reads the counts at every sample by default (countsIntervalMs 0)', async () => {
    const child = await spawnReady(process.execPath, [join(FIXTURES, 'fds-on-command.mjs')]);
    const pid = child.pid;
    probe = createProbe({ pid, backend: 'native' });
    const s1 = probe.sampleSync();
    expect(await openMore(child, 20)).toBe(20);
    const p = probe;
    const now = await quietRead(() => kernelView(pid), () => p.sampleSync());
    expect(now.probed.openFds).toBe(now.before.fds);
    expect(now.probed.openFds).toBe(s1.openFds + 20);
    expect(now.probed.voluntaryContextSwitches).toBe(now.before.vol);
  });
});
