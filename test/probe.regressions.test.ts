// Regressions found by the probe suite: context switches of another process must stay cumulative
// when its threads exit, and a process whose leader thread exited (others still running) is not
// a zombie. Independent readers: the child's own process.resourceUsage() (all threads, exited
// ones too) and the kernel's /proc/PID/stat.
import { spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { createProbe, F, FIELD_COUNT, ProbeStatus } from '../dist/index.js';
import { FIXTURES, killChildren, procStat, sleep, spawnReady, track, waitFor } from './helpers/readers.js';
import { need, requireAddonFor } from './helpers/optional-readers.js';

afterEach(killChildren);

describe.each(['native', 'builtin'] as const)('another process on the %s tier', (backend) => {
  requireAddonFor(backend);
  it('keeps voluntary context switches cumulative while its threads come and go', async () => {
    const child = await spawnReady(process.execPath, [`${FIXTURES}thread-churn.mjs`]);
    const probe = createProbe({ pid: child.pid, backend });
    const row = new Float64Array(FIELD_COUNT);
    let prev = 0;
    let decreases = 0;
    let samples = 0;
    let report = '';
    child.stdout!.on('data', (d) => (report += d));
    const sample = (): void => {
      expect(probe.sampleInto(row, 0)).toBe(ProbeStatus.OK);
      const v = row[F.voluntaryContextSwitches]!;
      if (v < prev) decreases++;
      prev = v;
      samples++;
    };
    const stopAt = performance.now() + 1500;
    while (performance.now() < stopAt) {
      sample();
      await sleep(1);
    }
    // Stop the churn and keep sampling while the last workers finish, until the child reports its
    // own all-thread count (after every worker exited).
    child.stdin!.write('stop\n');
    while (!/\{.*\}/.test(report)) {
      sample();
      await sleep(1);
    }
    const own = JSON.parse(/\{.*\}/.exec(report)![0]) as { voluntary: number };
    expect(probe.sampleInto(row, 0)).toBe(ProbeStatus.OK);
    probe.close();
    expect(samples).toBeGreaterThan(20);
    expect(decreases).toBe(0);
    // A thread that exits takes the switches since its last sample with it (about 1-2 ms worth):
    // the probe may only be lower than the child's own count, and not by much.
    expect(row[F.voluntaryContextSwitches]).toBeLessThanOrEqual(own.voluntary);
    expect(row[F.voluntaryContextSwitches]).toBeGreaterThan(own.voluntary * 0.8);
  });

  it('reads a process whose main thread exited while others run as alive, not a zombie', async (ctx) => {
    need(ctx, 'python3');
    const script =
      'import threading, time, ctypes, sys\n' +
      'for _ in range(3): threading.Thread(target=time.sleep, args=(30,), daemon=False).start()\n' +
      'print("ready", flush=True)\n' +
      'ctypes.CDLL(None).pthread_exit(None)\n';
    const child = track(spawn('python3', ['-c', script], { stdio: ['ignore', 'pipe', 'inherit'] }));
    await new Promise<void>((r) => child.stdout!.once('data', () => r()));
    const pid = child.pid!;
    const k = await waitFor('the leader thread to exit (state Z, other threads alive)', () => {
      const s = procStat(pid);
      return s.state === 'Z' ? s : undefined;
    });
    expect(k.field(20)).toBe(4); // the kernel: leader (exited) + 3 live threads
    const probe = createProbe({ pid, backend });
    const sample = probe.sampleSync(); // a zombie would throw ZombieProcessError
    expect(sample.threads).toBe(4);
    probe.close();
  });
});
