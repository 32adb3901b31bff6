/**
 * Expected failures print one line and never a stack trace: a data dir that is a regular file, a
 * current directory deleted under procprobe, an output path in a missing directory or naming a
 * directory, a full device. Each spawns the real binary and checks the exit status, that stderr
 * is exactly one line with no `at` frame, and, with the file system as the independent reader,
 * that nothing was written where it should not be.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, cleanup, dataDirIds, newDataDir, oneLineFailure, runCli } from './helpers/cli.js';
import { tempDir } from './helpers/temp-dirs.js';

const T = 60_000;
let dir = '';
let id = '';

beforeAll(async () => {
  dir = newDataDir();
  const r = await runCli(['run', '--quiet', '--data-dir', dir, '--', 'node', '-e', '1']);
  expect(r.code, r.stdout + r.stderr).toBe(0);
  [id] = dataDirIds(dir).sessions as [string];
}, T);
afterAll(cleanup);

describe('a data dir that is a regular file', () => {
  const commands: [string, (d: string, marker: string) => string[]][] = [
    ['sessions', (d) => ['sessions', '--data-dir', d]],
    ['show', (d) => ['show', 'some-id', '--data-dir', d]],
    ['stats', (d) => ['stats', '--data-dir', d]],
    ['export', (d) => ['export', 'some-id', '--format', 'json', '--data-dir', d]],
    ['report', (d, m) => ['report', 'some-id', '--html', `${m}.html`, '--data-dir', d]],
    ['run', (d, m) => ['run', '--data-dir', d, '--', 'node', '-e', `require('fs').writeFileSync(${JSON.stringify(m)}, 'ran')`]],
  ];
  it.each(commands)('%s: exit 1, one line naming it, the file untouched', async (_cmd, args) => {
    const base = tempDir('procprobe-fail-');
    const file = join(base, 'not-a-dir');
    writeFileSync(file, 'mine');
    const marker = join(base, 'marker');
    const r = await runCli(args(file, marker));
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(oneLineFailure(r)).toBe(`procprobe: data dir: ${file} is a regular file, not a directory (ERR_PROCPROBE_DATA_DIR_LAYOUT)`);
    expect(readFileSync(file, 'utf8')).toBe('mine');
    expect(readdirSync(base), 'no command run, no report written').toEqual(['not-a-dir']);
  }, T);
});

describe('the current directory deleted under procprobe', () => {
  const line = 'procprobe: the current directory no longer exists (was it deleted?): cd to a directory that exists';
  const commands: [string, () => string[]][] = [
    ['run', () => ['run', '--data-dir', newDataDir(), '--', 'node', '-e', '1']],
    ['run (default data dir)', () => ['run', '--', 'node', '-e', '1']],
    ['sessions', () => ['sessions']],
    ['show', () => ['show', id, '--data-dir', dir]],
    ['stats', () => ['stats', '--data-dir', dir]],
    ['export', () => ['export', id, '--format', 'json', '--data-dir', dir]],
    ['report', () => ['report', id, '--html', join(tempDir('procprobe-fail-'), 'r.html'), '--data-dir', dir]],
    ['doctor', () => ['doctor']],
    ['bench', () => ['bench', '--quick']],
  ];
  it.each(commands)('%s: exit 1, one line saying so', async (_cmd, args) => {
    const before = dataDirIds(dir).sessions;
    const gone = join(tempDir('procprobe-fail-'), 'cwd');
    mkdirSync(gone);
    const r = await runCli(args(), { cwd: gone, deleteCwd: true });
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(oneLineFailure(r)).toBe(line);
    expect(existsSync(gone), 'the shell removed it').toBe(false);
    expect(dataDirIds(dir).sessions).toEqual(before);
  }, T);

  it('--help and --version still answer there (they need no directory)', async () => {
    for (const args of [['--version'], ['run', '--help'], ['help', 'stats']]) {
      const gone = join(tempDir('procprobe-fail-'), 'cwd');
      mkdirSync(gone);
      const r = await runCli(args, { cwd: gone, deleteCwd: true });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toBe('');
      expect(r.stdout.length).toBeGreaterThan(0);
    }
  }, T);
});

describe('output paths (export -o, report --html)', () => {
  it.each([
    ['export', '-o'],
    ['report', '--html'],
  ])('%s %s in a directory that does not exist: exit 2, one line naming the flag and the missing directory', async (cmd, flag) => {
    const base = tempDir('procprobe-fail-');
    const target = join(base, 'nonexistent', 'dir', 'x');
    const format = cmd === 'export' ? ['--format', 'json'] : [];
    const r = await runCli([cmd, id, ...format, flag, target, '--data-dir', dir]);
    expect(r.code, r.stdout + r.stderr).toBe(2);
    expect(oneLineFailure(r)).toBe(`procprobe: ${flag} ${target}: no directory ${join(base, 'nonexistent', 'dir')}`);
    expect(readdirSync(base)).toEqual([]);
  }, T);

  it.each([
    ['export', '-o'],
    ['report', '--html'],
  ])('%s %s naming a directory: exit 2, one line, the directory left empty', async (cmd, flag) => {
    const target = tempDir('procprobe-fail-');
    const format = cmd === 'export' ? ['--format', 'csv'] : [];
    const r = await runCli([cmd, id, ...format, flag, target, '--data-dir', dir]);
    expect(r.code, r.stdout + r.stderr).toBe(2);
    expect(oneLineFailure(r)).toBe(`procprobe: ${flag} ${target} is a directory: name a file in it`);
    expect(statSync(target).isDirectory()).toBe(true);
    expect(readdirSync(target)).toEqual([]);
  }, T);

  it('-o below a regular file: exit 2, one line naming it, the file untouched', async () => {
    const file = join(tempDir('procprobe-fail-'), 'plain');
    writeFileSync(file, 'mine');
    const r = await runCli(['export', id, '--format', 'json', '-o', join(file, 'x'), '--data-dir', dir]);
    expect(r.code, r.stdout + r.stderr).toBe(2);
    expect(oneLineFailure(r)).toBe(`procprobe: -o ${join(file, 'x')}: ${file} is not a directory`);
    expect(readFileSync(file, 'utf8')).toBe('mine');
  }, T);

  it("-o '' is refused (it used to mean stdout)", async () => {
    const r = await runCli(['export', id, '--format', 'json', '-o', '', '--data-dir', dir]);
    expect(r.code).toBe(2);
    expect(oneLineFailure(r)).toBe('procprobe: -o needs a file name, got ""');
  }, T);

  it('-o /dev/full (the write fails: no space): exit 1, one line naming the path and ENOSPC', async () => {
    expect(statSync('/dev/full').isCharacterDevice(), '/dev/full is the kernel full device').toBe(true);
    const r = await runCli(['export', id, '--format', 'json', '-o', '/dev/full', '--data-dir', dir]);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(oneLineFailure(r)).toBe('procprobe: -o /dev/full: ENOSPC: no space left on device, write');
  }, T);

  it('control: a writable -o gets the export', async () => {
    const target = join(tempDir('procprobe-fail-'), 's.json');
    const r = await runCli(['export', id, '--format', 'json', '-o', target, '--data-dir', dir]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(readFileSync(target, 'utf8')).summary.id).toBe(id);
  }, T);
});

describe('a reader that closes the pipe (`procprobe … | head -1`)', () => {
  it('run: no EPIPE stack, the exit status is the command\'s, the session is still saved whole', async () => {
    const d = newDataDir();
    const child = spawn(process.execPath, [CLI, 'run', '--data-dir', d, '--', 'node', '-e', 'setTimeout(() => {}, 300)'], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.destroy(); // the reader is gone before procprobe prints its report
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const code = await new Promise<number | null>((done) => child.on('close', (c) => done(c)));
    expect(stderr).not.toMatch(/EPIPE|\n\s+at /);
    expect(code, stderr).toBe(0);
    // The file system is the reader: one session file and its index entry.
    const ids = dataDirIds(d);
    expect(ids.sessions).toHaveLength(1);
    expect(ids.index).toEqual(ids.sessions);
  }, T);
});
