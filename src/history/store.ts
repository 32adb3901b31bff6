/**
 * The data dir. Layout (documented in the README):
 *
 *   <dataDir>/              0700
 *     sessions/<id>.pps     0600  one session: append-only msgpack records (format.ts)
 *     index/<id>.ppi        0600  its SessionSummary, written when it finished (tmp + rename)
 *
 * One file per session and one index entry per session, each written by one process, so two
 * processes sharing a data dir never interleave records or lose an update; an index entry appears
 * atomically (rename). A session file without an index entry is either being written (its writer
 * is alive) or was cut off (its writer died): that one is recovered as `incomplete`.
 * Loading never throws for one bad file: a torn tail keeps every whole record; a corrupt or
 * foreign file is skipped with a warning naming it, and left where it is.
 */
import { accessSync, constants, mkdirSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Packr, Unpackr, pack, unpack } from 'msgpackr';
import { ProcprobeError } from '../errors.js';
import type { SessionSummary } from '../session/types.js';
import { isHeader, type SessionRecord } from './format.js';
import { parseSession, type LoadedSession } from './parse.js';

/** The data dir is missing and cannot be created, or cannot be written. */
export class DataDirError extends ProcprobeError {
  readonly path: string;
  constructor(path: string, detail: string, options?: { cause?: unknown }) {
    super('ERR_PROCPROBE_DATA_DIR', `data dir ${path}: ${detail}`, options);
    this.path = path;
  }
}

export interface LoadResult<T> {
  value: T;
  /** One line per file skipped or repaired, naming it. */
  warnings: string[];
}

const HISTORY_FORMAT = 'procprobe-history';

export class HistoryStore {
  readonly dir: string;
  readonly sessionsDir: string;
  readonly indexDir: string;

  constructor(dir: string) {
    this.dir = dir;
    this.sessionsDir = join(dir, 'sessions');
    this.indexDir = join(dir, 'index');
  }

  /** Create the layout (0700) if needed and check it is writable; throws DataDirError. Sync. */
  ensure(): void {
    for (const d of [this.dir, this.sessionsDir, this.indexDir]) {
      try {
        mkdirSync(d, { recursive: true, mode: 0o700 });
        accessSync(d, constants.W_OK | constants.X_OK);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code ?? 'error';
        throw new DataDirError(d, code === 'EACCES' || code === 'EROFS' ? 'not writable' : `cannot be created (${code})`, { cause: err });
      }
    }
  }

  sessionPath(id: string): string {
    return join(this.sessionsDir, `${id}.pps`);
  }

  indexPath(id: string): string {
    return join(this.indexDir, `${id}.ppi`);
  }

  /** Record a finished session in the index: write a temp file, then rename it into place. */
  async writeIndex(summary: SessionSummary): Promise<void> {
    const tmp = join(this.indexDir, `.${summary.id}.${process.pid}.tmp`);
    await writeFile(tmp, pack(summary), { mode: 0o600 });
    await rename(tmp, this.indexPath(summary.id));
  }

  /** Session ids on disk, oldest first (ids sort by start time). */
  async sessionIds(): Promise<string[]> {
    const names = await readdir(this.sessionsDir).catch(() => [] as string[]);
    return names.filter((n) => n.endsWith('.pps')).map((n) => n.slice(0, -4)).sort();
  }

  /**
   * Summaries of every session started at or after `sinceMs`: finished ones from the index,
   * cut-off ones recovered from their files (and indexed, so the next load is quick), sessions in
   * progress left out.
   */
  async loadSummaries(sinceMs = 0): Promise<LoadResult<SessionSummary[]>> {
    const warnings: string[] = [];
    const summaries: SessionSummary[] = [];
    const ids = await this.sessionIds();
    const indexed = new Set(
      (await readdir(this.indexDir).catch(() => [] as string[])).filter((n) => n.endsWith('.ppi')).map((n) => n.slice(0, -4)),
    );
    for (const id of ids) {
      if (indexed.has(id)) {
        const path = this.indexPath(id);
        try {
          const s = unpack(await readFile(path)) as SessionSummary;
          if (typeof s !== 'object' || s === null || s.id !== id) throw new Error('not a session summary');
          if (s.startTime >= sinceMs) summaries.push(s);
          continue;
        } catch (err) {
          warnings.push(`skipped index entry ${path}: ${(err as Error).message}`);
        }
      }
      const loaded = await this.loadSession(id);
      const session = loaded.value;
      // A live writer may be caught mid-append: its "torn tail" is not damage.
      if (!session?.inProgress) warnings.push(...loaded.warnings);
      if (!session || session.inProgress) continue;
      if (session.summary.startTime >= sinceMs) summaries.push(session.summary);
      if (!indexed.has(id)) await this.writeIndex(session.summary).catch(() => undefined);
    }
    return { value: summaries, warnings };
  }

  /** One session with its samples; null (and a warning) when the file is foreign or corrupt. */
  async loadSession(id: string): Promise<LoadResult<LoadedSession | null>> {
    const path = this.sessionPath(id);
    let bytes: Buffer;
    try {
      bytes = await readFile(path);
    } catch (err) {
      return { value: null, warnings: [`skipped ${path}: ${(err as Error).message}`] };
    }
    const warnings: string[] = [];
    let records: unknown[];
    try {
      records = new Unpackr({ sequential: true }).unpackMultiple(bytes) as unknown[];
    } catch (err) {
      const e = err as Error & { incomplete?: boolean; values?: unknown[]; lastPosition?: number };
      records = e.values ?? [];
      if (!e.incomplete || records.length === 0) {
        return { value: null, warnings: [`skipped ${path}: not a readable procprobe session (${e.message})`] };
      }
      warnings.push(`${path}: torn tail after byte ${e.lastPosition ?? 0} of ${bytes.length}; kept ${records.length} whole records`);
    }
    if (!isHeader(records[0])) return { value: null, warnings: [`skipped ${path}: not a procprobe session file`] };
    return { value: parseSession(records as SessionRecord[]), warnings };
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
      const size = await stat(this.sessionPath(id)).then((s) => s.size, () => 0);
      const idx = await stat(this.indexPath(id)).then((s) => s.size, () => -1);
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
      const data = await readFile(this.sessionPath(id)).catch(() => null);
      if (!data) continue;
      const index = await readFile(this.indexPath(id)).catch(() => null);
      sessions.push({ id, data, index });
    }
    return new Packr().pack({ format: HISTORY_FORMAT, v: 1, sessions });
  }

  /** Add the sessions of an export that this data dir does not have. Existing ones are kept. */
  async importHistory(bytes: Uint8Array): Promise<{ imported: number; skipped: number }> {
    let doc: { format?: string; sessions?: { id: string; data: Uint8Array; index: Uint8Array | null }[] };
    try {
      doc = unpack(bytes) as typeof doc;
    } catch (err) {
      throw new ProcprobeError('ERR_PROCPROBE_HISTORY_FORMAT', `not a procprobe history export: ${(err as Error).message}`);
    }
    if (doc?.format !== HISTORY_FORMAT || !Array.isArray(doc.sessions)) {
      throw new ProcprobeError('ERR_PROCPROBE_HISTORY_FORMAT', 'not a procprobe history export');
    }
    this.ensure();
    await mkdir(this.sessionsDir, { recursive: true, mode: 0o700 });
    let imported = 0;
    let skipped = 0;
    for (const s of doc.sessions) {
      if (!/^[\w.-]+$/.test(s.id)) {
        skipped++;
        continue;
      }
      try {
        await writeFile(this.sessionPath(s.id), s.data, { flag: 'wx', mode: 0o600 });
        if (s.index) await writeFile(this.indexPath(s.id), s.index, { flag: 'wx', mode: 0o600 });
        imported++;
      } catch {
        skipped++; // already here
      }
    }
    return { imported, skipped };
  }
}

/** Start time encoded in a session id (see newSessionId); NaN for a foreign name. */
export function idStartTime(id: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(\d{3})Z/.exec(id);
  return m ? Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!, +m[7]!) : NaN;
}

let idCounter = 0;

/** A sortable, unique session id: UTC start time to the ms, then pid and a counter. */
export function newSessionId(startTime: number): string {
  const iso = new Date(startTime).toISOString().replace(/[-:.]/g, ''); // 20261121T055110123Z
  idCounter = (idCounter + 1) % 46656;
  return `${iso}-${process.pid.toString(36)}-${idCounter.toString(36).padStart(3, '0')}`;
}
