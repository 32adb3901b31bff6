/**
 * A data dir on a file system that really fills up: a 1 MiB tmpfs mounted by the test, filled
 * with a file to leave a few KiB (or nothing), so ENOSPC comes from the kernel, not from a mock.
 * Every write path must fail fast and visibly: finishSession() resolves within a bound with the
 * session marked not saved and one typed error, no timer keeps firing, nothing is left in the
 * data dir, the CLI exits 1 saying so; and once space returns the next session is saved.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HistoryStore, PerformanceMonitor, type ProcprobeError } from '../dist/index.js';
import { runCli } from './helpers/cli.js';
import { need } from './helpers/optional-readers.js';

let mnt = '';

/** Fill the tmpfs so that about `leaveBytes` stay free (as statfs counts them), and return the filler's path. */
function fill(leaveBytes: number): string {
  const filler = join(mnt, 'filler');
  const { bavail, bsize } = statfsSync(mnt);
  const size = Math.max(0, bavail * bsize - leaveBytes);
  try {
    writeFileSync(filler, Buffer.alloc(size));
  } catch {
    // ENOSPC at the end of a 0-bytes-left fill: what is written stays, which is the point.
  }
  const left = statfsSync(mnt);
  expect(left.bavail * left.bsize).toBeLessThanOrEqual(leaveBytes);
  return filler;
}

/** Every name left in the data dir (a temp file, a 0-byte session...). */
function leftIn(dataDir: string): string[] {
  return ['sessions', 'index'].flatMap((d) => readdirSync(join(dataDir, d)).map((n) => `${d}/${n}`));
}

/** A 1 kHz session of `ms` with one timing; the errors reported on the monitor's 'error' event. */
async function session(pm: PerformanceMonitor, ms: number) {
  const errors: ProcprobeError[] = [];
  pm.on('error', (e) => errors.push(e));
  pm.startSession({ label: 'full-disk' });
  const t = pm.startTiming('work');
  await sleep(ms);
  pm.finishTiming(t);
  const t0 = performance.now();
  const s = await pm.finishSession(true);
  return { s, errors, finishMs: performance.now() - t0 };
}

describe('history on a full disk', () => {
  beforeEach((ctx) => {
    need(ctx, 'tmpfs');
    mnt = mkdtempSync(join(tmpdir(), 'procprobe-full-'));
    const r = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mnt], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
  });

  afterEach(() => {
    if (!mnt) return;
    spawnSync('umount', [mnt]);
    rmSync(mnt, { recursive: true, force: true });
    mnt = '';
  });

  for (const [what, leave, ms] of [
    ['with no byte left (the header cannot be written)', 0, 300],
    ['that fills during the session (8 KiB left, 1 kHz samples for 2 s)', 8192, 2000],
  ] as const) {
    it(`ends the session's writing ${what}: resolves unsaved, one typed error, nothing left, next session saved`, async () => {
      const dataDir = join(mnt, 'data');
      mkdirSync(dataDir);
      const filler = fill(leave);
      const pm = new PerformanceMonitor({ dataDir, resourceSamplingIntervalMs: 1, nodeBootstrap: false });
      try {
        const { s, errors, finishMs } = await session(pm, ms);
        expect(s.saved).toBe(false);
        expect(s.saveError?.code).toBe('ERR_PROCPROBE_HISTORY_WRITE');
        expect(s.saveError?.message).toContain('ENOSPC');
        expect(errors.map((e) => e.code)).toEqual(['ERR_PROCPROBE_HISTORY_WRITE']);
        expect(finishMs).toBeLessThan(10_000);
        // What the caller got is whole: the timing, and samples from memory.
        expect(s.timings.map((p) => p.name)).toContain('work');
        expect(s.samples?.count ?? 0).toBeGreaterThan(0);
        expect(leftIn(dataDir)).toEqual([]);
        // No flush timer keeps firing after the failure.
        await sleep(600);
        expect(errors).toHaveLength(1);

        rmSync(filler);
        const again = await session(pm, 100);
        expect(again.errors).toEqual([]);
        expect(again.s.saved).toBe(true);
        const listed = await new HistoryStore(dataDir).loadSummaries(0);
        expect(listed.value.map((x) => x.id)).toEqual([again.s.id]);
        expect(listed.warnings).toEqual([]);
      } finally {
        await pm.close();
      }
    }, 30_000);
  }

  it('`procprobe run` exits 1 saying nothing was saved, and its --json says saved: false', async () => {
    const dataDir = join(mnt, 'data');
    fill(0);
    const r = await runCli(['run', '--data-dir', dataDir, '--', process.execPath, '-e', '0']);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toMatch(/✗ nothing was saved to .*ENOSPC/);
    expect(r.stdout).not.toContain('saved to ' + dataDir + ' (');
    expect(r.stderr.match(/ERR_PROCPROBE|ENOSPC/g)?.length ?? 0).toBeGreaterThan(0);

    const j = await runCli(['run', '--json', '--runs', '3', '--data-dir', dataDir, '--', process.execPath, '-e', '0']);
    expect(j.code).toBe(1);
    const doc = JSON.parse(j.stdout) as { saved: boolean; runs: { saved: boolean; saveError?: string }[] };
    expect(doc.saved).toBe(false);
    // The runs stop at the first session that cannot be saved: every later one would fail alike.
    expect(doc.runs).toHaveLength(1);
    expect(doc.runs[0]!.saved).toBe(false);
    expect(doc.runs[0]!.saveError).toContain('ENOSPC');
    expect(leftIn(dataDir)).toEqual([]);
  }, 60_000);
});

describe('an index entry that cannot be written', () => {
  it('leaves the session saved (its file is whole), reports one error, leaves no temp file, and the next load rebuilds the entry', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'procprobe-index-'));
    const pm = new PerformanceMonitor({ dataDir, nodeBootstrap: false });
    const errors: ProcprobeError[] = [];
    pm.on('error', (e) => errors.push(e));
    try {
      const id = pm.startSession({ label: 'index' });
      // A directory where the entry goes: the rename onto it fails (EISDIR), as on a broken disk.
      const entry = join(dataDir, 'index', `${id}.ppi`);
      mkdirSync(entry);
      await sleep(50);
      const s = await pm.finishSession(true);
      expect(s.saved).toBe(true);
      expect(errors.map((e) => e.code)).toEqual(['ERR_PROCPROBE_HISTORY_WRITE']);
      expect(errors[0]!.message).toContain('rebuilt from it on the next load');
      expect(readdirSync(join(dataDir, 'index'))).toEqual([`${id}.ppi`]);
      rmSync(entry, { recursive: true });
      const loaded = await new HistoryStore(dataDir).loadSummaries(0);
      expect(loaded.value.map((x) => [x.id, x.success, x.incomplete])).toEqual([[id, true, false]]);
      expect(readdirSync(join(dataDir, 'index'))).toEqual([`${id}.ppi`]);
    } finally {
      await pm.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
