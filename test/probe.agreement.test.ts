/**
 * The native and builtin tiers agree, each also checked against an independent reader: for this
 * process (getrusage via Node brackets, /proc/self/statm), and for a quiet child that burned some
 * CPU before going to sleep (schedstat in ns, stat ticks, statm, fd/ and task/ listings).
 */
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { createProbe, type Probe, type ProcessSample } from '../dist/index.js';
import { getconf, kernelView, killChildren, procStat, quietRead, statmPages, track, waitFor } from './helpers/readers.js';
import { need } from './helpers/optional-readers.js';

const PAGE = getconf('PAGESIZE');
const cpu = (s: ProcessSample) => s.cpuUserUs + s.cpuSystemUs;

describe('native and builtin agree', () => {
  const probes: Probe[] = [];
  const open = (pid?: number) => {
    const n = createProbe({ pid, backend: 'native' });
    const b = createProbe({ pid, backend: 'builtin' });
    probes.push(n, b);
    return { n, b };
  };
  afterEach(async () => {
    for (const p of probes.splice(0)) p.close();
    await killChildren();
  });

  it('for this process', (ctx) => {
    need(ctx, 'addon');
    const { n, b } = open();
    for (let i = 0; i < 20; i++) {
      const statm0 = statmPages('self');
      const n1 = n.sampleSync();
      const b1 = b.sampleSync();
      const n2 = n.sampleSync();
      const statm1 = statmPages('self');
      const msg = `native ${JSON.stringify(n1)}\nbuiltin ${JSON.stringify(b1)}\nnative ${JSON.stringify(n2)}`;
      // Monotonic getrusage counters: builtin's reading lies between two native ones.
      for (const f of ['cpuUserUs', 'cpuSystemUs', 'voluntaryContextSwitches', 'involuntaryContextSwitches', 'minorPageFaults'] as const) {
        expect(b1[f], `${f}\n${msg}`).toBeGreaterThanOrEqual(n1[f]);
        expect(b1[f], `${f}\n${msg}`).toBeLessThanOrEqual(n2[f]);
      }
      // Both tiers hold their own files open: the same fd table, the same threads.
      expect(b1.openFds, msg).toBe(n1.openFds);
      expect(b1.openFds, msg).toBe(readdirSync('/proc/self/fd').length - 1);
      expect(b1.threads, msg).toBe(n1.threads);
      // RSS: native reads statm, builtin libuv's (lagging) stat field 24: within 3%. This process
      // allocates and frees pages as it runs (GC), so statm read around the samples is a bracket
      // with a 1% margin, not an exact value.
      const lo = Math.min(statm0.resident, statm1.resident) * PAGE * 0.99;
      const hi = Math.max(statm0.resident, statm1.resident) * PAGE * 1.01;
      expect(n1.rssBytes, msg).toBeGreaterThanOrEqual(lo);
      expect(n1.rssBytes, msg).toBeLessThanOrEqual(hi);
      expect(Math.abs(b1.rssBytes - n1.rssBytes), msg).toBeLessThanOrEqual(n1.rssBytes * 0.03);
      expect(Math.abs(b1.startTime - n1.startTime), msg).toBeLessThanOrEqual(20);
      expect(n1.pid).toBe(process.pid);
      expect(b1.pid).toBe(process.pid);
    }
  });

  it('for a quiet child that burned CPU first (cpu within 20 ms, the rest equal)', async (ctx) => {
    need(ctx, 'addon');
    need(ctx, 'ps');
    // dash counts in a loop (a few hundred ms of CPU), then execs sleep: the CPU times stay.
    const child = track(
      spawn('sh', ['-c', 'i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done; exec sleep 30'], { stdio: 'ignore' }),
    );
    const pid = child.pid!;
    await waitFor('the child to exec sleep', () => {
      const s = procStat(pid);
      return s.comm === 'sleep' && s.state === 'S' ? true : undefined;
    });
    const { n, b } = open(pid);
    const r = await quietRead(
      () => kernelView(pid),
      () => ({ n1: n.sampleSync(), b1: b.sampleSync() }),
    );
    const k = r.before;
    const { n1, b1 } = r.probed;
    const msg = `native ${JSON.stringify(n1)}\nbuiltin ${JSON.stringify(b1)}\nkernel ${JSON.stringify(k)}`;
    expect(k.schedUs, 'the child burned CPU before sleeping').toBeGreaterThan(50_000);
    expect(Math.abs(cpu(n1) - k.schedUs), msg).toBeLessThanOrEqual(1000);
    expect(Math.abs(cpu(b1) - cpu(n1)), msg).toBeLessThanOrEqual(20_000);
    expect(n1.rssBytes, msg).toBe(k.statmResident * PAGE);
    expect(b1.rssBytes, msg).toBe(n1.rssBytes);
    expect(b1.vmsBytes, msg).toBe(n1.vmsBytes);
    expect(n1.openFds, msg).toBe(k.fds);
    expect(b1.openFds, msg).toBe(n1.openFds);
    expect(n1.threads, msg).toBe(k.tasks);
    expect(b1.threads, msg).toBe(n1.threads);
    expect(n1.voluntaryContextSwitches, msg).toBe(k.vol);
    expect(b1.voluntaryContextSwitches, msg).toBe(n1.voluntaryContextSwitches);
    expect(b1.involuntaryContextSwitches, msg).toBe(n1.involuntaryContextSwitches);
    expect(b1.minorPageFaults, msg).toBe(n1.minorPageFaults);
    expect(b1.majorPageFaults, msg).toBe(n1.majorPageFaults);
    expect(Math.abs(b1.startTime - n1.startTime), msg).toBeLessThanOrEqual(20);
  });
});
