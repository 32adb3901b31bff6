/**
 * The sampler's self-accounting of a session (issue 13 item 4). Oracles independent of the code:
 * the kernel's own per-thread stat file (utime + stime in USER_HZ ticks) of every thread of this
 * process, read by the test before and after the session; the history file's record count as the
 * loader decodes it; the records' own timestamps; the ring header read by the test.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { HistoryStore, PerformanceMonitor, RingReader, type SamplerAccount } from '../dist/index.js';
import { samplerWarning } from '../dist/session/sampler-account.js';
import { indexEntryProblem } from '../dist/history/validate-records.js';
import { F } from '../dist/probe/layout.js';
import { R } from '../dist/ring/layout.js';
import { getconf } from './helpers/readers.js';
import { removeTempDirs, tempDir } from './helpers/temp-dirs.js';

afterAll(() => removeTempDirs());

/** Block this thread without burning CPU: the sampler is then this process's busiest thread. */
function blockFor(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** utime + stime of every live thread of this process, ms, from the kernel's stat files. */
function threadCpuMs(): Map<string, number> {
  const tick = 1000 / getconf('CLK_TCK');
  const out = new Map<string, number>();
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'latin1');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(tid, (Number(f[11]) + Number(f[12])) * tick);
    } catch {
      // a thread that ended between the listing and the read
    }
  }
  return out;
}

describe.runIf(process.platform === 'linux')('sampler self-accounting of a session', () => {
  it('the sampler thread CPU agrees with its /proc stat, the rate with the history file and the records', async () => {
    const dataDir = tempDir('procprobe-selfacct-');
    const pm = new PerformanceMonitor({ dataDir, resourceSamplingIntervalMs: 0.1, nodeBootstrap: false });
    try {
      // A first session lets the worker boot: the measured one starts with a known sampler thread.
      pm.startSession({ label: 'boot' });
      await pm.samplingReady();
      await pm.finishSession();

      const ring = new RingReader(pm.sharedBuffer);
      const missed0 = ring.missedDeadlines;
      const before = threadCpuMs();
      const cpu0 = process.cpuUsage();
      pm.startSession({ label: 'measured' });
      await pm.samplingReady();
      blockFor(1500);
      const session = await pm.finishSession();
      const all = process.cpuUsage(cpu0);
      const after = threadCpuMs();
      const a = session.sampler!;
      expect(a, 'the summary carries the account').toBeDefined();

      // The busiest thread by the kernel's count (this one was blocked) is the sampler's.
      const grew = [...after].map(([tid, ms]) => ({ tid, ms: ms - (before.get(tid) ?? 0) })).sort((x, y) => y.ms - x.ms);
      const sampler = grew[0]!;
      expect(Number(sampler.tid)).not.toBe(process.pid);
      // stat counts in 10 ms ticks, and the test's reads bracket the session's marks.
      const tickMs = 1000 / getconf('CLK_TCK');
      expect(a.cpuMs, JSON.stringify({ a, grew: grew.slice(0, 3) })).toBeGreaterThan(sampler.ms - 3 * tickMs - 0.15 * sampler.ms);
      expect(a.cpuMs).toBeLessThan(sampler.ms + 3 * tickMs + 0.15 * sampler.ms);
      // Never the whole process: at most every thread's CPU together.
      expect(a.cpuMs).toBeLessThanOrEqual((all.user + all.system) / 1e3 + 1);
      expect(a.corePercent).toBeCloseTo((a.cpuMs / a.wallMs) * 100, 6);

      // Records: what the history writer put in the file, counted by the loader.
      const loaded = (await new HistoryStore(dataDir).loadSession(session.id)).value!;
      expect(a.records).toBe(loaded.samples.count);
      // The achieved rate against the records' own timestamps (first to last), within 25 %: the
      // account's window also holds the resume and the pause.
      const s = loaded.samples;
      const ts = (i: number) => s.records[i * s.stride + R.ROW + F.timestamp]!;
      const spanHz = ((s.count - 1) / (ts(s.count - 1) - ts(0))) * 1e3;
      expect(a.achievedHz / spanHz, JSON.stringify({ a, spanHz })).toBeGreaterThan(0.75);
      expect(a.achievedHz / spanHz).toBeLessThan(1.25);
      expect(a.wallMs).toBeGreaterThanOrEqual(1500);
      expect(a.targetHz).toBe(10_000);
      // Missed deadlines: the ring header's count, read by the test around the session.
      expect(a.missedDeadlines).toBe(ring.missedDeadlines - missed0);
      expect(a.missedPercent).toBeCloseTo((a.missedDeadlines / (a.missedDeadlines + a.records)) * 100, 6);

      // History keeps it: the index entry as the store loads (and validates) it.
      const summaries = (await new HistoryStore(dataDir).loadSummaries(0)).value;
      expect(summaries.find((x) => x.id === session.id)?.sampler).toEqual(a);
    } finally {
      await pm.close();
    }
  }, 60_000);
});

describe('sampler warning', () => {
  const account = (corePercent: number, missedPercent: number): SamplerAccount => ({
    cpuMs: corePercent * 10, wallMs: 1000, corePercent, intervalMs: 0.5, targetHz: 2000, achievedHz: 2000,
    records: 2000, missedDeadlines: 0, missedPercent,
  });
  it('is silent at 2 % of a core and 1 % missed, speaks above either, and names the option and its value', () => {
    expect(samplerWarning(account(2, 1), '--interval')).toBeNull();
    const cpu = samplerWarning(account(2.01, 0), '--interval')!;
    expect(cpu).toMatch(/used 2\.0 % of a core/);
    expect(cpu).toMatch(/--interval \(now 0\.5 ms\)/);
    expect(samplerWarning(account(0, 1.01), '--interval')).toMatch(/missed 1\.0 % of its deadlines/);
    expect(samplerWarning(account(NaN, 0), '--interval')).toBeNull(); // CPU unknown (not Linux): no guess
  });
});

describe('history: the account is checked like every field of a summary', () => {
  const summary = (sampler: unknown) => ({
    id: 'x', startTime: 1, endTime: 2, durationMs: 1, success: true, incomplete: false, metadata: {}, phases: [], errors: [], sampler,
  });
  it('a damaged account names its field; a whole one (NaN CPU off Linux included) passes', () => {
    const ok = { cpuMs: NaN, wallMs: 300, corePercent: NaN, intervalMs: 1, targetHz: 1000, achievedHz: 990, records: 297, missedDeadlines: 0, missedPercent: 0 };
    expect(indexEntryProblem(summary(ok), 'x')).toBeNull();
    expect(indexEntryProblem(summary({ ...ok, records: '297' }), 'x')).toMatch(/sampler\.records/);
    expect(indexEntryProblem(summary({ ...ok, intervalMs: 0 }), 'x')).toMatch(/sampler\.intervalMs/);
    expect(indexEntryProblem(summary([ok]), 'x')).toMatch(/sampler/);
  });
});
