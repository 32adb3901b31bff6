/**
 * The non-CPU fields of this process, on the native and builtin tiers, against the kernel's
 * /proc/self files read here with fs: statm, fd/, task/, stat + /proc/stat btime + /proc/uptime,
 * /proc/meminfo, and the wall clock.
 */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { createProbe, F, FIELD_COUNT, FIELDS, ProbeStatus, type Probe } from '../dist/index.js';
import { procStat, quietRead, startTimeMs, statmPages } from './helpers/readers.js';
import { requireAddonFor } from './helpers/optional-readers.js';
import { CLK_TCK, memTotalBytes, PAGE, selfFds, selfThreads } from './helpers/monitor-readers.js';

describe.each(['native', 'builtin'] as const)('fields of this process (%s)', (backend) => {
  requireAddonFor(backend);
  let probe: Probe | undefined;
  afterEach(() => probe?.close());

  it('reports its pid and a current timestamp', () => {
    probe = createProbe({ backend });
    expect(probe.pid).toBe(process.pid);
    const before = Date.now();
    const s = probe.sampleSync();
    const after = Date.now();
    expect(s.pid).toBe(process.pid);
    expect(s.pid).toBe(procStat('self').pid);
    expect(s.timestamp).toBeGreaterThanOrEqual(before - 1);
    expect(s.timestamp).toBeLessThanOrEqual(after + 1);
  });

  it('counts open fds like /proc/self/fd, and sees one more after opening a file', async () => {
    probe = createProbe({ backend });
    const p = probe;
    const r = await quietRead(selfFds, () => p.sampleSync().openFds);
    expect(r.probed).toBe(r.before);
    const { openSync, closeSync } = await import('node:fs');
    const fd = openSync('/dev/null', 'r');
    try {
      const r2 = await quietRead(selfFds, () => p.sampleSync().openFds);
      expect(r2.probed).toBe(r2.before);
      expect(r2.probed).toBe(r.probed + 1);
    } finally {
      closeSync(fd);
    }
  });

  it('counts threads like /proc/self/task', async () => {
    probe = createProbe({ backend });
    const p = probe;
    const r = await quietRead(selfThreads, () => p.sampleSync().threads);
    expect(r.probed).toBe(r.before);
    expect(r.probed).toBeGreaterThan(1); // Node always runs platform worker threads
  });

  it('reads RSS and VMS like /proc/self/statm', () => {
    probe = createProbe({ backend });
    for (let i = 0; i < 10; i++) {
      const before = statmPages('self');
      const s = probe.sampleSync();
      const after = statmPages('self');
      // This process allocates and frees pages as it runs (even the sample object, and GC): the
      // probe's reading must lie between two statm reads taken around it, with a margin. native
      // reads statm itself (1%: RSS moved by up to ~300 KB between reads on a loaded machine);
      // builtin reads libuv's RSS (stat field 24, per-CPU counters that lag by up to a batch of
      // pages per CPU): 3% on a process of tens of MB.
      const tol = backend === 'native' ? 0.01 : 0.03;
      const within = (v: number, a: number, b: number) =>
        expect(v, `${v} vs statm ${a}..${b}`).toSatisfy(
          (x: number) => x >= Math.min(a, b) * (1 - tol) && x <= Math.max(a, b) * (1 + tol),
        );
      within(s.rssBytes, before.resident * PAGE, after.resident * PAGE);
      within(s.vmsBytes, before.size * PAGE, after.size * PAGE);
      const total = memTotalBytes();
      within(s.memoryPercent, (before.resident * PAGE * 100) / total, (after.resident * PAGE * 100) / total);
    }
  });

  it('reports the start time of /proc/self/stat field 22', () => {
    probe = createProbe({ backend });
    const s = probe.sampleSync();
    // btime is whole seconds: within 1 s of btime + starttime / CLK_TCK.
    expect(Math.abs(s.startTime - startTimeMs('self'))).toBeLessThanOrEqual(1000);
    // /proc/uptime has 10 ms resolution: within 50 ms of now - (uptime - starttime / CLK_TCK).
    const uptime = Number(readFileSync('/proc/uptime', 'latin1').split(' ')[0]);
    const viaUptime = Date.now() - (uptime - procStat('self').field(22) / CLK_TCK) * 1e3;
    expect(Math.abs(s.startTime - viaUptime)).toBeLessThanOrEqual(50);
    expect(s.startTime).toBeLessThanOrEqual(s.timestamp);
  });

  it('fills every field with a number (none NaN for this process)', () => {
    probe = createProbe({ backend });
    const row = new Float64Array(FIELD_COUNT).fill(NaN);
    expect(probe.sampleInto(row, 0)).toBe(ProbeStatus.OK);
    const missing = FIELDS.filter((f) => !Number.isFinite(row[F[f]]));
    expect(missing).toEqual([]);
  });

  it('holds its kernel files open only until close()', () => {
    const before = selfFds();
    const p = createProbe({ backend });
    const opened = selfFds() - before;
    expect(opened).toBeGreaterThan(0);
    p.sampleSync();
    p.close();
    expect(selfFds()).toBe(before);
  });
});
