/**
 * Processes that are gone or going: a zombie (exited, not reaped), a pid that does not exist, and
 * a process that exits after its probe was created. The process state is read from /proc here
 * (stat state 'Z', the absence of /proc/PID) and the zombie's CPU from its schedstat and stat.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createProbe,
  F,
  FIELD_COUNT,
  ProbeStatus,
  ProcessExitedError,
  ProcessNotFoundError,
  ProcprobeError,
  ZombieProcessError,
  type Probe,
} from '../dist/index.js';
import { getconf, killChildren, procExists, procStat, spawnSleeper, startTimeMs, track, waitFor } from './helpers/readers.js';
import { requireAddonFor } from './helpers/optional-readers.js';

const SENTINEL = -7;

/** `sh -c 'sleep 0.05 & exec sleep 30'`: the exec'd sleep never reaps its child, which stays a zombie. */
async function makeZombie(): Promise<number> {
  const parent = track(spawn('sh', ['-c', 'sleep 0.05 & exec sleep 30'], { stdio: 'ignore' }));
  const ppid = parent.pid!;
  const childrenFile = `/proc/${ppid}/task/${ppid}/children`;
  const zpid = await waitFor('the background sleep in /proc/PID/task/PID/children', () => {
    if (!existsSync(childrenFile) && procExists(ppid)) {
      throw new Error(`${childrenFile} is missing: this kernel lacks CONFIG_PROC_CHILDREN, needed to find the zombie`);
    }
    const text = readFileSync(childrenFile, 'latin1').trim();
    return text ? Number(text.split(' ')[0]) : undefined;
  });
  await waitFor(`pid ${zpid} to be a zombie (stat state Z)`, () => (procStat(zpid).state === 'Z' ? true : undefined));
  return zpid;
}

describe.each(['native', 'builtin'] as const)('processes that are gone (%s)', (backend) => {
  requireAddonFor(backend);
  let probe: Probe | undefined;
  afterEach(async () => {
    probe?.close();
    probe = undefined;
    await killChildren(); // killing the exec'd sleep lets init reap the zombie
  });

  it('a zombie: sampleSync throws ZombieProcessError; sampleInto fills CPU, NaN for the rest', async () => {
    const zpid = await makeZombie();
    probe = createProbe({ pid: zpid, backend });
    let err: unknown;
    try {
      probe.sampleSync();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ZombieProcessError);
    expect(err).toBeInstanceOf(ProcprobeError);
    expect((err as ZombieProcessError).code).toBe('ERR_PROCPROBE_ZOMBIE');
    expect((err as ZombieProcessError).pid).toBe(zpid);

    const row = new Float64Array(FIELD_COUNT + 2).fill(SENTINEL);
    expect(probe.sampleInto(row, 1)).toBe(ProbeStatus.ZOMBIE);
    expect(row[0]).toBe(SENTINEL);
    expect(row[FIELD_COUNT + 1]).toBe(SENTINEL);
    const f = (name: keyof typeof F) => row[1 + F[name]]!;
    const st = procStat(zpid);
    expect(st.state).toBe('Z'); // still a zombie after the read
    expect(f('pid')).toBe(zpid);
    const cpu = f('cpuUserUs') + f('cpuSystemUs');
    const schedUs = Number(readFileSync(`/proc/${zpid}/schedstat`, 'latin1').split(' ')[0]) / 1e3;
    const tick = 1e6 / getconf('CLK_TCK');
    if (backend === 'native') expect(Math.abs(cpu - schedUs), `cpu ${cpu} schedstat ${schedUs}`).toBeLessThanOrEqual(1000);
    else expect(cpu).toBe((st.field(14) + st.field(15)) * tick);
    expect(f('cpuUserUs')).toBeGreaterThanOrEqual(0);
    expect(f('cpuSystemUs')).toBeGreaterThanOrEqual(0);
    expect(f('minorPageFaults')).toBe(st.field(10));
    expect(f('majorPageFaults')).toBe(st.field(12));
    expect(Math.abs(f('startTime') - startTimeMs(zpid))).toBeLessThanOrEqual(1000);
    for (const name of ['rssBytes', 'vmsBytes', 'memoryPercent', 'openFds', 'threads'] as const) {
      expect(f(name), name).toBeNaN();
    }
  });

  it('a pid above /proc/sys/kernel/pid_max: ProcessNotFoundError', () => {
    const pidMax = Number(readFileSync('/proc/sys/kernel/pid_max', 'latin1'));
    expect(pidMax).toBeGreaterThan(0);
    for (const pid of [pidMax + 1, pidMax + 12345]) {
      expect(procExists(pid)).toBe(false);
      let err: unknown;
      try {
        probe = createProbe({ pid, backend });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ProcessNotFoundError);
      expect((err as ProcessNotFoundError).code).toBe('ERR_PROCPROBE_NO_SUCH_PROCESS');
      expect((err as ProcessNotFoundError).pid).toBe(pid);
      expect((err as Error).message).toBe(`no process with pid ${pid}`);
    }
  });

  it('a process that exits after the probe was created: ProcessExitedError, row untouched, no crash', async () => {
    const child = await spawnSleeper('sleep', 'sleep');
    const pid = child.pid;
    probe = createProbe({ pid, backend });
    expect(probe.sampleSync().pid).toBe(pid);
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited; // Node has reaped it
    expect(procExists(pid), `/proc/${pid} is gone`).toBe(false);

    for (let i = 0; i < 100; i++) {
      expect(() => probe!.sampleSync()).toThrow(ProcessExitedError);
    }
    let err: unknown;
    try {
      probe.sampleSync();
    } catch (e) {
      err = e;
    }
    expect((err as ProcessExitedError).code).toBe('ERR_PROCPROBE_PROCESS_EXITED');
    expect((err as ProcessExitedError).pid).toBe(pid);
    await expect(probe.sample()).rejects.toBeInstanceOf(ProcessExitedError);
    const row = new Float64Array(FIELD_COUNT).fill(SENTINEL);
    expect(probe.sampleInto(row, 0)).toBe(ProbeStatus.EXITED);
    expect([...row].every((v) => v === SENTINEL)).toBe(true);
    probe.close();
    expect(probe.closed).toBe(true);
  });

  it('a process that exits while sampled: OK, then ZOMBIE until Node reaps it, then EXITED', async () => {
    const child = track(spawn('sleep', ['0.2'], { stdio: 'ignore' }));
    const pid = child.pid!;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    probe = createProbe({ pid, backend });
    const row = new Float64Array(FIELD_COUNT);
    const seen: number[] = [];
    // A synchronous loop: Node cannot reap the child until it ends, so the exit shows as ZOMBIE.
    const deadline = Date.now() + 10_000;
    let status: number = ProbeStatus.OK;
    while (status === ProbeStatus.OK && Date.now() < deadline) {
      status = probe.sampleInto(row, 0);
      if (seen.at(-1) !== status) seen.push(status);
    }
    expect(procStat(pid).state).toBe('Z');
    expect(seen).toEqual([ProbeStatus.OK, ProbeStatus.ZOMBIE]);
    await exited;
    expect(procExists(pid)).toBe(false);
    expect(probe.sampleInto(row, 0)).toBe(ProbeStatus.EXITED);
  });
});
