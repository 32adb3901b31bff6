/**
 * CPU of this process, on the native and builtin tiers, against Node's own getrusage wrappers
 * (process.cpuUsage / process.resourceUsage), process.hrtime, and /proc/self/stat + /proc/uptime.
 */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { createProbe, type Probe, type ProcessSample } from '../dist/index.js';
import { getconf, procStat, sleep } from './helpers/readers.js';
import { requireAddonFor } from './helpers/optional-readers.js';
import { burnCpu } from './helpers/session-helpers.js';

const cpuUs = (s: ProcessSample) => s.cpuUserUs + s.cpuSystemUs;

/** Spin for `ms` of wall time (hrtime). */
function spinWall(ms: number): void {
  const end = process.hrtime.bigint() + BigInt(Math.round(ms * 1e6));
  while (process.hrtime.bigint() < end) {
    // busy
  }
}

/** CPU percent over [c0, now] and [t0, now] measured by Node alone. */
function nodePercent(c0: NodeJS.CpuUsage, t0: bigint): number {
  const d = process.cpuUsage(c0);
  const wallUs = Number(process.hrtime.bigint() - t0) / 1e3;
  return ((d.user + d.system) / wallUs) * 100;
}

describe.each(['native', 'builtin'] as const)('CPU of this process (%s)', (backend) => {
  requireAddonFor(backend);
  let probe: Probe | undefined;
  afterEach(() => probe?.close());

  it(`is the ${backend} tier`, () => {
    probe = createProbe({ backend });
    expect(probe.backend).toBe(backend);
  });

  it('shows a 5 ms busy loop as 5 ± 1 ms of CPU', () => {
    probe = createProbe({ backend });
    // Warm up first: V8 compiles hot code on background threads, and that CPU is this process's
    // too (both readers would count it, but it would not be the 5 ms under test).
    for (let i = 0; i < 500; i++) probe.sampleSync();
    burnCpu(30_000);
    const total = (c: NodeJS.CpuUsage) => c.user + c.system;
    let clean = 0;
    const log: string[] = [];
    const deadline = Date.now() + 10_000;
    while (clean < 3 && Date.now() < deadline) {
      const outerStart = total(process.cpuUsage());
      const a = probe.sampleSync();
      const innerStart = total(process.cpuUsage());
      burnCpu(5000);
      const innerEnd = total(process.cpuUsage());
      const b = probe.sampleSync();
      const outerEnd = total(process.cpuUsage());
      const delta = cpuUs(b) - cpuUs(a);
      const line = `probe ${delta} µs, cpuUsage inner ${innerEnd - innerStart} outer ${outerEnd - outerStart}`;
      log.push(line);
      // Always: the probe's delta lies between the windows Node measured inside and around it.
      expect(delta, line).toBeGreaterThanOrEqual(innerEnd - innerStart);
      expect(delta, line).toBeLessThanOrEqual(outerEnd - outerStart);
      // A round counts when Node saw no other CPU in the window (a VM vCPU stall or a V8
      // background thread would add some to both readers): then the probe must show 5 ± 1 ms.
      if (outerEnd - outerStart <= 6000) {
        clean++;
        expect(delta, line).toBeGreaterThanOrEqual(4000);
        expect(delta, line).toBeLessThanOrEqual(6000);
      }
    }
    expect(clean, `fewer than 3 quiet 5 ms windows in 10 s:\n${log.slice(-10).join('\n')}`).toBe(3);
  });

  it('reports totals between two process.resourceUsage() readings taken around it', () => {
    probe = createProbe({ backend });
    for (let i = 0; i < 20; i++) {
      const r0 = process.resourceUsage();
      const s = probe.sampleSync();
      const r1 = process.resourceUsage();
      // getrusage(RUSAGE_SELF) is monotonic per component: a correct reading is bracketed exactly.
      expect(s.cpuUserUs).toBeGreaterThanOrEqual(r0.userCPUTime);
      expect(s.cpuUserUs).toBeLessThanOrEqual(r1.userCPUTime);
      expect(s.cpuSystemUs).toBeGreaterThanOrEqual(r0.systemCPUTime);
      expect(s.cpuSystemUs).toBeLessThanOrEqual(r1.systemCPUTime);
      expect(s.voluntaryContextSwitches).toBeGreaterThanOrEqual(r0.voluntaryContextSwitches);
      expect(s.voluntaryContextSwitches).toBeLessThanOrEqual(r1.voluntaryContextSwitches);
      expect(s.involuntaryContextSwitches).toBeGreaterThanOrEqual(r0.involuntaryContextSwitches);
      expect(s.involuntaryContextSwitches).toBeLessThanOrEqual(r1.involuntaryContextSwitches);
      expect(s.minorPageFaults).toBeGreaterThanOrEqual(r0.minorPageFault);
      expect(s.minorPageFaults).toBeLessThanOrEqual(r1.minorPageFault);
      expect(s.majorPageFaults).toBeGreaterThanOrEqual(r0.majorPageFault);
      expect(s.majorPageFaults).toBeLessThanOrEqual(r1.majorPageFault);
      burnCpu(200);
    }
  });

  it('gives the average since process start as the first cpuPercent (not 0)', async () => {
    // Idle first: a reading over "the last interval" would now be near 0.
    await sleep(300);
    const clkTck = getconf('CLK_TCK');
    const startSec = procStat('self').field(22) / clkTck;
    const r = process.resourceUsage();
    probe = createProbe({ backend });
    const first = probe.sampleSync();
    const uptimeSec = Number(readFileSync('/proc/uptime', 'latin1').split(' ')[0]);
    const ageSec = uptimeSec - startSec; // ±20 ms: both in 10 ms ticks
    const expected = ((r.userCPUTime + r.systemCPUTime) / 1e6 / ageSec) * 100;
    expect(ageSec).toBeGreaterThan(0.3);
    expect(expected, 'this process has used CPU since it started').toBeGreaterThan(5);
    expect(first.cpuPercent).toBeGreaterThan(0);
    expect(
      Math.abs(first.cpuPercent - expected),
      `first cpuPercent ${first.cpuPercent}, since start per resourceUsage and /proc: ${expected}`,
    ).toBeLessThanOrEqual(Math.max(3, expected * 0.1));
  });

  it('covers only the interval since the previous sample afterwards (busy ≈ 100%, asleep ≈ 0%)', async () => {
    probe = createProbe({ backend });
    probe.sampleSync();
    const log: string[] = [];
    let clear = 0;
    let quietBusy = 0;
    let quietIdle = 0;
    // The 2-core VM may be shared with other test files: a window in which Node itself saw this
    // thread held off the CPU does not show "100%". Every window must agree with Node's reading;
    // the ≈100 / ≈0 claims are checked on windows Node saw uncontended, at least once each.
    // Keep trying for up to 15 s: other test files may hold both cores for a while.
    const deadline = Date.now() + 15_000;
    while (!(quietBusy && quietIdle) && Date.now() < deadline) {
      let c0 = process.cpuUsage();
      let t0 = process.hrtime.bigint();
      spinWall(50);
      const busyNode = nodePercent(c0, t0);
      const busy = probe.sampleSync().cpuPercent;

      c0 = process.cpuUsage();
      t0 = process.hrtime.bigint();
      await sleep(50);
      const idleNode = nodePercent(c0, t0);
      const idle = probe.sampleSync().cpuPercent;

      const msg = `busy: probe ${busy}% node ${busyNode}%; asleep: probe ${idle}% node ${idleNode}%`;
      log.push(msg);
      // Windows in which Node itself saw busy clearly above asleep: the probe must too.
      if (busyNode - idleNode >= 30) {
        clear++;
        expect(busy - idle, msg).toBeGreaterThanOrEqual(20);
      }
      expect(Math.abs(busy - busyNode), msg).toBeLessThanOrEqual(10);
      expect(Math.abs(idle - idleNode), msg).toBeLessThanOrEqual(10);
      if (busyNode >= 80) {
        quietBusy++;
        expect(busy, msg).toBeGreaterThanOrEqual(70);
      }
      if (idleNode <= 5) {
        quietIdle++;
        expect(idle, msg).toBeLessThanOrEqual(10);
      }
    }
    // On a machine loaded for the whole 15 s (both cores busy elsewhere, as under stress-ng) no
    // window is uncontended, and "≈100%" cannot be seen. What the claim is about still can: each
    // sample covers only its own window, so a busy window that Node saw well above the asleep one
    // after it reads so in the probe too (a figure since the start would read the same in both).
    const separated = clear >= 5;
    expect(
      (quietBusy && quietIdle) || separated,
      `the CPU was never free enough for one uncontended 50 ms window in 15 s, and busy and asleep windows were not told apart:\n${log.slice(-10).join('\n')}`,
    ).toBeTruthy();
  });
});
