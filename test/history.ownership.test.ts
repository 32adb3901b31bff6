/**
 * A data dir that is not ours alone: group- or world-writable (chmod here), or owned by another
 * uid (chown to 65534 here: the suite runs as root, and says so loudly when it does not). Each is
 * refused with ERR_PROCPROBE_DATA_DIR naming the dir and the fix, by startSession, the loaders,
 * the analysis pool and every CLI command (one line, exit 1, no stack); the dir is left exactly
 * as it was (fs.readdirSync, fs.statSync). A data dir procprobe creates is 0700 whatever the umask.
 */
import { chmodSync, chownSync, cpSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DataDirError, HistoryStore, PerformanceMonitor } from '../dist/index.js';
import { runStats } from '../dist/analysis/pool.js';
import { cleanup, runCli } from './helpers/cli.js';
import { thrown } from './helpers/readers.js';
import { closeMonitors, tracked, waitForSamples } from './helpers/session-helpers.js';
import { tempDir } from './helpers/temp-dirs.js';

let template = '';
let realId = '';

beforeAll(async () => {
  template = tempDir('procprobe-own-');
  const pm = new PerformanceMonitor({ dataDir: template, nodeBootstrap: false });
  realId = pm.startSession({ label: 'ownership' });
  await waitForSamples(pm);
  await pm.finishSession();
  await pm.close();
});

afterEach(() => closeMonitors());
afterAll(() => cleanup());

const modeOf = (p: string): number => statSync(p).mode & 0o7777;
const octal = (m: number): string => m.toString(8).padStart(4, '0');

/** What is in the data dir, every level: the test's own record of "left exactly as it was". */
function listing(dataDir: string): string[] {
  return readdirSync(dataDir, { recursive: true }).map(String).sort();
}

/** A copy of the real history in a fresh dir (mkdtemp: 0700, ours). */
function historyCopy(): string {
  const dataDir = tempDir('procprobe-own-');
  cpSync(template, dataDir, { recursive: true });
  return dataDir;
}

function expectDataDirError(err: unknown, path: string, says: string): void {
  expect(err).toBeInstanceOf(DataDirError);
  expect(err).toMatchObject({ code: 'ERR_PROCPROBE_DATA_DIR', path });
  expect((err as Error).message).toBe(`data dir ${path}: ${says}`);
}

function needsRoot(): void {
  expect(process.getuid?.(), 'chown to another uid needs root (the suite runs as root)').toBe(0);
}

const writable = (path: string, mode: number): string =>
  `is writable by ${mode & 0o002 ? 'every user' : 'its group'} (mode ${octal(mode)}): another user could plant or replace files in it; run chmod 700 ${path}`;
const foreign = (uid: number): string => `is owned by uid ${uid}, not by this user (uid ${process.getuid!()}): its owner decides what is in it; use a data dir of your own`;

describe('a data dir open to others', () => {
  for (const mode of [0o777, 0o770, 0o720, 0o702, 0o1777]) {
    it(`mode ${octal(mode)}: refused by startSession and the loaders, the dir left as it was`, async () => {
      const dataDir = historyCopy();
      chmodSync(dataDir, mode);
      const before = listing(dataDir);
      expectDataDirError(thrown(() => tracked(new PerformanceMonitor({ dataDir, nodeBootstrap: false })).startSession()), dataDir, writable(dataDir, mode));
      const store = new HistoryStore(dataDir);
      expectDataDirError(await store.loadSummaries().catch((e: unknown) => e), dataDir, writable(dataDir, mode));
      expectDataDirError(await store.loadSession(realId).catch((e: unknown) => e), dataDir, writable(dataDir, mode));
      expect(listing(dataDir)).toEqual(before);
      expect(modeOf(dataDir)).toBe(mode); // not ours to change: we did not create it
    });
  }

  it('sessions/ 0777 in a 0700 data dir: refused naming sessions/', async () => {
    const dataDir = historyCopy();
    const sessions = join(dataDir, 'sessions');
    chmodSync(sessions, 0o777);
    expectDataDirError(await new HistoryStore(dataDir).sessionIds().catch((e: unknown) => e), sessions, writable(sessions, 0o777));
    expectDataDirError(thrown(() => new HistoryStore(dataDir).ensure()), sessions, writable(sessions, 0o777));
  });
});

describe('a data dir owned by another uid', () => {
  it('the data dir (uid 65534): refused by startSession, the loaders and the analysis pool (class kept across the thread)', async () => {
    needsRoot();
    const dataDir = historyCopy();
    chownSync(dataDir, 65534, 65534);
    const before = listing(dataDir);
    expectDataDirError(thrown(() => tracked(new PerformanceMonitor({ dataDir, nodeBootstrap: false })).startSession()), dataDir, foreign(65534));
    expectDataDirError(await new HistoryStore(dataDir).loadSummaries().catch((e: unknown) => e), dataDir, foreign(65534));
    expectDataDirError(await runStats({ dataDir, days: 7, now: Date.now() }).catch((e: unknown) => e), dataDir, foreign(65534));
    expect(listing(dataDir)).toEqual(before);
  });

  it('index/ (uid 65534) in a data dir of ours: refused naming index/', async () => {
    needsRoot();
    const dataDir = historyCopy();
    const index = join(dataDir, 'index');
    chownSync(index, 65534, 65534);
    expectDataDirError(await new HistoryStore(dataDir).loadSummaries().catch((e: unknown) => e), index, foreign(65534));
  });
});

describe('a data dir procprobe creates', () => {
  for (const umask of [0o000, 0o022, 0o222]) {
    it(`is 0700 with its folders under umask ${octal(umask)}, and the session is saved`, async () => {
      const dataDir = join(tempDir('procprobe-own-'), 'a', 'data');
      const old = process.umask(umask);
      try {
        const pm = tracked(new PerformanceMonitor({ dataDir, nodeBootstrap: false }));
        pm.startSession();
        await waitForSamples(pm);
        expect((await pm.finishSession()).saved).toBe(true);
      } finally {
        process.umask(old);
      }
      for (const d of [dataDir, join(dataDir, 'sessions'), join(dataDir, 'index')]) expect(octal(modeOf(d)), d).toBe('0700');
    });
  }
});

describe('the CLI on a data dir not ours alone: one line, exit 1, no stack, nothing written', () => {
  /** Every command that reads or writes the data dir, with --data-dir `dir`. */
  const commands = (dir: string): string[][] => [
    ['sessions', '--data-dir', dir],
    ['show', realId, '--data-dir', dir],
    ['stats', '--data-dir', dir],
    ['export', realId, '--format', 'json', '--data-dir', dir],
    ['report', realId, '--html', join(tempDir('procprobe-own-'), 'report.html'), '--data-dir', dir],
    ['run', '--quiet', '--data-dir', dir, '--', process.execPath, '-e', '0'],
  ];

  it('mode 0777: every command', async () => {
    const dataDir = historyCopy();
    chmodSync(dataDir, 0o777);
    const before = listing(dataDir);
    for (const args of commands(dataDir)) {
      const r = await runCli(args);
      expect(r.stderr, args[0]).toBe(`procprobe: data dir ${dataDir}: ${writable(dataDir, 0o777)} (ERR_PROCPROBE_DATA_DIR)\n`);
      expect(r.code, args[0]).toBe(1);
      expect(r.stdout, args[0]).toBe('');
    }
    expect(listing(dataDir)).toEqual(before);
  }, 120_000);

  it('owned by uid 65534: sessions and run', async () => {
    needsRoot();
    const dataDir = historyCopy();
    chownSync(dataDir, 65534, 65534);
    const before = listing(dataDir);
    for (const args of commands(dataDir).filter((a) => a[0] === 'sessions' || a[0] === 'run')) {
      const r = await runCli(args);
      expect(r.stderr, args[0]).toBe(`procprobe: data dir ${dataDir}: ${foreign(65534)} (ERR_PROCPROBE_DATA_DIR)\n`);
      expect(r.code, args[0]).toBe(1);
    }
    expect(listing(dataDir)).toEqual(before);
  }, 60_000);
});
