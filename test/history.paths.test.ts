/**
 * Names planted in and around the data dir, and ids that are paths. Each symlink is made here with
 * fs and points at a victim file outside the data dir whose bytes the test wrote: after the
 * session those bytes must be unchanged (fs.readFileSync), the planted link still a link
 * (fs.lstatSync), and what procprobe wrote found, decoded here with msgpackr, in the file it
 * opened. Temp file names are seen by the kernel's inotify (fs.watch), not asked of the store.
 * Traversal ids point at a real session file planted outside sessions/, which the old loader
 * read and returned.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, lchownSync, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, symlinkSync, watch, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Packr, unpack, unpackMultiple } from 'msgpackr';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DataDirError, DataDirLayoutError, HistoryStore, InvalidOptionError, PerformanceMonitor, type SessionSummary } from '../dist/index.js';
import { sleep, thrown } from './helpers/readers.js';
import { burnCpu, closeMonitors, rawRecords, tracked, waitForSamples } from './helpers/session-helpers.js';
import { removeTempDirs, tempDir } from './helpers/temp-dirs.js';

const CLI = new URL('../dist/cli/main.js', import.meta.url).pathname;
const VICTIM = Buffer.from('the victim file: nothing of procprobe may ever land here\n');
let template = '';
let realId = '';
let realSummary: SessionSummary;

beforeAll(async () => {
  template = tempDir('procprobe-paths-');
  const pm = new PerformanceMonitor({ dataDir: template, nodeBootstrap: false, flushIntervalMs: 20 });
  realId = pm.startSession({ label: 'paths' });
  await waitForSamples(pm);
  await pm.timeOperation('work', () => burnCpu(2000));
  await pm.finishSession();
  await pm.close();
  realSummary = (await new HistoryStore(template).loadSummaries()).value[0]!;
});

afterEach(() => closeMonitors());
afterAll(() => removeTempDirs());

/** A victim file outside any data dir, and a check that it still holds exactly its bytes. */
function victim(): { path: string; intact(): void } {
  const path = join(tempDir('procprobe-victim-'), 'victim.txt');
  writeFileSync(path, VICTIM);
  return { path, intact: () => expect(readFileSync(path).equals(VICTIM)).toBe(true) };
}

function monitor(dataDir: string, extra: Record<string, unknown> = {}): PerformanceMonitor {
  return tracked(new PerformanceMonitor({ dataDir, nodeBootstrap: false, flushIntervalMs: 20, ...extra }));
}

/** Wait until `path` exists (fs.existsSync), at most 10 s. */
async function fileAppears(path: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!existsSync(path)) {
    if (Date.now() > deadline) throw new Error(`${path} did not appear within 10 s`);
    await sleep(5);
  }
}

describe('symlinks planted in the data dir are never written through', () => {
  it('index/.<id>.<pid>.tmp (the old temp name) and index/<id>.ppi as links: the victim intact, the entry a regular file', async () => {
    const dataDir = tempDir('procprobe-paths-');
    const v = victim();
    const pm = monitor(dataDir);
    const id = pm.startSession();
    const store = new HistoryStore(dataDir);
    const oldTmp = join(store.indexDir, `.${id}.${process.pid}.tmp`);
    symlinkSync(v.path, oldTmp);
    symlinkSync(v.path, store.indexPath(id));
    await waitForSamples(pm);
    const session = await pm.finishSession();
    expect(session.saved).toBe(true);
    v.intact();
    expect(lstatSync(oldTmp).isSymbolicLink()).toBe(true); // not ours: left as it was
    // rename() replaced the planted entry's name with our file, not the file it pointed to.
    expect(lstatSync(store.indexPath(id)).isFile()).toBe(true);
    expect((unpackMultiple(readFileSync(store.indexPath(id)))[0] as { id: string }).id).toBe(id);
  });

  it('index temp files have unpredictable names (seen by inotify): random hex, never the id or the pid', async () => {
    const dataDir = tempDir('procprobe-paths-');
    const store = new HistoryStore(dataDir);
    store.ensure();
    const seen = new Set<string>();
    const watcher = watch(store.indexDir, (_event, name) => name && seen.add(name));
    try {
      await store.writeIndex(realSummary);
      await store.writeIndex(realSummary);
      const deadline = Date.now() + 5000;
      const temps = (): string[] => [...seen].filter((n) => n.endsWith('.tmp'));
      while (temps().length < 2 && Date.now() < deadline) await sleep(10);
      expect(temps()).toHaveLength(2);
      for (const n of temps()) {
        expect(n).toMatch(/^\.[0-9a-f]{24}\.tmp$/);
        expect(n).not.toContain(realSummary.id);
        expect(n).not.toContain(String(process.pid));
      }
    } finally {
      watcher.close();
    }
    expect(readdirSync(store.indexDir)).toEqual([`${realSummary.id}.ppi`]);
  });

  for (const overflow of [false, true]) {
    const path = overflow ? 'the end record written after recomputing from the file (maxSessionSamples: 2)' : 'the end record with the last samples';
    it(`the session file replaced by a link mid-session, ${path}: everything goes to the file we opened`, async () => {
      const dataDir = tempDir('procprobe-paths-');
      const v = victim();
      const pm = monitor(dataDir, overflow ? { maxSessionSamples: 2 } : {});
      const id = pm.startSession();
      await waitForSamples(pm);
      const store = new HistoryStore(dataDir);
      await fileAppears(store.sessionPath(id)); // the writer worker boots apart from the sampler
      // Our file moves out (same file system: the same inode), a link to the victim takes its name.
      const moved = join(tempDir('procprobe-moved-'), 'moved.pps');
      renameSync(store.sessionPath(id), moved);
      symlinkSync(v.path, store.sessionPath(id));
      await pm.timeOperation('after the swap', () => burnCpu(3000));
      const session = await pm.finishSession();
      v.intact();
      expect(lstatSync(store.sessionPath(id)).isSymbolicLink()).toBe(true);
      const records = rawRecords(moved);
      expect(records[0]).toMatchObject({ t: 'H', id });
      expect(records.some((r) => r.t === 'T' && r.name === 'after the swap')).toBe(true);
      expect(records.at(-1)).toMatchObject({ t: 'Z', summary: { id } });
      expect(session.sampleAccount!.fileBytes).toBe(lstatSync(moved).size);
    });
  }

  it('a link planted at the session file before the writer opens it: not written through, the session reported unsaved', async () => {
    const dataDir = tempDir('procprobe-paths-');
    const v = victim();
    const pm = monitor(dataDir);
    const errors: Error[] = [];
    pm.on('error', (e) => errors.push(e));
    const id = pm.startSession();
    // The writer worker boots in tens of ms; this runs synchronously before it can open the file
    // (had it won, symlinkSync would throw EEXIST and fail the test loudly).
    symlinkSync(v.path, new HistoryStore(dataDir).sessionPath(id));
    const session = await pm.finishSession();
    v.intact();
    expect(lstatSync(new HistoryStore(dataDir).sessionPath(id)).isSymbolicLink()).toBe(true);
    expect(session.saved).toBe(false);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ code: 'ERR_PROCPROBE_HISTORY_WRITE', cause: { code: 'EEXIST' } });
  });

  for (const name of ['sessions', 'index'] as const) {
    it(`${name}/ as a link to a dir outside: refused (not followed) by startSession and the loaders, nothing written there`, async () => {
      const dataDir = tempDir('procprobe-paths-');
      const outside = tempDir('procprobe-outside-');
      symlinkSync(outside, join(dataDir, name));
      const expectRefused = (err: unknown): void => {
        expect(err).toBeInstanceOf(DataDirLayoutError);
        expect(err).toMatchObject({ code: 'ERR_PROCPROBE_DATA_DIR_LAYOUT', path: join(dataDir, name), found: `a symbolic link to ${outside} (not followed)` });
      };
      expectRefused(thrown(() => monitor(dataDir).startSession()));
      expectRefused(await new HistoryStore(dataDir).loadSummaries().catch((e: unknown) => e));
      expect(readdirSync(outside)).toEqual([]);
    });
  }

  it('the data dir itself as the user\'s own link: followed; as a link owned by another uid: refused, nothing written', async () => {
    expect(process.getuid?.(), 'lchown to another uid needs root (the suite runs as root)').toBe(0);
    const target = tempDir('procprobe-target-');
    const link = join(tempDir('procprobe-paths-'), 'data');
    symlinkSync(target, link);
    const pm = monitor(link);
    const id = pm.startSession();
    await waitForSamples(pm);
    expect((await pm.finishSession()).saved).toBe(true);
    expect(readdirSync(join(target, 'sessions'))).toEqual([`${id}.pps`]);

    const target2 = tempDir('procprobe-target-');
    const foreign = join(tempDir('procprobe-paths-'), 'data');
    symlinkSync(target2, foreign);
    lchownSync(foreign, 65534, 65534);
    const err = thrown<DataDirError>(() => monitor(foreign).startSession());
    expect(err).toBeInstanceOf(DataDirError);
    expect(err).toMatchObject({ code: 'ERR_PROCPROBE_DATA_DIR', path: foreign });
    expect(err.message).toContain(`symbolic link to ${target2} owned by uid 65534`);
    expect(readdirSync(target2)).toEqual([]);
  });
});

describe('ids that are paths', () => {
  // From sessions/, '../../elsewhere/stolen.pps' is <root>/elsewhere/stolen.pps: a real session there.
  let root = '';
  let store: HistoryStore;
  beforeAll(() => {
    root = tempDir('procprobe-traversal-');
    mkdirSync(join(root, 'elsewhere'));
    copyFileSync(join(template, 'sessions', `${realId}.pps`), join(root, 'elsewhere', 'stolen.pps'));
    store = new HistoryStore(join(root, 'data'));
    store.ensure();
  });

  const bad: unknown[] = ['../../elsewhere/stolen', '../elsewhere/stolen', '..', '.', 'a/b', 'a\\b', 'a\0b', 'a..b', '', '/etc/passwd', '.hidden', 'x'.repeat(201), 42, null, undefined];
  for (const id of bad) {
    it(`${JSON.stringify(id) ?? 'undefined'}: InvalidOptionError naming the id, from loadSession, sessionPath and indexPath, nothing read`, async () => {
      const expectRefused = (err: unknown): void => {
        expect(err).toBeInstanceOf(InvalidOptionError);
        expect(err).toMatchObject({ code: 'ERR_PROCPROBE_INVALID_OPTION', option: 'id', value: id });
        expect((err as Error).message).toMatch(/^id must be a session id .*no path separator, no '\.\.', no NUL\), got /);
      };
      expectRefused(await store.loadSession(id as string).then((r) => r, (e: unknown) => e));
      expectRefused(thrown(() => store.sessionPath(id as string)));
      expectRefused(thrown(() => store.indexPath(id as string)));
    });
  }

  it('importHistory leaves out a session whose id is a path: nothing created outside the data dir', async () => {
    const doc = unpack(await new HistoryStore(template).exportHistory()) as { sessions: { id: string }[] };
    const real = doc.sessions[0]!;
    doc.sessions = [{ ...real, id: '../../elsewhere/planted' }, real];
    const result = await store.importHistory(new Packr().pack(doc));
    expect(result).toEqual({ imported: 1, skipped: 1 });
    expect(readdirSync(join(root, 'elsewhere'))).toEqual(['stolen.pps']);
    expect(readdirSync(store.sessionsDir)).toEqual([`${realId}.pps`]);
  });

  it('names in sessions/ that no id makes (a space, a leading dot): skipped with a warning naming each, the real session listed', async () => {
    const dataDir = tempDir('procprobe-paths-');
    new HistoryStore(dataDir).ensure();
    copyFileSync(join(template, 'sessions', `${realId}.pps`), join(dataDir, 'sessions', `${realId}.pps`));
    for (const n of ['with space', '.hidden']) copyFileSync(join(template, 'sessions', `${realId}.pps`), join(dataDir, 'sessions', `${n}.pps`));
    const { value, warnings } = await new HistoryStore(dataDir).loadSummaries();
    expect(value.map((s) => s.id)).toEqual([realId]);
    expect(warnings.sort()).toEqual([
      `skipped ${join(dataDir, 'sessions', '.hidden.pps')}: not a session id (".hidden")`,
      `skipped ${join(dataDir, 'sessions', 'with space.pps')}: not a session id ("with space")`,
    ]);
  });

  it('the CLI: `show ../../elsewhere/stolen` finds no session (exit 2, one line)', () => {
    const r = spawnSync(process.execPath, [CLI, 'show', '../../elsewhere/stolen', '--data-dir', store.dir], { encoding: 'utf8', timeout: 20_000 });
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(`procprobe: no session ../../elsewhere/stolen in ${store.dir}\n`);
    expect(r.stdout).toBe('');
  });
});
