/**
 * The host comes first: a sampler never keeps a process alive, process.exit with a running
 * monitor is prompt and 'exit' handlers still read the last samples; and when the worker thread
 * dies the monitor says so. Each case runs a fixture in its own node process; exit codes, times and
 * pids come from child_process here, not from procprobe.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { killChildren, runFixture, type FixtureRun } from './helpers/readers.js';

afterEach(killChildren);

describe('the host comes first', () => {
  it('a script that starts a 1 ms monitor and does nothing else exits by itself, code 0', async () => {
    const run = await runFixture('monitor-idle-exit.mjs', [], 10_000);
    expect(run.stderr).toBe('');
    expect(run.signal).toBeNull();
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^started true [1-9]\d*\n$/); // it did run and sample first
    expect(run.elapsedMs).toBeLessThan(5000); // node alone starts in well under a second
  });

  it('process.exit() with a running monitor is prompt, and an exit handler reads the last snapshots', async () => {
    const run = await runFixture('monitor-exit-midway.mjs', [], 10_000);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(3);
    const lines = run.stdout.trim().split('\n');
    expect(lines[0]).toBe('started');
    const out = JSON.parse(lines[1]!) as {
      code: number;
      exitCalledAt: number;
      handlerAt: number;
      rss: number;
      pid: number;
      snapshots: { seq: number; timestamp: number; pid: number; rssBytes: number; status: number }[];
    };
    expect(out.code).toBe(3);
    expect(out.exitCalledAt).toBeGreaterThan(0);
    expect(out.handlerAt - out.exitCalledAt).toBeLessThan(500);
    expect(run.elapsedMs).toBeLessThan(5000);
    const snaps = out.snapshots;
    expect(snaps).toHaveLength(20);
    for (let i = 1; i < snaps.length; i++) expect(snaps[i]!.seq).toBe(snaps[i - 1]!.seq + 1);
    for (const s of snaps) {
      expect(s.status).toBe(0);
      expect(s.pid).toBe(out.pid);
    }
    // The newest snapshot is recent: taken within 250 ms before process.exit() was called.
    expect(out.exitCalledAt - snaps.at(-1)!.timestamp).toBeLessThan(250);
    expect(snaps.at(-1)!.timestamp).toBeLessThanOrEqual(out.handlerAt + 1);
    // And it is this process's RSS as the process itself saw it in the handler (±8 MiB: it allocates).
    expect(Math.abs(snaps.at(-1)!.rssBytes - out.rss)).toBeLessThan(8 * 1024 * 1024);
  });
});

// 5 ms: the JavaScript loop; 1 ms: one process sampled by the addon's loop, which hands control
// back every 100 ms so that terminate() can land.
describe.each([5, 1])('the worker thread dies (%d ms interval)', (intervalMs) => {
  // No test hook reaches the private Worker: the fixture swaps node:worker_threads' Worker export
  // for a recording subclass (syncBuiltinESMExports) and terminates the real thread.
  let run: FixtureRun;
  let out: {
    workers: number;
    exitCode: number;
    terminateMs: number;
    seqBefore: number;
    seqAtDeath: number;
    seqAfterDeath: number;
    isMonitoringAfter: boolean;
    writerStateAfter: number;
    events: { event: string; code?: string; message?: string; reason?: string; isMonitoring?: boolean }[];
    restarted: { isMonitoring: boolean; latestSeq: number; workers: number; seqs: number[] };
    kept: number;
  };
  beforeAll(async () => {
    run = await runFixture('sampler-worker-killed.mjs', [String(intervalMs)], 15_000);
    if (run.code !== 0) throw new Error(`fixture failed (${run.code}): ${run.stderr}`);
    out = JSON.parse(run.stdout.trim());
  });

  it("emits one 'error' (ERR_PROCPROBE_WORKER_FAILED) and 'stopped' with reason worker-exited; isMonitoring false; samples kept", () => {
    expect(out.workers).toBe(1);
    expect(out.exitCode).toBe(1);
    expect(out.seqBefore).toBeGreaterThan(5);
    expect(out.seqAfterDeath).toBe(out.seqAtDeath); // nothing wrote after the thread died
    // terminate() lands promptly: at once in JavaScript, at the native loop's next return (<= 100 ms).
    expect(out.terminateMs).toBeLessThan(1000);
    expect(out.seqAtDeath - out.seqBefore).toBeLessThanOrEqual(Math.ceil(150 / intervalMs) + 5);
    expect(out.isMonitoringAfter).toBe(false);
    expect(out.events).toEqual([
      { event: 'error', code: 'ERR_PROCPROBE_WORKER_FAILED', message: 'sampler worker exited with code 1' },
      { event: 'stopped', reason: 'worker-exited', isMonitoring: false },
    ]);
    expect(out.kept).toBe(5);
  });

  it('start() afterwards spawns a new worker that continues the sequence', () => {
    expect(out.restarted.workers).toBe(2);
    expect(out.restarted.isMonitoring).toBe(true);
    expect(out.restarted.latestSeq).toBeGreaterThan(out.seqAfterDeath + 5);
    const seqs = out.restarted.seqs;
    expect(seqs).toEqual(seqs.map((_, i) => seqs[0]! + i)); // consecutive across the death and restart
    expect(seqs).toContain(out.seqAfterDeath);
    expect(seqs).toContain(out.seqAfterDeath + 1);
  });

  // Found by this suite: the ring header still says RUNNING (1) after the writer thread died, so a
  // reader in another thread (which has only the buffer) cannot tell the samples stopped.
  it('the ring header no longer says the writer is RUNNING once it died', () => {
    expect(out.writerStateAfter).not.toBe(1);
  });
});
