/**
 * A child whose comm is 'a) b (c' (spaces and parentheses: /proc/PID/stat can only be parsed from
 * the LAST ')'): /bin/sleep run through a symlink of that name. Checked against ps, statm, the
 * task/ and fd/ listings, the task status files, and btime + stat field 22 / CLK_TCK.
 */
import { mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createProbe, type Probe } from '../dist/index.js';
import {
  expectMatchesKernel,
  getconf,
  kernelView,
  killChildren,
  ps,
  quietRead,
  runTool,
  spawnSleeper,
  startTimeMs,
  statmPages,
} from './helpers/readers.js';
import { need, requireAddonFor } from './helpers/optional-readers.js';

const COMM = 'a) b (c';
let dir: string;
let exe: string;

beforeAll(() => {
  const sleepBin = realpathSync(runTool('sh', ['-c', 'command -v sleep'], 'the sleep binary for the comm fixture').trim());
  dir = mkdtempSync(join(tmpdir(), 'procprobe-comm-'));
  exe = join(dir, COMM);
  symlinkSync(sleepBin, exe);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.each(['native', 'builtin'] as const)("a child named 'a) b (c' (%s)", (backend) => {
  requireAddonFor(backend);
  let probe: Probe | undefined;
  afterEach(async () => {
    probe?.close();
    probe = undefined;
    await killChildren();
  });

  it('is parsed: 1 thread, RSS = ps rss x 1024 = statm resident x page size, start time', async (ctx) => {
    need(ctx, 'ps');
    const child = await spawnSleeper(exe, COMM);
    const pid = child.pid;
    // The fixture is what it claims to be: the kernel shows that comm, in parentheses, in stat.
    expect(readFileSync(`/proc/${pid}/comm`, 'latin1')).toBe(`${COMM}\n`);
    expect(readFileSync(`/proc/${pid}/stat`, 'latin1')).toContain(`${pid} (${COMM}) S `);

    probe = createProbe({ pid, backend });
    const p = probe;
    const { before: k, probed: s } = await quietRead(() => kernelView(pid), () => p.sampleSync());
    expect(s.threads).toBe(1);
    expect(ps(pid).nlwp).toBe(1);
    expect(s.rssBytes).toBe(ps(pid).rssKb * 1024);
    expect(s.rssBytes).toBe(statmPages(pid).resident * getconf('PAGESIZE'));
    expect(Math.abs(s.startTime - startTimeMs(pid))).toBeLessThanOrEqual(1000);
    expect(s.startTime).toBeLessThanOrEqual(Date.now());
    expectMatchesKernel(s, k, pid, backend);
  });
});
