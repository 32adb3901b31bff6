/**
 * The data dir is ours alone. It often sits in a shared working directory or under /tmp, so
 * before anything is read from it or written to it, the dir and its `sessions/` and `index/` are
 * checked to be directories owned by this user that nobody else can write. That rule is what makes
 * the rest safe: Node has no openat(), so a file is opened by path, and a path through a folder
 * another user can write could have a symlink swapped in between our check and our open. In a
 * folder only we can write, nothing changes between the two, and O_NOFOLLOW | O_EXCL on every
 * file we create (files.ts) refuses any name planted before the check. `sessions/` and `index/`
 * are never followed when they are links (a link there points our writes outside the data dir);
 * the data dir itself may be the user's own link (one owned by another uid is refused).
 *
 * Ids become file names only through checkSessionId, and every name is checked to stay a direct
 * child of its folder (fileIn).
 *
 * Sync: a few lstat calls (microseconds), so the one path serves ensure() (sync, for
 * startSession) and the async loaders alike.
 */
import { accessSync, chmodSync, constants, lstatSync, mkdirSync, readlinkSync, statSync, type Stats } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { DataDirError, DataDirLayoutError, InvalidOptionError, type ProcprobeError } from '../errors.js';
import { kindOf } from './files.js';

/** Longest session id: with `.pps` and a temp prefix it stays far below NAME_MAX (255 bytes). */
export const MAX_SESSION_ID_LENGTH = 200;

/**
 * Letters, digits, `_`, `-` and `.`, not first: no path separator, no NUL, no hidden name (the
 * index's temp files are hidden), and no `..` anywhere. newSessionId's ids all fit.
 */
const SESSION_ID = /^[\w-][\w.-]*$/;

export function isSessionId(id: unknown): id is string {
  return typeof id === 'string' && id.length <= MAX_SESSION_ID_LENGTH && SESSION_ID.test(id) && !id.includes('..');
}

/** `id`, or InvalidOptionError naming `option` and the value (before it becomes part of a path). */
export function checkSessionId(option: string, id: unknown): string {
  if (!isSessionId(id)) {
    const rule = `letters, digits, '_', '-' and '.' (not first), at most ${MAX_SESSION_ID_LENGTH}; no path separator, no '..', no NUL`;
    throw new InvalidOptionError(option, `a session id (${rule})`, id);
  }
  return id;
}

/**
 * `dir/name`, checked to resolve to a direct child of `dir` whatever `name` holds: the last
 * guard, after checkSessionId, that no path we build leaves its folder.
 */
export function fileIn(dir: string, name: string): string {
  const path = join(dir, name);
  if (basename(path) !== name || dirname(resolve(path)) !== resolve(dir)) throw new InvalidOptionError('id', `a file name inside ${dir}`, name);
  return path;
}

/** This user, or undefined where there are no uids (Windows: no owners or modes to check). */
const me = process.getuid?.();

function errno(err: unknown): string {
  return (err as NodeJS.ErrnoException).code ?? (err as Error).message;
}

function linkTarget(path: string): string {
  try {
    return readlinkSync(path);
  } catch {
    return '?';
  }
}

/**
 * Why `path` is not a folder we alone control, or null. `top`: the data dir itself, which may be
 * the user's own symlink. `created`: we made it just now, so its mode is ours to tighten (mkdir's
 * mode passes through the umask); a folder found so is refused, never changed behind its owner.
 * Throws lstat's error (ENOENT: it does not exist).
 */
function folderProblem(path: string, top: boolean, created: boolean): ProcprobeError | null {
  let st: Stats = lstatSync(path);
  if (st.isSymbolicLink()) {
    const target = linkTarget(path);
    if (!top) return new DataDirLayoutError(path, `a symbolic link to ${target} (not followed)`);
    if (me !== undefined && st.uid !== me) {
      return new DataDirError(path, `is a symbolic link to ${target} owned by uid ${st.uid}, not by this user (uid ${me}): another user chose where it points; remove it or use a data dir of your own`);
    }
    try {
      st = statSync(path);
    } catch (err) {
      return new DataDirError(path, `is a symbolic link to ${target}, which cannot be followed (${errno(err)})`, { cause: err });
    }
  }
  if (!st.isDirectory()) return new DataDirLayoutError(path, kindOf(st));
  if (me === undefined) return null;
  if (st.uid !== me) return new DataDirError(path, `is owned by uid ${st.uid}, not by this user (uid ${me}): its owner decides what is in it; use a data dir of your own`);
  if (created) chmodSync(path, 0o700);
  else if ((st.mode & 0o022) !== 0) {
    const who = (st.mode & 0o002) !== 0 ? 'every user' : 'its group';
    const mode = (st.mode & 0o7777).toString(8).padStart(4, '0');
    return new DataDirError(path, `is writable by ${who} (mode ${mode}): another user could plant or replace files in it; run chmod 700 ${path}`);
  }
  return null;
}

/** The data dir and its two folders, top first. */
function folders(dir: string): [string, boolean][] {
  return [
    [dir, true],
    [join(dir, 'sessions'), false],
    [join(dir, 'index'), false],
  ];
}

/**
 * For writers: create the layout (0700) where it is missing, and check every folder is a
 * directory of ours that nobody else can write and that we can. Throws DataDirLayoutError (a name
 * taken by something else, a link), DataDirError (not ours, open to others, not writable).
 */
export function ensureDataDir(dir: string): void {
  for (const [path, top] of folders(dir)) {
    let created = false;
    try {
      // Recursive for the data dir only (its parents may be missing); it returns undefined when
      // the dir was there already.
      created = top ? mkdirSync(path, { recursive: true, mode: 0o700 }) !== undefined : (mkdirSync(path, { mode: 0o700 }), true);
    } catch (err) {
      const code = errno(err);
      // EEXIST (or ENOTDIR from a recursive mkdir over a file): the name is taken; say by what.
      const taken = code === 'EEXIST' || code === 'ENOTDIR' ? lstatIfThere(path) : null;
      if (!taken) throw new DataDirError(path, code === 'EACCES' || code === 'EROFS' ? 'not writable' : `cannot be created (${code})`, { cause: err });
    }
    const problem = folderProblem(path, top, created);
    if (problem) throw problem;
    try {
      accessSync(path, constants.W_OK | constants.X_OK);
    } catch (err) {
      throw new DataDirError(path, 'not writable', { cause: err });
    }
  }
}

/**
 * For readers: check what exists of the layout, creating nothing. False when there is no data
 * dir yet (an empty history); a missing folder is left to the listing (none). Throws as
 * ensureDataDir, and DataDirError when a folder cannot be looked at.
 */
export function checkDataDir(dir: string): boolean {
  for (const [path, top] of folders(dir)) {
    let problem: ProcprobeError | null;
    try {
      problem = folderProblem(path, top, false);
    } catch (err) {
      if (errno(err) === 'ENOENT') {
        if (top) return false;
        continue;
      }
      throw new DataDirError(path, `cannot be read (${errno(err)})`, { cause: err });
    }
    if (problem) throw problem;
  }
  return true;
}

function lstatIfThere(path: string): Stats | null {
  try {
    return lstatSync(path);
  } catch {
    return null;
  }
}
