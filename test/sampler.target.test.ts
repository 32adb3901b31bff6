/**
 * Sampling another process that exits: the monitor emits 'stopped' (reason 'target-exited'), keeps
 * its samples and does not crash. The target is a `sleep` child; its pid and its end come from
 * child_process and /proc here.
 */
import { spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { RealTimeMonitor, type PerformanceSnapshot, type ProcprobeError } from '../dist/index.js';
import { MiB, statmRss } from './helpers/monitor-readers.js';
import { killChildren, procExists, sleep, spawnSleeper, track, waitFor } from './helpers/readers.js';

let mon: RealTimeMonitor | undefined;
afterEach(async () => {
  await mon?.stop();
  mon = undefined;
  await killChildren();
});

/** A monitor of a `sleep` child; resolves once the child has exited and the monitor said 'stopped'. */
async function watchExit(): Promise<{
  m: RealTimeMonitor;
  pid: number;
  rssAlive: number;
  rssAliveAt: number;
  stopped: { reason: string };
  monitoringAtStopped: boolean;
  errors: ProcprobeError[];
}> {
  const child = await spawnSleeper('sleep', 'sleep', ['30']);
  const pid = child.pid;
  const m = (mon = new RealTimeMonitor({ pid, samplingIntervalMs: 10, capacity: 1000 }));
  const errors: ProcprobeError[] = [];
  m.on('error', (e) => errors.push(e));
  let monitoringAtStopped = true;
  const stopped = new Promise<{ reason: string }>((resolve) =>
    m.once('stopped', (info) => {
      monitoringAtStopped = m.isMonitoring;
      resolve(info);
    }),
  );
  await m.start();
  await sleep(150);
  // Read once the child's memory has settled (three equal statm reads 20 ms apart): a loaded
  // machine can still be paging the freshly exec'd program in.
  let rssAlive = statmRss(pid);
  for (let same = 0, tries = 0; same < 2 && tries < 100; tries++) {
    await sleep(20);
    const now = statmRss(pid);
    same = now === rssAlive ? same + 1 : 0;
    rssAlive = now;
  }
  const rssAliveAt = Date.now();
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
  expect(procExists(pid)).toBe(false);
  const info = await Promise.race([stopped, sleep(5000).then(() => ({ reason: 'timeout: no stopped event' }))]);
  return { m, pid, rssAlive, rssAliveAt, stopped: info, monitoringAtStopped, errors };
}

const okOnly = (list: PerformanceSnapshot[]) => list.filter((s) => s.status === 0);

describe('the sampled process exits', () => {
  it("emits 'stopped' with reason target-exited, keeps the samples, isMonitoring becomes false, no error", async () => {
    const { m, pid, rssAlive, rssAliveAt, stopped, errors } = await watchExit();
    expect(stopped).toEqual({ reason: 'target-exited' });
    await waitFor('isMonitoring to turn false', () => (m.isMonitoring ? undefined : true), 5000);
    expect(errors).toEqual([]);
    const snaps = m.getRecentSnapshots(1000);
    const ok = okOnly(snaps);
    expect(ok.length).toBeGreaterThanOrEqual(5);
    for (const s of ok) expect(s.pid).toBe(pid);
    for (let i = 1; i < snaps.length; i++) expect(snaps[i]!.seq).toBe(snaps[i - 1]!.seq + 1);
    // The last record is the one that saw the exit (not OK); everything before it was OK.
    expect(snaps.at(-1)!.status).not.toBe(0);
    expect(ok.length).toBe(snaps.length - 1);
    // The live samples are the child's: its RSS as /proc/PID/statm showed it (sleep is small and
    // steady), in the sample nearest that read (not the last ones: memory is freed while it exits).
    const near = ok.reduce((a, b) => (Math.abs(b.timestamp - rssAliveAt) < Math.abs(a.timestamp - rssAliveAt) ? b : a));
    expect(Math.abs(near.timestamp - rssAliveAt)).toBeLessThan(100);
    expect(Math.abs(near.rssBytes - rssAlive)).toBeLessThanOrEqual(1 * MiB);
    // Nothing more is written and stop() still resolves.
    const seq = m.reader.latestSeq();
    await sleep(50);
    expect(m.reader.latestSeq()).toBe(seq);
    await m.stop();
    expect(m.getRecentSnapshots(1000)).toHaveLength(snaps.length);
  });

  // Found by this suite: start() rejects on the worker's ERROR message while the failed worker is
  // still alive, so isMonitoring stays true for a few tens of ms after the rejection.
  it('start() once the target is gone rejects (ERR_PROCPROBE_NO_SUCH_PROCESS) and isMonitoring is false', async () => {
    const child = await spawnSleeper('sleep', 'sleep', ['30']);
    const m = (mon = new RealTimeMonitor({ pid: child.pid, samplingIntervalMs: 10 }));
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    expect(procExists(child.pid)).toBe(false);
    await expect(m.start()).rejects.toMatchObject({ code: 'ERR_PROCPROBE_NO_SUCH_PROCESS' });
    expect(m.isMonitoring).toBe(false);
  });

  // Found by this suite: the record that saw the exit has NaN CPU, and getAverageMetrics takes the
  // CPU delta between the window's first and last records whatever their status: avgCpuPercent is
  // NaN although `samples` counts the live records.
  it('getAverageMetrics after the exit averages the live records (finite CPU)', async () => {
    const { m } = await watchExit();
    await waitFor('isMonitoring to turn false', () => (m.isMonitoring ? undefined : true), 5000);
    const ok = okOnly(m.getRecentSnapshots(1000));
    const avg = m.getAverageMetrics(60_000);
    expect(avg.samples).toBe(ok.length);
    expect(avg.avgMemoryMb).toBeCloseTo(ok.reduce((a, s) => a + s.memoryMb, 0) / ok.length, 9);
    const a = ok[0]!;
    const b = ok.at(-1)!;
    const manualCpu = ((b.cpuUserUs + b.cpuSystemUs - a.cpuUserUs - a.cpuSystemUs) / ((b.timestamp - a.timestamp) * 1e3)) * 100;
    expect(avg.avgCpuPercent).toBeCloseTo(manualCpu, 6);
  });

  // Found by this suite: 'stopped' is emitted on the worker's STOPPED message, before the worker has
  // exited, so a listener still sees isMonitoring === true.
  it("isMonitoring is already false inside the 'stopped' listener", async () => {
    const { stopped, monitoringAtStopped } = await watchExit();
    expect(stopped.reason).toBe('target-exited');
    expect(monitoringAtStopped).toBe(false);
  });

  it('a short-lived child sampled until it ends: the monitor never throws into the host', async () => {
    const child = track(spawn('sleep', ['0.5'], { stdio: 'ignore' }));
    const pid = child.pid!;
    const m = (mon = new RealTimeMonitor({ pid, samplingIntervalMs: 1, capacity: 2000 }));
    const errors: unknown[] = [];
    m.on('error', (e) => errors.push(e));
    const stopped = new Promise((resolve) => m.once('stopped', resolve));
    await m.start();
    await stopped;
    expect(errors).toEqual([]);
    expect(okOnly(m.getRecentSnapshots(2000)).length).toBeGreaterThan(20);
    await m.stop();
  });
});
