/**
 * A python3 child with exactly 8 threads, all parked: every field against ps and the kernel's
 * /proc/PID files (threads = ps nlwp = task/ entries = 8; context switches = sum over the 8 task
 * status files; CPU = sum of the 8 schedstat runtimes), and cpuPercent against schedstat + uptime.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createProbe, type Probe } from '../dist/index.js';
import {
  expectMatchesKernel,
  FIXTURES,
  getconf,
  kernelView,
  killChildren,
  procStat,
  quietRead,
  sleep,
  spawnReady,
  taskSchedUs,
} from './helpers/readers.js';
import { need, requireAddonFor } from './helpers/optional-readers.js';

async function startPython() {
  return spawnReady('python3', [join(FIXTURES, 'threads8.py')]);
}

describe.each(['native', 'builtin'] as const)('a child with 8 threads (%s)', (backend) => {
  requireAddonFor(backend);
  let probe: Probe | undefined;
  afterEach(async () => {
    probe?.close();
    probe = undefined;
    await killChildren();
  });

  it('matches ps and /proc: 8 threads, RSS, fds, switches summed over threads, CPU', async (ctx) => {
    need(ctx, 'python3');
    need(ctx, 'ps');
    const child = await startPython();
    const pid = child.pid;
    probe = createProbe({ pid, backend });
    expect(probe.backend).toBe(backend);
    const p = probe;
    const { before: k, probed: s } = await quietRead(() => kernelView(pid), () => p.sampleSync());
    expect(k.tasks).toBe(8);
    expect(s.threads).toBe(8);
    expectMatchesKernel(s, k, pid, backend);
    // The leader's own status file alone undercounts: the sum covers the 7 other threads too.
    const leader = readFileSync(`/proc/${pid}/status`, 'latin1');
    const leaderVol = Number(/^voluntary_ctxt_switches:\s*(\d+)/m.exec(leader)![1]);
    expect(s.voluntaryContextSwitches).toBeGreaterThan(leaderVol);
  });

  it('gives the average since start first, then ≈0% while the child sleeps', async (ctx) => {
    need(ctx, 'python3');
    const child = await startPython();
    const pid = child.pid;
    await sleep(300); // old enough that the 10 ms start-time resolution is a small error
    const clkTck = getconf('CLK_TCK');
    probe = createProbe({ pid, backend });
    const cpuUs = taskSchedUs(pid);
    const first = probe.sampleSync();
    const uptime = Number(readFileSync('/proc/uptime', 'latin1').split(' ')[0]);
    const ageUs = (uptime - procStat(pid).field(22) / clkTck) * 1e6;
    // Start and uptime are known to 10 ms each: bound the expected average both ways.
    const lo = (cpuUs / (ageUs + 20_000)) * 100;
    const hi = (cpuUs / Math.max(ageUs - 20_000, 1000)) * 100;
    // builtin's CPU of another pid is in 10 ms ticks: allow one tick over the age either way.
    const tickPct = backend === 'builtin' ? (2e6 / clkTck / ageUs) * 100 : 0;
    const msg = `first cpuPercent ${first.cpuPercent}, expected ${lo}..${hi} (cpu ${cpuUs} µs, age ${ageUs} µs)`;
    expect(lo, 'python3 has used CPU to start').toBeGreaterThan(0);
    expect(first.cpuPercent, msg).toBeGreaterThanOrEqual(lo - tickPct);
    expect(first.cpuPercent, msg).toBeLessThanOrEqual(hi + tickPct);

    const sched0 = taskSchedUs(pid);
    await sleep(100);
    const second = probe.sampleSync();
    const sched1 = taskSchedUs(pid);
    expect(sched1 - sched0, 'the child stayed asleep (schedstat)').toBeLessThan(1000);
    expect(second.cpuPercent).toBeLessThanOrEqual(backend === 'builtin' ? 10 : 1);
  });
});
