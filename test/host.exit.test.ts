/**
 * Nothing of procprobe keeps its host alive: each public object is created in a fresh node
 * process, left open, and the script simply ends. Independent facts: the child's exit status and
 * its exit time against the child's own last clock reading, and, for an open session, what the
 * fixture says it did against the history file it leaves (the exit flush writes what the session
 * had: a kill -9 after the last line would lose up to a flush interval of it).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { F, HistoryStore, RECORD } from '../dist/index.js';
import { runFixture } from './helpers/readers.js';

const dir = mkdtempSync(join(tmpdir(), 'procprobe-host-exit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Exit within this long after the last line: the documented exit-flush budget (500 ms) and slack for a loaded machine. */
const EXIT_MS = 2000;

async function leftOpen(what: string): Promise<Record<string, number | string> & { exitAfterMs: number }> {
  const run = await runFixture('host-left-open.mjs', [what, join(dir, what)], 20_000);
  const exitedAt = Date.now();
  expect(run.stderr).toBe('');
  expect(run.signal).toBeNull();
  expect(run.code).toBe(0);
  const out = JSON.parse(run.stdout.trim()) as Record<string, number | string>;
  expect(out.what).toBe(what);
  return { ...out, exitAfterMs: exitedAt - Number(out.lastLineAt) };
}

describe('a public object left open at the end of a script', () => {
  for (const what of ['probe', 'sampler', 'realtime-monitor', 'prometheus', 'performance-monitor-idle']) {
    it(`${what}: the process exits by itself, code 0`, async () => {
      const out = await leftOpen(what);
      expect(out.exitAfterMs).toBeLessThan(EXIT_MS);
    });
  }

  it('a PerformanceMonitor with an open session and an open timing: exits by itself; the history holds the session, incomplete, with all it had', async () => {
    const out = await leftOpen('performance-monitor-session');
    expect(out.exitAfterMs).toBeLessThan(EXIT_MS);
    const store = new HistoryStore(join(dir, 'performance-monitor-session'));
    const loaded = await store.loadSession(String(out.sessionId));
    expect(loaded.warnings).toEqual([]);
    const s = loaded.value!;
    expect(s.summary.incomplete).toBe(true);
    const done = s.summary.phases.find((p) => p.name === 'done_phase')!;
    const open = s.summary.phases.find((p) => p.name === 'open_phase')!;
    expect(done.success).toBe(true);
    expect(open).toMatchObject({ success: false, errorMessage: 'not finished when the process exited' });
    // The phases' CPU, from the samples saved at exit, covers what the fixture burnt in them
    // (less a sampling interval at each edge and the 4 ms scheduler-tick accounting).
    expect(done.resources!.cpuMs).toBeGreaterThanOrEqual(Number(out.doneCpuUs) / 1000 - 10);
    expect(open.resources!.cpuMs).toBeGreaterThanOrEqual(Number(out.openCpuUs) / 1000 - 10);
    expect(s.summary.errors.map((e) => e.message)).toEqual(['an error of the application', 'the process exited with the session open']);
    // Samples up to the exit, not up to the last periodic flush.
    const last = s.samples.records[(s.samples.count - 1) * s.samples.stride + RECORD.ROW + F.timestamp]!;
    expect(s.samples.count).toBeGreaterThan(10);
    expect(Number(out.lastLineAt) - last, 'the last sample saved is from the last moments').toBeLessThan(100);
  });

  it('a session finished and awaited straight after its start (its file not open yet): the awaits hold the process until the file is complete', async () => {
    const out = await leftOpen('performance-monitor-finished-at-once');
    expect(out.finishedId).toBe(out.sessionId);
    const loaded = await new HistoryStore(join(dir, 'performance-monitor-finished-at-once')).loadSession(String(out.sessionId));
    expect(loaded.warnings).toEqual([]);
    expect(loaded.value!.summary.incomplete).toBe(false);
  });
});
