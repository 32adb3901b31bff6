/**
 * Golden-file tests of the terminal reports (NO_COLOR) of fixed recorded sessions: `show`,
 * `stats` (every label, and one label) and `sessions`, on a data dir written here with fixed
 * times, ids and figures (helpers/session-helpers.ts writes the format as documented). The golden
 * files in test/golden/ are the reviewed output; `UPDATE_GOLDEN=1` rewrites them, and on a failure
 * the diff is printed. Nothing is masked: whatever varies would be a bug of the fixture.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanup, ROOT, runCli } from './helpers/cli.js';
import { craftedId, writeCrafted, type CraftedSession } from './helpers/session-helpers.js';
import { tempDir } from './helpers/temp-dirs.js';

const GOLDEN = join(ROOT, 'test/golden');
const UPDATE = process.env.UPDATE_GOLDEN === '1';
const T0 = Date.UTC(2026, 0, 15, 12, 0, 0); // 2026-01-15 12:00 UTC
const HOUR = 3_600_000;

/** A server's startup: the CLI's phases with fixed offsets and durations (ms). */
function server(n: number, processMs: number, ok = true): CraftedSession {
  const startTime = T0 + n * HOUR;
  const total = 2 + 1 + processMs + 4;
  return {
    id: craftedId(startTime, n),
    startTime,
    durationMs: total + 3,
    success: ok,
    metadata: { label: 'node server.js --port 8080' },
    phases: [
      { name: 'environment_validation', startOffsetMs: 0, durationMs: 2, success: true },
      { name: 'port_management', startOffsetMs: 2, durationMs: 1, success: true },
      { name: 'process_startup', startOffsetMs: 3, durationMs: processMs, success: true },
      { name: 'health_verification', startOffsetMs: 3 + processMs, durationMs: 4, success: ok },
      { name: 'total_startup', startOffsetMs: 0, durationMs: total, success: ok },
    ],
    ...(ok ? {} : { errors: [{ timestamp: startTime + total, message: 'health check: connection refused', operation: 'health_verification' }] }),
  };
}

/** A one-shot command: one phase. */
function oneShot(n: number, ms: number): CraftedSession {
  const startTime = T0 + 24 * HOUR + n * HOUR;
  return {
    id: craftedId(startTime, 100 + n),
    startTime,
    durationMs: ms + 2,
    success: true,
    metadata: { label: "python3 -c 'import json'" },
    phases: [
      { name: 'process_startup', startOffsetMs: 0, durationMs: ms, success: true },
      { name: 'total_startup', startOffsetMs: 0, durationMs: ms, success: true },
    ],
  };
}

const SESSIONS = [server(0, 120), server(1, 131.5), server(2, 118.25), server(3, 140, false), server(4, 125), oneShot(0, 21.5), oneShot(1, 19.75), oneShot(2, 23)];
let dir = '';

beforeAll(() => {
  dir = join(tempDir('procprobe-golden-'), 'data');
  for (const sub of ['sessions', 'index']) mkdirSync(join(dir, sub), { recursive: true, mode: 0o700 });
  for (const s of SESSIONS) writeCrafted(dir, s);
});
afterAll(cleanup);

/** Compare `text` with test/golden/<name>, or write it there under UPDATE_GOLDEN=1. */
function golden(name: string, text: string): void {
  const path = join(GOLDEN, name);
  if (UPDATE || !existsSync(path)) {
    if (!UPDATE) throw new Error(`no golden file ${path}: run with UPDATE_GOLDEN=1 and review it`);
    writeFileSync(path, text);
    return;
  }
  // toBe prints a line diff of the two texts on a failure.
  expect(text, `differs from ${path} (UPDATE_GOLDEN=1 rewrites it)`).toBe(readFileSync(path, 'utf8'));
}

const cli = async (args: string[]): Promise<string> => {
  const r = await runCli([...args, '--data-dir', dir], { env: { NO_COLOR: '1', COLUMNS: '100' } });
  expect(r.code, r.stderr).toBe(0);
  return r.stdout;
};

describe('golden terminal reports of fixed sessions', () => {
  it('show: a server session', async () => golden('show-server.txt', await cli(['show', SESSIONS[1]!.id])));
  it('show: a failed server session', async () => golden('show-failed.txt', await cli(['show', SESSIONS[3]!.id])));
  it('show: a one-shot session', async () => golden('show-one-shot.txt', await cli(['show', SESSIONS[6]!.id])));
  it('stats: every label, each its own row', async () => golden('stats-labels.txt', await cli(['stats', '--days', '36500'])));
  it('stats --label: one label\'s phases', async () => golden('stats-label.txt', await cli(['stats', '--days', '36500', '--label', 'node server.js --port 8080'])));
  it('sessions: the list', async () => golden('sessions.txt', await cli(['sessions'])));
});
