/**
 * Reading one file of the data dir without trusting what it is, and creating one without
 * following anything planted under its name. A name ending in `.pps` may be a
 * FIFO (a read blocks until someone writes), a symlink to /dev/zero or /dev/urandom (a read never
 * ends), a directory, or a sparse file of terabytes: each is refused before any byte is read,
 * with a reason that names what it is.
 */
import { constants, type Stats } from 'node:fs';
import { lstat, open, readlink } from 'node:fs/promises';

/**
 * A session file larger than this is skipped unread. A sample costs about 21 bytes on disk and
 * `stride` doubles (200+ bytes) decoded: 256 MiB is about 12 million samples, over 3 hours at
 * 1 kHz, and already gigabytes in memory.
 */
export const MAX_SESSION_FILE_BYTES = 256 * 1024 * 1024;

/**
 * An index entry larger than this is skipped; its summary is then recovered from the session
 * file (which holds the same timings), so the bound costs time, never data. 16 MiB is a summary
 * of about 50,000 phases.
 */
export const MAX_INDEX_ENTRY_BYTES = 16 * 1024 * 1024;

/**
 * O_NOFOLLOW: a symlink as the last component fails with ELOOP instead of being opened (the data
 * dir is ours; a link in it points somewhere we did not write). O_NONBLOCK: opening a FIFO does
 * not wait for a writer (it returns at once, and fstat then says FIFO); on a regular file the flag
 * changes nothing. Windows has neither flag (`?? 0`).
 */
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0) | (constants.O_NOFOLLOW ?? 0);

/**
 * Every file procprobe creates in the data dir. O_CREAT | O_EXCL: the name must be new, so
 * anything already there fails with EEXIST instead of being written (a symlink too, even a
 * dangling one: with O_EXCL the kernel never follows the last component). O_NOFOLLOW says the
 * same again, for a reader of the flags. Open it with mode 0o600.
 */
export const CREATE_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0);

/** Create `path` (0600) holding `bytes`; EEXIST when the name is taken by anything. */
export async function writeNewFile(path: string, bytes: Uint8Array): Promise<void> {
  const fh = await open(path, CREATE_FLAGS, 0o600);
  try {
    await fh.writeFile(bytes);
  } finally {
    await fh.close();
  }
}

/** What a stat says a path is, for messages. */
export function kindOf(st: Stats): string {
  if (st.isFile()) return 'a regular file';
  if (st.isDirectory()) return 'a directory';
  if (st.isSymbolicLink()) return 'a symbolic link';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

export type FileRead =
  | { bytes: Buffer }
  /**
   * Not read. `wrongKind`: the name holds something that is not a file we could have written (not
   * a regular file, or too big), as opposed to a file we may not read now (EACCES, EMFILE, gone).
   */
  | { problem: string; wrongKind: boolean };

/** Why open() failed, in words; a symlink is named with its target. */
async function openProblem(path: string, err: NodeJS.ErrnoException): Promise<FileRead> {
  const st = await lstat(path).catch(() => null);
  if (st?.isSymbolicLink()) {
    const target = await readlink(path).catch(() => '?');
    return { problem: `a symbolic link to ${target} (not followed)`, wrongKind: true };
  }
  if (st && !st.isFile()) return { problem: `${kindOf(st)}, not a regular file`, wrongKind: true }; // a socket: ENXIO
  return { problem: `cannot be read (${err.code ?? err.message})`, wrongKind: false };
}

/**
 * The whole of a regular file of at most `maxBytes`, or why not. The checks are made on the open
 * handle (fstat), not on the name, so the file cannot be swapped between check and read; exactly
 * the size fstat saw is read, so a file that grows meanwhile (a live writer) cannot make the read
 * longer, and one that shrinks gives what is left.
 */
export async function readBoundedFile(path: string, maxBytes: number): Promise<FileRead> {
  let fh;
  try {
    fh = await open(path, OPEN_FLAGS);
  } catch (err) {
    return openProblem(path, err as NodeJS.ErrnoException);
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) return { problem: `${kindOf(st)}, not a regular file`, wrongKind: true };
    if (st.size > maxBytes) return { problem: `too big (${st.size} bytes; the bound is ${maxBytes})`, wrongKind: true };
    const bytes = Buffer.alloc(st.size);
    let at = 0;
    while (at < st.size) {
      const { bytesRead } = await fh.read(bytes, at, st.size - at, at);
      if (bytesRead === 0) break; // truncated since fstat
      at += bytesRead;
    }
    return { bytes: at === st.size ? bytes : bytes.subarray(0, at) };
  } catch (err) {
    return { problem: `cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, wrongKind: false };
  } finally {
    await fh.close();
  }
}
