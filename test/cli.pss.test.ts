/**
 * `procprobe run --json` of a forked tree: each phase's resources carry pssPeakBytes (the tree's
 * summed PSS, read every 250 ms by default) beside rssPeakBytes (summed RSS). Oracle: the fixture
 * (fixtures/pss-fork.py with linger_ms), a parent that touched 50 MiB and forked 4 children that
 * only read it, reading its tree's smaps_rollup itself while it lingers.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanup, runCli } from './helpers/cli.js';
import { MiB } from './helpers/monitor-readers.js';
import { requireAddonFor } from './helpers/optional-readers.js';
import { tempDir } from './helpers/temp-dirs.js';

afterAll(cleanup);

const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

describe('procprobe run --json: PSS of a forked tree', () => {
  requireAddonFor('native');

  it('pssPeakBytes is near the PSS the tree read of itself, and far below the summed RSS peak', async () => {
    const dir = tempDir('procprobe-cli-');
    const out = join(dir, 'account.json');
    const r = await runCli(['run', '--json', '--data-dir', join(dir, 'data'), '--', PYTHON, 'test/fixtures/pss-fork.py', '50', '4', out, '1500']);
    expect(r.code, r.stderr).toBe(0);
    const told = JSON.parse(readFileSync(out, 'utf8')) as { pssMin: number; pssMax: number };
    const run = JSON.parse(r.stdout).runs[0];
    const phase = run.phases.find((x: { name: string }) => x.name === 'process_startup');
    const res = phase.resources as { pssPeakBytes: number; rssPeakBytes: number };
    const msg = JSON.stringify({ told, pss: res.pssPeakBytes, rss: res.rssPeakBytes });
    // The peak: at least the least the tree read while all five lived, at most a little above the
    // most (a reading while the children were still reading their pages in).
    expect(res.pssPeakBytes, msg).toBeGreaterThanOrEqual(told.pssMin * 0.97);
    expect(res.pssPeakBytes, msg).toBeLessThanOrEqual(told.pssMax * 1.05);
    expect(res.rssPeakBytes, msg).toBeGreaterThan(res.pssPeakBytes + 4 * 50 * MiB * 0.8);
  }, 90_000);
});
