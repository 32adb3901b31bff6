/**
 * Node's own bootstrap as `node:*` phases, in fresh child processes (test/fixtures/
 * session-bootstrap.mjs): each phase's duration must equal the span between the
 * performance.nodeTiming milestones the child read itself, and the last one must end between the
 * child's own performance.now() readings around startSession.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { PhaseSummary } from '../dist/index.js';
import { killChildren, runJsonFixture } from './helpers/readers.js';
import { removeTempDirs, tempDir } from './helpers/temp-dirs.js';

interface BootstrapLine {
  id: string;
  before: number;
  after: number;
  uptimeAtStart: number;
  nodeTiming: { nodeStart: number; v8Start: number; environment: number; bootstrapComplete: number };
  startTime: number;
  timeOrigin: number;
  timings: PhaseSummary[];
}

afterEach(async () => {
  await killChildren();
  removeTempDirs();
});

async function run(delayMs: number, bootstrap: boolean): Promise<BootstrapLine> {
  const r = await runJsonFixture('session-bootstrap.mjs', [tempDir('procprobe-hist-'), String(delayMs), bootstrap ? '1' : '0'], 25_000);
  expect(r.code, r.stderr).toBe(0);
  expect(r.lines).toHaveLength(1);
  return r.lines[0] as BootstrapLine;
}

describe('node bootstrap phases', () => {
  it('a session opened at process start has node:* phases that match performance.nodeTiming', async () => {
    const out = await run(0, true);
    expect(out.uptimeAtStart).toBeLessThan(10);
    const nt = out.nodeTiming;
    const expected: [string, number, number][] = [
      ['node:process_init', 0, nt.nodeStart],
      ['node:v8_start', nt.nodeStart, nt.v8Start],
      ['node:environment', nt.v8Start, nt.environment],
      ['node:bootstrap', nt.environment, nt.bootstrapComplete],
    ];
    const node = out.timings.filter((p) => p.name.startsWith('node:'));
    expect(node.map((p) => p.name)).toEqual([...expected.map((e) => e[0]), 'node:module_loading']);
    // The session started between `before` and `after` (performance.now() in the child).
    const sessionMono = out.startTime - out.timeOrigin;
    expect(sessionMono).toBeGreaterThanOrEqual(out.before - 0.01);
    expect(sessionMono).toBeLessThanOrEqual(out.after + 0.01);
    for (const [name, from, to] of expected) {
      const p = node.find((x) => x.name === name)!;
      expect(p.durationMs, name).toBeCloseTo(to - from, 6);
      expect(p.startOffsetMs, name).toBeCloseTo(from - sessionMono, 3);
      expect(p.success).toBe(true);
    }
    // Module loading: from bootstrapComplete to the session start.
    const ml = node.find((x) => x.name === 'node:module_loading')!;
    expect(ml.startOffsetMs).toBeCloseTo(nt.bootstrapComplete - sessionMono, 3);
    expect(nt.bootstrapComplete + ml.durationMs).toBeGreaterThanOrEqual(out.before - 0.01);
    expect(nt.bootstrapComplete + ml.durationMs).toBeLessThanOrEqual(out.after + 0.01);
    // All of them before the session's start, and back to back.
    for (let i = 1; i < node.length; i++) {
      expect(node[i]!.startOffsetMs).toBeCloseTo(node[i - 1]!.startOffsetMs + node[i - 1]!.durationMs, 3);
    }
    expect(ml.startOffsetMs + ml.durationMs).toBeCloseTo(0, 3);
  });

  it('none with nodeBootstrap: false, and none when the session opens more than 10 s after start', async () => {
    const [off, late] = await Promise.all([run(0, false), run(10_300, true)]);
    expect(off.uptimeAtStart).toBeLessThan(10);
    expect(off.timings.filter((p) => p.name.startsWith('node:'))).toEqual([]);
    expect(late.uptimeAtStart).toBeGreaterThanOrEqual(10);
    expect(late.timings.filter((p) => p.name.startsWith('node:'))).toEqual([]);
  });
});
