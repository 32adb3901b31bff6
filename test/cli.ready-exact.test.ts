/**
 * `procprobe run` with --port and --ready-pattern: process_startup ends at the instant the check
 * succeeded, stamped where it happened (a native thread's connect, the native pipe reader's
 * read), and total_startup with it when no health check follows. Oracle: the command itself
 * (test/fixtures/ready-report.mjs) stamps its own clock before and after it writes the line and
 * before it listens and once it is listening.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { cleanup, freePortBelowEphemeral, runCli } from './helpers/cli.js';
import { requireAddonFor } from './helpers/optional-readers.js';
import { tempDir } from './helpers/temp-dirs.js';

afterAll(cleanup);

interface Stamp {
  epoch: number;
}
interface Report {
  event: 'line' | 'listen';
  before: Stamp;
  after: Stamp;
}
interface Phase {
  name: string;
  startOffsetMs: number;
  durationMs: number;
}

/** Each run's process_startup and total_startup ends (ms since epoch) from `show --json`, and the fixture's reports of `event`. */
async function run(extra: string[], port: number, event: Report['event']): Promise<{ ends: { process: number; total: number }[]; reports: Report[] }> {
  const dir = tempDir('procprobe-cli-');
  const r = await runCli(['run', '--json', '--runs', '2', '--data-dir', dir, ...extra, '--', process.execPath, 'test/fixtures/ready-report.mjs', String(port), '150']);
  expect(r.code, r.stderr).toBe(0);
  const reports = [...r.stderr.matchAll(/^\{"pid":.*\}$/gm)].map((m) => JSON.parse(m[0]) as Report).filter((x) => x.event === event);
  expect(reports, r.stderr).toHaveLength(2);
  const ends = [];
  for (const x of JSON.parse(r.stdout).runs as { sessionId: string }[]) {
    const s = JSON.parse((await runCli(['show', x.sessionId, '--json', '--data-dir', dir])).stdout) as { startTime: number; phases: Phase[] };
    const end = (name: string): number => {
      const p = s.phases.find((q) => q.name === name)!;
      return s.startTime + p.startOffsetMs + p.durationMs;
    };
    ends.push({ process: end('process_startup'), total: end('total_startup') });
  }
  return { ends, reports };
}

// The command's clock and procprobe's are each performance.timeOrigin + performance.now(): one
// monotonic clock, origins fixed at each process's start from the wall clock (sub-ms apart).
const CLOCKS_MS = 1;
// One 0.5 ms poll or one read after the event on an idle core; a loaded 2-core box may preempt.
const LATE_MS = 50;

describe('procprobe run: readiness timed where it happens', () => {
  requireAddonFor('native');

  it('--port: process_startup and total_startup end when the port began to accept', async () => {
    const port = await freePortBelowEphemeral();
    const { ends, reports } = await run(['--port', String(port)], port, 'listen');
    ends.forEach((e, i) => {
      const r = reports[i]!;
      const line = `run ${i + 1}: ended ${e.process.toFixed(3)}, listen ${r.before.epoch.toFixed(3)}..${r.after.epoch.toFixed(3)}`;
      expect(e.process, line).toBeGreaterThanOrEqual(r.before.epoch - CLOCKS_MS);
      expect(e.process - r.after.epoch, line).toBeLessThan(LATE_MS);
      expect(e.total).toBe(e.process);
    });
  }, 60_000);

  it('--ready-pattern: they end when the line was read', async () => {
    const port = await freePortBelowEphemeral();
    const { ends, reports } = await run(['--ready-pattern', '^ready-report line$'], port, 'line');
    ends.forEach((e, i) => {
      const r = reports[i]!;
      const line = `run ${i + 1}: ended ${e.process.toFixed(3)}, line ${r.before.epoch.toFixed(3)}..${r.after.epoch.toFixed(3)}`;
      expect(e.process, line).toBeGreaterThanOrEqual(r.before.epoch - CLOCKS_MS);
      expect(e.process - r.after.epoch, line).toBeLessThan(LATE_MS);
      expect(e.total).toBe(e.process);
    });
  }, 60_000);

  it('--port and --ready-pattern: ready when both are, at the later (the listen, 150 ms after the line)', async () => {
    const port = await freePortBelowEphemeral();
    const { ends, reports } = await run(['--port', String(port), '--ready-pattern', 'ready-report'], port, 'listen');
    ends.forEach((e, i) => {
      const r = reports[i]!;
      const line = `run ${i + 1}: ended ${e.process.toFixed(3)}, listen ${r.before.epoch.toFixed(3)}..${r.after.epoch.toFixed(3)}`;
      expect(e.process, line).toBeGreaterThanOrEqual(r.before.epoch - CLOCKS_MS);
      expect(e.process - r.after.epoch, line).toBeLessThan(LATE_MS);
    });
  }, 60_000);
});
