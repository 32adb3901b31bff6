/**
 * A finished session into history: the writer completes its file (with the end record), the
 * index gets its summary, and retention runs. When memory overflowed (maxSessionSamples), the
 * file holds more samples than memory: the deltas are then recomputed from the file first.
 */
import { HistoryWriteError } from '../errors.js';
import { endRecord } from '../history/records.js';
import type { HistoryStore } from '../history/store.js';
import type { SessionWriter, WriterResult } from '../history/writer.js';
import { phaseResources, resourceDelta } from '../session/resources.js';
import type { SessionBuffer } from '../session/buffer.js';
import type { StartupSession } from '../session/session.js';
import type { TimingBook } from './timings.js';

export interface SaveContext {
  store: HistoryStore;
  writer: SessionWriter;
  book: TimingBook;
  /**
   * What memory holds. When it does not hold every sample the file does (it kept only the first
   * maxSessionSamples, or the ring overwrote some before memory drained them), the session's
   * figures are recomputed from the file.
   */
  memory: Pick<SessionBuffer, 'count' | 'missed' | 'overflowed'>;
  retain: { maxDays: number; maxBytes: number };
}

/**
 * Throws what the writer or the store throw, as HistoryWriteError; the caller reports it (the
 * session is still returned). `session.saved` is set once its file is whole: an index entry that
 * cannot be written after that costs nothing (the loader rebuilds it from the file).
 */
export async function saveSession(session: StartupSession, c: SaveContext): Promise<void> {
  const m = c.memory;
  session.sampleAccount = { inMemory: m.count, missedInMemory: m.missed, overflowed: m.overflowed, inFile: null, missedInFile: null, fileBytes: null };
  let written: WriterResult;
  if (m.overflowed || m.missed > 0) {
    // Write every sample (the file stays open), compute every delta from them, then the end
    // record through the writer's own fd: the file is never reopened by its name.
    await c.writer.drain(c.book.drainRecords());
    await recomputeFromDisk(session, c);
    written = await c.writer.close([endRecord(session.toSummary())]);
  } else {
    written = await c.writer.close([...c.book.drainRecords(), endRecord(session.toSummary())]);
  }
  session.saved = true;
  Object.assign(session.sampleAccount, { inFile: written.samples, missedInFile: written.missed, fileBytes: written.bytes });
  try {
    await c.store.writeIndex(session.toSummary());
    await c.store.retain({ ...c.retain, keep: session.id });
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new HistoryWriteError(`updating the history index for ${session.id} failed (${why}); the session file is whole and the entry is rebuilt from it on the next load`, { cause: err });
  }
}

/** Resource deltas of every timing and of the session from the samples on disk. */
async function recomputeFromDisk(session: StartupSession, c: SaveContext): Promise<void> {
  const loaded = (await c.store.loadSession(session.id)).value;
  if (!loaded) return;
  const s = loaded.samples;
  session.resources = resourceDelta(s.records, s.stride, s.count, session.startTime, session.endTime);
  c.book.settle(session, s, Infinity);
  phaseResources(session.timings, session.startTime, s);
  c.book.applyExact(session.timings, session);
}
