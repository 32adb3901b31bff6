/**
 * Misuse of the session API (SessionStateError), options refused at the door
 * (InvalidOptionError naming the option) and data dirs that cannot be used (DataDirError naming
 * the path). Whether a path is writable is decided here with fs itself (a probe write), not by
 * asking procprobe.
 */
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DataDirError, DataDirLayoutError, InvalidOptionError, PerformanceMonitor, ProcprobeError, SessionStateError } from '../dist/index.js';
import { thrown } from './helpers/readers.js';
import { closeMonitors, tracked } from './helpers/session-helpers.js';
import { removeTempDirs, tempDir } from './helpers/temp-dirs.js';

afterEach(async () => {
  await closeMonitors();
  removeTempDirs();
});

const monitor = () => tracked(new PerformanceMonitor({ dataDir: tempDir('procprobe-hist-'), nodeBootstrap: false }));

function expectStateError(err: unknown, pattern: RegExp): void {
  expect(err).toBeInstanceOf(SessionStateError);
  expect(err).toBeInstanceOf(ProcprobeError);
  expect((err as SessionStateError).code).toBe('ERR_PROCPROBE_SESSION_STATE');
  expect((err as Error).message).toMatch(pattern);
}

describe('SessionStateError on misuse', () => {
  it('startTiming, recordError and finishSession with no open session', async () => {
    const pm = monitor();
    expectStateError(thrown(() => pm.startTiming('x')), /no open session/);
    expectStateError(thrown(() => pm.recordError('x')), /no open session/);
    await expect(pm.finishSession()).rejects.toBeInstanceOf(SessionStateError);
    await expect(pm.finishSession()).rejects.toMatchObject({ code: 'ERR_PROCPROBE_SESSION_STATE' });
    // After a finished session too.
    pm.startSession();
    await pm.finishSession();
    expectStateError(thrown(() => pm.startTiming('x')), /no open session/);
    expectStateError(thrown(() => pm.timing('x')), /no open session/);
    await expect(pm.timeOperation('x', () => 1)).rejects.toBeInstanceOf(SessionStateError);
  });

  it('an unknown timing id, and finishing a timing twice', async () => {
    const pm = monitor();
    pm.startSession();
    expectStateError(thrown(() => pm.finishTiming('t-does-not-exist')), /unknown timing id t-does-not-exist/);
    const id = pm.startTiming('once');
    pm.finishTiming(id);
    expectStateError(thrown(() => pm.finishTiming(id)), /already finished/);
    expectStateError(thrown(() => pm.finishTiming(id, false, 'again')), /already finished/);
    const s = await pm.finishSession();
    // The second finish changed nothing: one timing, successful.
    expect(s.timings.filter((p) => p.name === 'once')).toEqual([expect.objectContaining({ success: true })]);
  });

  it('ids are looked up by number now: a last session\'s id, one not yet issued and other spellings of an id are unknown', async () => {
    const pm = monitor();
    pm.startSession();
    const old = pm.startTiming('last-session');
    await pm.finishSession();
    pm.startSession();
    const id = pm.startTiming('this-session');
    const n = Number(id.slice(1));
    for (const bad of [old, `t${n + 1}`, `t0${n}`, `T${n}`, `t${n}x`, `t`, `${n}`]) {
      expectStateError(thrown(() => pm.finishTiming(bad)), new RegExp(`unknown timing id ${bad}`));
    }
    pm.finishTiming(id);
    const s = await pm.finishSession();
    // Only the real id finished a timing: one of them, successful, none from the refused spellings.
    expect(s.timings.map((p) => [p.name, p.success])).toEqual([['this-session', true]]);
  });

  it('a second startSession while one is open names the open session, and leaves it intact', async () => {
    const pm = monitor();
    const id = pm.startSession();
    const t = pm.startTiming('still-open-session');
    expectStateError(thrown(() => pm.startSession()), new RegExp(`session ${id} is still open`));
    expect(pm.currentSession?.id).toBe(id);
    pm.finishTiming(t);
    const s = await pm.finishSession();
    expect(s.id).toBe(id);
    expect(s.timings.map((p) => p.name)).toEqual(['still-open-session']);
  });

  it('timings left open at finishSession are closed as failures', async () => {
    const pm = monitor();
    pm.startSession();
    pm.startTiming('never-finished');
    const s = await pm.finishSession(true);
    expect(s.timings).toEqual([expect.objectContaining({ name: 'never-finished', success: false, errorMessage: 'not finished when the session ended' })]);
  });

  it('after close(): startSession throws; close() is idempotent and finishes an open session as failed', async () => {
    const pm = monitor();
    pm.startSession();
    await pm.close();
    await pm.close();
    expect(pm.sessions).toHaveLength(1);
    expect(pm.sessions[0]!.success).toBe(false);
    expectStateError(thrown(() => pm.startSession()), /closed/);
  });
});

describe('InvalidOptionError names the option', () => {
  it.each([
    ['resourceSamplingIntervalMs', { resourceSamplingIntervalMs: 0 }],
    ['maxSessions', { maxSessions: 0 }],
    ['dataDir', { dataDir: '' }],
    ['flushIntervalMs', { flushIntervalMs: 0 }],
    ['maxSessionSamples', { maxSessionSamples: 1 }],
    ['maxHistoryDays', { maxHistoryDays: -1 }],
    ['nodeBootstrap', { nodeBootstrap: 'yes' }],
    ['boundaryReads', { boundaryReads: 1 }],
  ])('%s', (name, opts) => {
    const err = thrown(() => new PerformanceMonitor(opts as never));
    expect(err).toBeInstanceOf(InvalidOptionError);
    expect(err.code).toBe('ERR_PROCPROBE_INVALID_OPTION');
    expect((err as InvalidOptionError).option).toBe(`options.${name}`);
    expect(err.message).toContain(`options.${name}`);
  });

  it('an empty operation name, and a non-object metadata', async () => {
    const pm = monitor();
    expect(thrown(() => pm.startSession('meta' as never))).toBeInstanceOf(InvalidOptionError);
    expect(pm.currentSession).toBeNull();
    pm.startSession();
    const err = thrown(() => pm.startTiming(''));
    expect(err).toBeInstanceOf(InvalidOptionError);
    expect((err as InvalidOptionError).option).toBe('operation');
    await pm.finishSession();
  });
});

describe('DataDirError names the path', () => {
  function expectDataDirError(err: unknown, path: string): void {
    expect(err).toBeInstanceOf(DataDirError);
    expect((err as DataDirError).code).toBe('ERR_PROCPROBE_DATA_DIR');
    expect((err as DataDirError).path).toBe(path);
    expect((err as Error).message).toContain(path);
  }

  it('a data dir below a regular file cannot be created: startSession throws, the monitor stays usable', async () => {
    const root = tempDir('procprobe-hist-');
    const file = join(root, 'a-file');
    writeFileSync(file, 'not a directory');
    const dataDir = join(file, 'data');
    const pm = tracked(new PerformanceMonitor({ dataDir, nodeBootstrap: false }));
    expectDataDirError(thrown(() => pm.startSession()), dataDir);
    expect(pm.currentSession).toBeNull();
    expect(() => pm.startTiming('x')).toThrow(SessionStateError);
  });

  it("a data dir whose sessions/ is a regular file: startSession throws DataDirLayoutError saying so, the file untouched", async () => {
    const dataDir = tempDir('procprobe-hist-');
    writeFileSync(join(dataDir, 'sessions'), 'mine');
    const pm = tracked(new PerformanceMonitor({ dataDir, nodeBootstrap: false }));
    const err = thrown<DataDirLayoutError>(() => pm.startSession());
    expect(err).toBeInstanceOf(DataDirLayoutError);
    expect(err).toMatchObject({ code: 'ERR_PROCPROBE_DATA_DIR_LAYOUT', path: join(dataDir, 'sessions'), found: 'a regular file' });
    expect(err.message).toBe(`data dir: ${join(dataDir, 'sessions')} is a regular file, not a directory`);
    expect(readFileSync(join(dataDir, 'sessions'), 'utf8')).toBe('mine');
    expect(pm.currentSession).toBeNull();
  });

  it('a read-only data dir (chmod 0500), or — when chmod does not stop this user — a path below a file', () => {
    const root = tempDir('procprobe-hist-');
    const ro = join(root, 'ro');
    mkdirSync(ro, { mode: 0o700 });
    chmodSync(ro, 0o500);
    // Does 0500 stop writes for this user? Root (CAP_DAC_OVERRIDE) writes anyway: find out with fs.
    let writable = true;
    try {
      writeFileSync(join(ro, '.probe'), '');
      rmSync(join(ro, '.probe'));
    } catch {
      writable = false;
    }
    let dataDir = ro;
    if (writable) {
      // Running as root here: chmod 0500 cannot make a dir unwritable, so the unwritable data dir
      // is a path whose parent is a regular file (mkdir fails with ENOTDIR for any user).
      expect(process.getuid?.()).toBe(0);
      writeFileSync(join(root, 'file'), '');
      dataDir = join(root, 'file', 'sub');
    }
    const pm = tracked(new PerformanceMonitor({ dataDir, nodeBootstrap: false }));
    const err = thrown(() => pm.startSession());
    chmodSync(ro, 0o700);
    expectDataDirError(err, dataDir);
    expect(err.message).toMatch(writable ? /cannot be created \(ENOTDIR\)/ : /not writable/);
    if (!writable) expect(readdirSync(ro)).toEqual([]);
    else expect(existsSync(dataDir)).toBe(false);
  });
});
