/**
 * The user's files as the CLI meets them: the current directory it runs in, and the files it
 * writes on request (`export -o`, `report --html`). Each expected failure becomes one line: a path
 * the command line got wrong is a UsageError (exit 2) found before any work is done; a failure of
 * the system itself (a full disk) is a Node system error that main.ts prints in one line (exit 1).
 */
import { lstatSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { UsageError } from '../errors.js';

/** An error from a system call (fs, net, process.cwd): it has an errno code and the call's name. */
export function isSystemError(err: unknown): err is NodeJS.ErrnoException & { code: string; syscall: string } {
  const e = err as NodeJS.ErrnoException | null;
  return e instanceof Error && typeof e.code === 'string' && typeof e.syscall === 'string';
}

/**
 * The one line to print when the current directory was deleted under us, else null. Node's worker
 * threads read the cwd as they boot and die on ENOENT, and every relative path (the default data
 * dir `.procprobe`) resolves nowhere, so a command could only fail later with a stack trace or,
 * worse, report an empty history.
 */
export function missingCwd(): string | null {
  try {
    process.cwd();
    return null;
  } catch (err) {
    if (!isSystemError(err) || err.code !== 'ENOENT') throw err;
    return 'the current directory no longer exists (was it deleted?): cd to a directory that exists';
  }
}

/** Errnos that mean the path, not the system, is wrong: the command line must change (exit 2). */
const PATH_ERRNOS: ReadonlySet<string> = new Set(['ENOENT', 'ENOTDIR', 'EISDIR', 'EACCES', 'EPERM', 'EROFS', 'ELOOP', 'ENAMETOOLONG']);

/**
 * Refuse an output path that cannot be written before the session is read: empty, a directory,
 * or in a directory that does not exist. A path that exists and is not a directory (a file, a
 * FIFO, /dev/stdout) is left to the write.
 */
export function checkOutputPath(flag: string, path: string): void {
  if (path === '') throw new UsageError(`${flag} needs a file name, got ""`);
  const here = kind(flag, path);
  if (here === 'directory') throw new UsageError(`${flag} ${path} is a directory: name a file in it`);
  if (here !== 'missing') return;
  const parent = dirname(resolve(path));
  const there = kind(flag, parent);
  if (there === 'missing') throw new UsageError(`${flag} ${path}: no directory ${parent}`);
  if (there !== 'directory') throw new UsageError(`${flag} ${path}: ${parent} is not a directory`);
}

/** What is at `path` (for `flag`'s message when stat itself is refused: EACCES, ELOOP). */
function kind(flag: string, path: string): 'directory' | 'other' | 'missing' {
  try {
    return statSync(path).isDirectory() ? 'directory' : 'other';
  } catch (err) {
    if (isSystemError(err) && (err.code === 'ENOENT' || err.code === 'ENOTDIR')) return 'missing';
    if (isSystemError(err) && PATH_ERRNOS.has(err.code)) throw new UsageError(`${flag} ${path}: ${err.message}`, { cause: err });
    throw err;
  }
}

/** Write `data` to the file `flag` named; a failure names the flag and the path. */
export function writeOutput(flag: string, path: string, data: string | Uint8Array): void {
  try {
    writeFileSync(path, data);
  } catch (err) {
    writeFailed(flag, path, err);
  }
}

/** A write's failure, naming the flag and the path: the path's fault is a UsageError (exit 2). */
function writeFailed(flag: string, path: string, err: unknown): never {
  if (!isSystemError(err)) throw err;
  if (PATH_ERRNOS.has(err.code)) throw new UsageError(`${flag} ${path}: ${err.message}`, { cause: err });
  err.message = `${flag} ${path}: ${err.message}`; // ENOSPC, EIO...: printed as it is, exit 1
  throw err;
}

/**
 * Write `data` to the file `flag` named so that a reader never sees half of it: into a temp file
 * beside it (created exclusively, `wx`), then renamed over it. A CI job that is killed mid-write,
 * or a second job writing the same cache path, leaves either the old file or the new one, never a
 * torn baseline that would fail the next gate. What is not a regular file (a FIFO, /dev/stdout, a
 * symlink to one) is written in place: renaming would replace the device node or the link itself.
 */
export function writeOutputAtomic(flag: string, path: string, data: string | Uint8Array): void {
  let regular = true;
  try {
    regular = lstatSync(path).isFile();
  } catch {
    // missing: created by the rename
  }
  if (!regular) return writeOutput(flag, path, data);
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now().toString(36)}.tmp`);
  try {
    writeFileSync(tmp, data, { flag: 'wx' });
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true }); // a full disk must not leave a temp file behind
    writeFailed(flag, path, err);
  }
}
