/**
 * Hostile names in the data dir: a FIFO, symlinks to /dev/zero and /dev/urandom, a sparse file
 * beyond the size bound, a directory, each as sessions/<id>.pps (and as an index entry). Each
 * is made here with fs or mkfifo(1), so the test knows what it put there: the loader must return
 * within 2 s (the old one blocked for good on the first three), warn naming the file and what it
 * is, and keep the real sessions exactly as they loaded before. A data dir of the wrong shape is
 * a DataDirLayoutError naming the path.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { unpack, unpackMultiple } from 'msgpackr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataDirLayoutError, HistoryStore, PerformanceMonitor } from '../dist/index.js';
import { MAX_INDEX_ENTRY_BYTES, MAX_SESSION_FILE_BYTES } from '../dist/history/files.js';
import { runStats } from '../dist/analysis/pool.js';
import { runTool } from './helpers/readers.js';
import { burnCpu, craftedId, craftedSessionBytes, waitForSamples } from './helpers/session-helpers.js';
import { removeTempDirs, tempDir } from './helpers/temp-dirs.js';

const BUDGET_MS = 2000;
const CLI = new URL('../dist/cli/main.js', import.meta.url).pathname;
let template = '';
let realIds: string[] = [];
let realSummaries: unknown[] = [];

beforeAll(async () => {
  template = tempDir('procprobe-hist-');
  const pm = new PerformanceMonitor({ dataDir: template, nodeBootstrap: false, flushIntervalMs: 20 });
  for (let i = 0; i < 2; i++) {
    realIds.push(pm.startSession({ label: 'hostile', i }));
    await waitForSamples(pm);
    await pm.timeOperation('work', () => burnCpu(2000));
    await pm.finishSession();
  }
  await pm.close();
  realSummaries = (await new HistoryStore(template).loadSummaries()).value;
});

afterAll(() => removeTempDirs());

/** A copy of the two real sessions in a fresh data dir. */
function freshDir(): { dataDir: string; store: HistoryStore } {
  const dataDir = tempDir('procprobe-hist-');
  cpSync(template, dataDir, { recursive: true });
  return { dataDir, store: new HistoryStore(dataDir) };
}

/** `p`, or a failure naming what did not return within the budget (the old loader never did). */
async function withinBudget<T>(what: string, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not return within ${BUDGET_MS} ms`)), BUDGET_MS);
  });
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

// A session id that sorts after the real ones (ids are start times), with an index entry or not.
const hostileId = craftedId(Date.UTC(2099, 0, 1), 7);

const cases: { name: string; make(path: string): void; says: RegExp }[] = [
  { name: 'a FIFO', make: (p) => runTool('mkfifo', [p], 'making a FIFO'), says: /a FIFO/ },
  { name: 'a symlink to /dev/zero', make: (p) => symlinkSync('/dev/zero', p), says: /symbolic link to \/dev\/zero/ },
  { name: 'a symlink to /dev/urandom', make: (p) => symlinkSync('/dev/urandom', p), says: /symbolic link to \/dev\/urandom/ },
  { name: 'a directory', make: (p) => mkdirSync(p), says: /a directory/ },
  {
    // A valid session header, then a hole up to one byte past the bound: the size alone refuses it.
    name: 'a sparse file beyond the bound',
    make: (p) => {
      writeFileSync(p, craftedSessionBytes({ id: hostileId, startTime: Date.UTC(2099, 0, 1), durationMs: 1, success: true, phases: [] }));
      truncateSync(p, MAX_SESSION_FILE_BYTES + 1);
    },
    says: new RegExp(`too big \\(${MAX_SESSION_FILE_BYTES + 1} bytes`),
  },
];

describe('hostile sessions/<id>.pps', () => {
  for (const c of cases) {
    it(`${c.name}: skipped within ${BUDGET_MS} ms with a warning naming it, the real sessions intact`, async () => {
      const { store } = freshDir();
      const path = store.sessionPath(hostileId);
      c.make(path);
      const { value, warnings } = await withinBudget('loadSummaries', store.loadSummaries());
      expect(value).toEqual(realSummaries);
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toContain(path);
      expect(warnings[0]).toMatch(c.says);
      const one = await withinBudget('loadSession', store.loadSession(hostileId));
      expect(one.value).toBeNull();
      expect(one.warnings).toEqual([expect.stringContaining(path)]);
      // The export of the whole history leaves it out and still returns.
      const doc = unpack(await withinBudget('exportHistory', store.exportHistory())) as { sessions: { id: string }[] };
      expect(doc.sessions.map((s) => s.id)).toEqual(realIds);
    });
  }
});

describe('hostile index entries', () => {
  const indexCases = [
    ...cases.filter((c) => c.name !== 'a sparse file beyond the bound'),
    {
      name: 'a sparse file beyond the bound',
      make: (p: string) => {
        writeFileSync(p, '');
        truncateSync(p, MAX_INDEX_ENTRY_BYTES + 1);
      },
      says: new RegExp(`too big \\(${MAX_INDEX_ENTRY_BYTES + 1} bytes`),
    },
  ];
  for (const c of indexCases) {
    it(`${c.name} as index/<id>.ppi: a warning naming it, the summary recovered from the session file`, async () => {
      const { store } = freshDir();
      const path = store.indexPath(realIds[0]!);
      rmSync(path);
      c.make(path);
      const { value, warnings } = await withinBudget('loadSummaries', store.loadSummaries());
      expect(value).toEqual(realSummaries);
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toContain(path);
      expect(warnings[0]).toMatch(c.says);
    });
  }

  it('a bit-flipped index entry: rebuilt from its session file', async () => {
    const { store } = freshDir();
    const path = store.indexPath(realIds[0]!);
    const bytes = readFileSync(path);
    // The value after the key "incomplete" is false (0xc2); one bit more is 0xd2, an int32 marker
    // that swallows the next four bytes: the map no longer has the summary's shape.
    const key = Buffer.from('incomplete');
    const at = bytes.indexOf(key) + key.length;
    expect(bytes[at]).toBe(0xc2);
    bytes[at] = 0xc2 ^ 0x10;
    writeFileSync(path, bytes);
    const { value, warnings } = await store.loadSummaries();
    expect(value).toEqual(realSummaries);
    expect(warnings).toEqual([expect.stringMatching(new RegExp(`^skipped index entry ${path}: .*; rebuilt from the session file$`))]);
    expect(unpackMultiple(readFileSync(path))[0]).toEqual(realSummaries[0]); // rebuilt in place (the summary, then its CRC)
    expect((await store.loadSummaries()).warnings).toEqual([]);
  });
});

describe('a data dir of the wrong shape', () => {
  function expectLayoutError(err: unknown, path: string, found: string): void {
    expect(err).toBeInstanceOf(DataDirLayoutError);
    expect((err as DataDirLayoutError).code).toBe('ERR_PROCPROBE_DATA_DIR_LAYOUT');
    expect((err as DataDirLayoutError).path).toBe(path);
    expect((err as DataDirLayoutError).found).toBe(found);
    expect((err as Error).message).toContain(path);
  }

  it('sessions/ is a file: loadSummaries, sessionIds, stats (through the pool) and the CLI say so', async () => {
    const dataDir = tempDir('procprobe-hist-');
    const sessions = join(dataDir, 'sessions');
    writeFileSync(sessions, 'not a directory');
    const store = new HistoryStore(dataDir);
    expectLayoutError(await store.loadSummaries().catch((e: unknown) => e), sessions, 'a regular file');
    expectLayoutError(await store.sessionIds().catch((e: unknown) => e), sessions, 'a regular file');
    // The analysis pool's thread loads the history: the class and code survive the thread boundary.
    expectLayoutError(await runStats({ dataDir, days: 7, now: Date.now() }).catch((e: unknown) => e), sessions, 'a regular file');
    const cli = spawnSync(process.execPath, [CLI, 'sessions', '--data-dir', dataDir], { encoding: 'utf8', timeout: 10_000 });
    expect(cli.status).toBe(1);
    expect(cli.stderr).toContain(sessions);
    expect(cli.stderr).toContain('ERR_PROCPROBE_DATA_DIR_LAYOUT');
  });

  it('index/ is a FIFO, sessions/ a symlink to /dev/null (not followed), the data dir itself a file', async () => {
    const a = freshDir();
    rmSync(a.store.indexDir, { recursive: true });
    runTool('mkfifo', [a.store.indexDir], 'making a FIFO');
    expectLayoutError(await withinBudget('loadSummaries', a.store.loadSummaries().catch((e: unknown) => e)), a.store.indexDir, 'a FIFO');

    const b = freshDir();
    rmSync(b.store.sessionsDir, { recursive: true });
    symlinkSync('/dev/null', b.store.sessionsDir);
    // Not followed: a link there would point the writes outside the data dir (data-dir.ts).
    expectLayoutError(await b.store.loadSummaries().catch((e: unknown) => e), b.store.sessionsDir, 'a symbolic link to /dev/null (not followed)');

    const file = join(tempDir('procprobe-hist-'), 'data');
    writeFileSync(file, '');
    expectLayoutError(await new HistoryStore(file).loadSummaries().catch((e: unknown) => e), file, 'a regular file');
  });

  it('a data dir that does not exist yet is an empty history, without a warning', async () => {
    const store = new HistoryStore(join(tempDir('procprobe-hist-'), 'not', 'yet'));
    expect(await store.loadSummaries()).toEqual({ value: [], warnings: [] });
    expect(await store.sessionIds()).toEqual([]);
  });
});
