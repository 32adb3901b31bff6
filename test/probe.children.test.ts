/**
 * Probe.childrenInto: what the children a process waited for used. Oracles: for another pid, the
 * fixture's own sum of its children's wait4 rusage (µs) and its /proc/PID/stat read here; for this
 * process, /proc/self/stat cutime/cstime/cminflt read here after children this test waited for.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { CHILDREN, createProbe, InvalidOptionError, ProbeStatus } from '../dist/index.js';
import { CLK_TCK, nextLine } from './helpers/monitor-readers.js';
import { killChildren, procStat, spawnReady } from './helpers/readers.js';
import { requireAddonFor } from './helpers/optional-readers.js';

afterAll(killChildren);

const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
const FIXTURE = new URL('./fixtures/reaper-server.py', import.meta.url).pathname;
const TICK_US = 1e6 / CLK_TCK;

describe.each(['native', 'builtin'] as const)('childrenInto (%s)', (backend) => {
  requireAddonFor(backend);

  it('another pid: its reaped children as its stat shows them, and as wait4 told it (two ticks)', async () => {
    const child = await spawnReady(PYTHON, [FIXTURE, '10', '8', '0', '0']);
    const report = nextLine(child, '{');
    child.stdin!.write('go\n');
    const told = JSON.parse(await report) as { childrenUs: number };
    const probe = createProbe({ pid: child.pid, backend });
    const out = new Float64Array(4).fill(-1);
    try {
      expect(probe.sampleInto(new Float64Array(15))).toBe(ProbeStatus.OK);
      expect(probe.childrenInto(out)).toBe(ProbeStatus.OK);
    } finally {
      probe.close();
      child.stdin!.end();
    }
    const st = procStat(child.pid);
    expect(out[CHILDREN.cpuUserUs]).toBe(st.field(16) * TICK_US);
    expect(out[CHILDREN.cpuSystemUs]).toBe(st.field(17) * TICK_US);
    expect(out[CHILDREN.minorPageFaults]).toBe(st.field(11));
    expect(out[CHILDREN.majorPageFaults]).toBe(st.field(13));
    const cpu = out[CHILDREN.cpuUserUs]! + out[CHILDREN.cpuSystemUs]!;
    expect(told.childrenUs).toBeGreaterThan(10 * 8000);
    expect(cpu, `probe ${cpu} µs, wait4 ${told.childrenUs} µs`).toBeGreaterThan(told.childrenUs - 2 * TICK_US);
    expect(cpu).toBeLessThanOrEqual(told.childrenUs + 1);
  }, 30_000);

  it('this process: the children it waited for, against /proc/self/stat', () => {
    spawnSync('/bin/sh', ['-c', 'i=0; while [ $i -lt 100000 ]; do i=$((i+1)); done']);
    const probe = createProbe({ backend });
    const out = new Float64Array(4);
    try {
      expect(probe.childrenInto(out)).toBe(ProbeStatus.OK);
    } finally {
      probe.close();
    }
    const st = procStat('self');
    const statUs = (st.field(16) + st.field(17)) * TICK_US;
    const cpu = out[CHILDREN.cpuUserUs]! + out[CHILDREN.cpuSystemUs]!;
    expect(statUs).toBeGreaterThan(0); // the shell loop burnt some
    // Native reads getrusage (µs), builtin the same ticks: within the ticks' truncation.
    expect(cpu).toBeGreaterThanOrEqual(statUs - 1);
    expect(cpu).toBeLessThan(statUs + 2 * TICK_US);
    expect(out[CHILDREN.minorPageFaults]).toBe(st.field(11));
  });

  it('refuses an output that cannot hold the four totals, in its class, naming `out`', () => {
    const probe = createProbe({ backend });
    try {
      for (const bad of [new Float64Array(3), new Float32Array(4), null, [0, 0, 0, 0]]) {
        expect(() => probe.childrenInto(bad as unknown as Float64Array)).toThrow(InvalidOptionError);
        expect(() => probe.childrenInto(bad as unknown as Float64Array)).toThrow(/out/);
      }
    } finally {
      probe.close();
    }
  });
});
