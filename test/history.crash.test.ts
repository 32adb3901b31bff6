/**
 * A host killed with SIGKILL in the middle of a session (test/fixtures/session-crash.mjs): its
 * session is recovered as incomplete, with the samples flushed up to ~one flush interval (250 ms)
 * before the kill time recorded here, and with the timings finished and flushed before it.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { F, HistoryStore, RECORD } from '../dist/index.js';
import { FIXTURES, killChildren, procExists, sleep, track } from './helpers/readers.js';
import { removeTempDirs, tempDir } from './helpers/temp-dirs.js';

afterEach(async () => {
  await killChildren();
  removeTempDirs();
});

interface Ready {
  id: string;
  pid: number;
  phases: Record<string, { min: number; max: number }>;
  readyAt: number;
}

describe('a writer killed with SIGKILL', () => {
  it('leaves an incomplete session: samples up to the last flush, finished timings, the error', async () => {
    const dataDir = tempDir('procprobe-hist-');
    const spawnedAt = Date.now();
    const child = track(spawn(process.execPath, [join(FIXTURES, 'session-crash.mjs'), dataDir], { stdio: ['ignore', 'pipe', 'pipe'] }));
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    const ready = await new Promise<Ready>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (d) => {
        out += d;
        const nl = out.indexOf('\n');
        if (nl >= 0) resolve(JSON.parse(out.slice(0, nl)) as Ready);
      });
      child.once('exit', (code) => reject(new Error(`fixture exited (${code}) before ready: ${stderr}`)));
    });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    await sleep(Math.max(200, 1500 - (Date.now() - spawnedAt)));
    const killAt = Date.now();
    child.kill('SIGKILL');
    await exited; // reaped: its pid no longer names a live process
    expect(child.signalCode).toBe('SIGKILL');
    expect(procExists(ready.pid)).toBe(false);

    const store = new HistoryStore(dataDir);
    const summaries = await store.loadSummaries();
    expect(summaries.warnings).toEqual([]);
    expect(summaries.value).toHaveLength(1);
    const summary = summaries.value[0]!;
    expect(summary).toMatchObject({ id: ready.id, incomplete: true, success: false, metadata: { fixture: 'crash' } });

    const { value, warnings } = await store.loadSession(ready.id);
    expect(warnings).toEqual([]);
    const s = value!;
    expect(s.inProgress).toBe(false);
    expect(s.header.writerPid).toBe(ready.pid);
    const n = s.samples.count;
    const ts = (i: number) => s.samples.records[i * s.samples.stride + RECORD.ROW + F.timestamp]!;
    const last = ts(n - 1);
    const line = `kill at ${killAt}, last sample ${last.toFixed(1)} (${(killAt - last).toFixed(1)} ms before), ${n} samples`;
    // Nothing after the kill; at most one flush interval (250 ms) + slack lost before it.
    expect(last, line).toBeLessThanOrEqual(killAt + 5);
    expect(killAt - last, line).toBeLessThanOrEqual(400);
    expect(summary.endTime).toBeCloseTo(last, 3);
    // Every sample written is there: consecutive sequence numbers, increasing times.
    for (let i = 1; i < n; i++) {
      expect(s.samples.records[i * s.samples.stride + RECORD.SEQ]).toBe(s.samples.records[(i - 1) * s.samples.stride + RECORD.SEQ]! + 1);
      expect(ts(i)).toBeGreaterThan(ts(i - 1));
    }
    expect(n, line).toBeGreaterThan((last - ts(0)) / 1 / 3); // 1 ms sampling: at least a third of the ticks
    expect(ts(0)).toBeLessThan(ready.readyAt);

    // The finished timings were flushed (more than a second before the kill); the open one was not.
    expect(summary.phases.map((p) => p.name).sort()).toEqual(['phase-a', 'phase-b']);
    for (const p of summary.phases) {
      const own = ready.phases[p.name]!;
      expect(p.durationMs, p.name).toBeGreaterThanOrEqual(own.min);
      expect(p.durationMs, p.name).toBeLessThanOrEqual(own.max);
    }
    expect(summary.phases.find((p) => p.name === 'phase-b')).toMatchObject({ success: false, errorMessage: 'missing DATABASE_URL' });
    expect(summary.phases.find((p) => p.name === 'phase-a')!.resources!.cpuMs).toBeGreaterThanOrEqual(19.5);
    expect(summary.errors).toEqual([expect.objectContaining({ message: 'cache cold', operation: 'phase-a' })]);
    expect(stderr).toBe('');

    // The recovered session was indexed: the next load reads the index and agrees.
    const again = await store.loadSummaries();
    expect(again.warnings).toEqual([]);
    expect(again.value).toEqual(summaries.value);
  });
});

describe('a long session (past maxSessionSamples) killed with SIGKILL', () => {
  it('keeps every timing finished before the last flush, with its CPU from the samples on disk', async () => {
    const dataDir = tempDir('procprobe-hist-');
    const child = track(spawn(process.execPath, [join(FIXTURES, 'session-long-crash.mjs'), dataDir], { stdio: ['ignore', 'pipe', 'pipe'] }));
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    const finished: { finished: string; at: number; cpuMs: number }[] = [];
    let ready: { id: string } | null = null;
    let buf = '';
    child.stdout!.on('data', (d) => {
      buf += d;
      for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
        const line = JSON.parse(buf.slice(0, nl));
        buf = buf.slice(nl + 1);
        if (line.ready) ready = line;
        else finished.push(line);
      }
    });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    // Memory is full 0.2 s in; run well past it, then kill.
    while (finished.length < 250) {
      if (child.exitCode !== null) throw new Error(`fixture exited: ${stderr}`);
      await sleep(20);
    }
    const killAt = Date.now();
    child.kill('SIGKILL');
    await exited;
    expect(stderr).toBe('');

    const { value, warnings } = await new HistoryStore(dataDir).loadSummaries();
    expect(warnings).toEqual([]);
    expect(value.map((s) => [s.id, s.incomplete])).toEqual([[ready!.id, true]]);
    const recovered = value[0]!.phases;
    // Housekeeping hands finished timings to the writer every 50 ms, which writes them at once;
    // flushIntervalMs (250) bounds the samples. Everything finished 400 ms before the kill is on disk.
    const due = finished.filter((f) => f.at < killAt - 400);
    const names = recovered.map((p) => p.name);
    const line = `${finished.length} finished, ${due.length} due, ${recovered.length} recovered`;
    expect(due.length, line).toBeGreaterThan(100);
    expect(names.slice(0, due.length), line).toEqual(due.map((f) => f.finished));
    // Nothing recovered that the fixture did not finish, in its order.
    expect(names, line).toEqual(finished.slice(0, names.length).map((f) => f.finished));
    // Each phase's CPU: at least what the fixture burnt in it, by process.cpuUsage (getrusage read
    // on either side of it, written with the timing: a flush of samples that came late cannot cut it short).
    const byName = new Map(finished.map((f) => [f.finished, f.cpuMs]));
    const withCpu = recovered.filter((p) => p.resources);
    expect(withCpu.length, line).toBeGreaterThan(due.length * 0.9);
    for (const p of withCpu.slice(0, due.length)) expect(p.resources!.cpuMs, p.name).toBeGreaterThanOrEqual(byName.get(p.name)! - 0.5);
    // The CPU is the boundary reads written with each timing; its levels and peaks come from the samples on disk.
    const withLevels = withCpu.slice(0, due.length).filter((p) => p.resources!.samples > 0 && p.resources!.rssPeakBytes > 0);
    expect(withLevels.length, line).toBeGreaterThan(due.length * 0.9);
  }, 60_000);
});
