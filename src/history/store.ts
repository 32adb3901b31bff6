/**
 * The data dir. Layout (documented in the README):
 *
 *   <dataDir>/              0700
 *     sessions/<id>.pps     0600  one session: append-only msgpack records (format.ts)
 *     index/<id>.ppi        0600  its SessionSummary and the summary's CRC-32, written when it
 *                                 finished (tmp + rename)
 *
 * One file per session and one index entry per session, each written by one process, so two
 * processes sharing a data dir never interleave records or lose an update; an index entry appears
 * atomically (rename). A session file without an index entry is either being written (its writer
 * is alive) or was cut off (its writer died): that one is recovered as `incomplete`.
 * Loading never throws for one bad file: a torn tail keeps every whole record; a record that does
 * not fit its schema is left out (validate-records.ts); a corrupt or foreign file, or a name that
 * is not a regular file of bounded size (files.ts), is skipped with a warning naming it, and left
 * where it is. A damaged index entry is rebuilt from its session file. Only a data dir of the
 * wrong shape (`sessions` a file, say) throws: DataDirLayoutError; and one that is not ours
 * alone (data-dir.ts): DataDirError, before anything in it is read or written.
 */
import { randomBytes } from 'node:crypto';
import { lstat, readdir, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Packr, pack, unpack } from 'msgpackr';
import { DataDirError, DataDirLayoutError, HistoryFormatError } from '../errors.js';
import type { SessionSummary } from '../session/types.js';
import { checkDataDir, checkSessionId, ensureDataDir, fileIn, isSessionId } from './data-dir.js';
import { idStartTime } from './ids.js';
import { kindOf, MAX_INDEX_ENTRY_BYTES, MAX_SESSION_FILE_BYTES, readBoundedFile, writeNewFile } from './files.js';
import { processStartEpochMs } from '../probe/probe.js';
import { withChecksum, type SessionHeader } from './format.js';
import { decodeIndexEntry, decodeRecords, parseSession, type LoadedSession } from './parse.js';
import { indexEntryProblem } from './validate-records.js';
import { checkPath } from '../validate.js';

export interface LoadResult<T> {
  value: T;
  /** One line per file skipped or repaired, naming it. */
  warnings: string[];
}

const HISTORY_FORMAT = 'procprobe-history';

/** An index entry read: the summary, or why not and whether to write a new one in its place. */
type IndexRead = { summary: SessionSummary } | { warning: string; rebuild: boolean };

export class HistoryStore {
  readonly dir: string;
  readonly sessionsDir: string;
  readonly indexDir: string;

  constructor(dir: string) {
    this.dir = checkPath('dir', dir);
    this.sessionsDir = join(dir, 'sessions');
    this.indexDir = join(dir, 'index');
  }

  /**
   * Create the layout (0700) if needed and check it is ours alone and writable (data-dir.ts).
   * Throws DataDirError, or DataDirLayoutError when a name is taken by something else. Sync.
   */
  ensure(): void {
    ensureDataDir(this.dir);
  }

  /** The session file of `id`; InvalidOptionError when `id` is not a session id (a path, `..`). */
  sessionPath(id: string): string {
    return fileIn(this.sessionsDir, `${checkSessionId('id', id)}.pps`);
  }

  /** The index entry of `id`; InvalidOptionError as sessionPath. */
  indexPath(id: string): string {
    return fileIn(this.indexDir, `${checkSessionId('id', id)}.ppi`);
  }

  /** Record a finished session in the index: write a temp file, then rename it into place. */
  async writeIndex(summary: SessionSummary): Promise<void> {
    const path = this.indexPath(summary.id);
    // A random name, not one anyone can guess (the id and pid) and plant a link at in advance;
    // created O_EXCL | O_NOFOLLOW (files.ts) and renamed within index/. rename() replaces
    // whatever holds the entry's name, a link included, without following it.
    const tmp = fileIn(this.indexDir, `.${randomBytes(12).toString('hex')}.tmp`);
    try {
      await writeNewFile(tmp, withChecksum(pack(summary)));
      await rename(tmp, path);
    } catch (err) {
      // A full disk (ENOSPC half-way through the write) or a directory in the entry's place
      // (the rename fails): leave no temp file behind.
      await unlink(tmp).catch(() => undefined);
      throw err;
    }
  }

  /**
   * Names in one of the data dir's folders; none when it does not exist yet. Throws
   * DataDirLayoutError when it (or the data dir) is not a directory, DataDirError when it cannot
   * be read: an empty list would say "no history" about a history that is there.
   */
  async #list(dir: string): Promise<string[]> {
    try {
      return await readdir(dir);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return [];
      if (code !== 'ENOTDIR') throw new DataDirError(dir, `cannot be read (${code ?? (err as Error).message})`, { cause: err });
      // ENOTDIR: `dir` or the data dir above it is something else; name the one that is.
      for (const p of [this.dir, dir]) {
        const st = await stat(p).catch(() => null);
        if (st && !st.isDirectory()) throw new DataDirLayoutError(p, kindOf(st), { cause: err });
      }
      throw new DataDirLayoutError(dir, 'not a directory', { cause: err });
    }
  }

  /**
   * The names in sessions/ that end in `.pps`: those that are session ids, oldest first (ids sort
   * by start time), and the others. Checks the data dir first (checkDataDir).
   */
  async #sessionNames(): Promise<{ ids: string[]; foreign: string[] }> {
    if (!checkDataDir(this.dir)) return { ids: [], foreign: [] };
    const names = (await this.#list(this.sessionsDir)).filter((n) => n.endsWith('.pps')).map((n) => n.slice(0, -4));
    return { ids: names.filter(isSessionId).sort(), foreign: names.filter((n) => !isSessionId(n)) };
  }

  /**
   * Session ids on disk, oldest first. Throws DataDirLayoutError (see #list), and DataDirError
   * for a data dir that is not ours alone (data-dir.ts).
   */
  async sessionIds(): Promise<string[]> {
    return (await this.#sessionNames()).ids;
  }

  /** One index entry, checked: a regular file of bounded size holding the summary of session `id`. */
  async #readIndex(id: string): Promise<IndexRead> {
    const path = this.indexPath(id);
    const read = await readBoundedFile(path, MAX_INDEX_ENTRY_BYTES);
    // Only what is there is replaced (damage, a FIFO, a link): an entry we may not read right now
    // (EACCES, EMFILE) may be fine, and a summary recovered without an end record is a worse one.
    if (!('bytes' in read)) return { warning: `skipped index entry ${path}: ${read.problem}`, rebuild: read.wrongKind };
    const entry = decodeIndexEntry(read.bytes);
    const problem = 'problem' in entry ? entry.problem : indexEntryProblem(entry.value, id);
    if (problem === null && 'value' in entry) return { summary: entry.value as SessionSummary };
    return { warning: `skipped index entry ${path}: ${problem}`, rebuild: true };
  }

  /**
   * Summaries of every session started at or after `sinceMs`: finished ones from the index,
   * cut-off ones recovered from their files (and indexed, so the next load is quick), sessions in
   * progress left out.
   */
  async loadSummaries(sinceMs = 0): Promise<LoadResult<SessionSummary[]>> {
    const summaries: SessionSummary[] = [];
    const { ids, foreign } = await this.#sessionNames();
    // A name no session id could make (a space, a leading dot): never a path we build, so unread.
    const warnings = foreign.map((n) => `skipped ${join(this.sessionsDir, `${n}.pps`)}: not a session id (${JSON.stringify(n)})`);
    const indexed = new Set((await this.#list(this.indexDir)).filter((n) => n.endsWith('.ppi')).map((n) => n.slice(0, -4)));
    for (const id of ids) {
      const entry: IndexRead = indexed.has(id) ? await this.#readIndex(id) : { warning: '', rebuild: true };
      if ('summary' in entry) {
        if (entry.summary.startTime >= sinceMs) summaries.push(entry.summary);
        continue;
      }
      const loaded = await this.#loadSession(id);
      const session = loaded.value;
      // A live writer may be caught mid-append: its "torn tail" is not damage, and its index
      // entry does not exist yet.
      if (session?.inProgress) continue;
      let note = entry.warning;
      if (session) {
        if (session.summary.startTime >= sinceMs) summaries.push(session.summary);
        const written = entry.rebuild && (await this.writeIndex(session.summary).then(() => true, () => false));
        if (note && written) note += '; rebuilt from the session file';
      }
      warnings.push(...(note ? [note] : []), ...loaded.warnings);
    }
    return { value: summaries, warnings };
  }

  /**
   * One session with its samples; null (and a warning) when the file is foreign or corrupt.
   * Throws InvalidOptionError for an id that is not one (`../x`: nothing outside sessions/ is
   * read), DataDirError for a data dir that is not ours alone.
   */
  async loadSession(id: string): Promise<LoadResult<LoadedSession | null>> {
    checkSessionId('id', id);
    checkDataDir(this.dir);
    return this.#loadSession(id);
  }

  async #loadSession(id: string): Promise<LoadResult<LoadedSession | null>> {
    const path = this.sessionPath(id);
    const read = await readBoundedFile(path, MAX_SESSION_FILE_BYTES);
    if (!('bytes' in read)) return { value: null, warnings: [`skipped ${path}: ${read.problem}`] };
    const { records, warnings } = decodeRecords(read.bytes, path);
    if (!records) return { value: null, warnings };
    const header = records[0] as SessionHeader;
    const ended = records.some((r) => r.t === 'Z');
    return { value: parseSession(records, warnings, path, !ended && writerAlive(header)), warnings };
  }

  /**
   * Remove the oldest finished sessions beyond `maxDays` of age or `maxBytes` of total size.
   * Sessions being written (and `keep`) are never removed. Returns the ids removed.
   */
  async retain(opts: { maxDays: number; maxBytes: number; now?: number; keep?: string }): Promise<string[]> {
    const now = opts.now ?? Date.now();
    const ids = await this.sessionIds();
    const entries: { id: string; bytes: number; startTime: number }[] = [];
    for (const id of ids) {
      if (id === opts.keep) continue;
      // lstat: the names' own sizes (a link planted there is not followed to count its target).
      const size = await lstat(this.sessionPath(id)).then((s) => s.size, () => 0);
      const idx = await lstat(this.indexPath(id)).then((s) => s.size, () => -1);
      if (idx < 0) continue; // in progress or not yet recovered: not ours to delete
      entries.push({ id, bytes: size + idx, startTime: idStartTime(id) });
    }
    let total = entries.reduce((a, e) => a + e.bytes, 0);
    const removed: string[] = [];
    for (const e of entries) {
      const tooOld = now - e.startTime > opts.maxDays * 86_400_000;
      if (!tooOld && total <= opts.maxBytes) continue;
      await unlink(this.indexPath(e.id)).catch(() => undefined);
      await unlink(this.sessionPath(e.id)).catch(() => undefined);
      total -= e.bytes;
      removed.push(e.id);
    }
    return removed;
  }

  /** Every session file and index entry as one msgpack document. */
  async exportHistory(): Promise<Uint8Array> {
    const sessions: { id: string; data: Uint8Array; index: Uint8Array | null }[] = [];
    for (const id of await this.sessionIds()) {
      // The same bounded reads as loading (no FIFO or device blocks an export); a file skipped
      // here is reported by the next load.
      const data = await readBoundedFile(this.sessionPath(id), MAX_SESSION_FILE_BYTES);
      if (!('bytes' in data)) continue;
      const index = await readBoundedFile(this.indexPath(id), MAX_INDEX_ENTRY_BYTES);
      sessions.push({ id, data: data.bytes, index: 'bytes' in index ? index.bytes : null });
    }
    return new Packr().pack({ format: HISTORY_FORMAT, v: 1, sessions });
  }

  /** Add the sessions of an export that this data dir does not have. Existing ones are kept. */
  async importHistory(bytes: Uint8Array): Promise<{ imported: number; skipped: number }> {
    let doc: { format?: string; sessions?: { id: string; data: Uint8Array; index: Uint8Array | null }[] };
    try {
      doc = unpack(bytes) as typeof doc;
    } catch (err) {
      throw new HistoryFormatError(`not a procprobe history export: ${(err as Error).message}`);
    }
    if (doc?.format !== HISTORY_FORMAT || !Array.isArray(doc.sessions)) {
      throw new HistoryFormatError('not a procprobe history export');
    }
    this.ensure();
    let imported = 0;
    let skipped = 0;
    for (const s of doc.sessions) {
      // An id that could not be a file name of ours (`../x`) is left out, never joined to a path.
      if (!isSessionId(s?.id) || !(s.data instanceof Uint8Array) || !(s.index === null || s.index instanceof Uint8Array)) {
        skipped++;
        continue;
      }
      try {
        await writeNewFile(this.sessionPath(s.id), s.data);
        if (s.index) await writeNewFile(this.indexPath(s.id), s.index);
        imported++;
      } catch {
        skipped++; // already here
      }
    }
    return { imported, skipped };
  }
}

/**
 * Is the process that wrote this header still the same live process? Its start time tells it
 * from a later process that got the same pid.
 */
function writerAlive(h: SessionHeader): boolean {
  return Math.abs(processStartEpochMs(h.writerPid) - h.writerStartTime) < 2000;
}
