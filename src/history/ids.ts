/**
 * Session ids: sortable, unique names that carry their start time (the history's file names;
 * data-dir.ts checks a given id is safe to be one).
 */
import { threadId } from 'node:worker_threads';

/** Start time encoded in a session id (see newSessionId); NaN for a foreign name. */
export function idStartTime(id: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(\d{3})Z/.exec(id);
  return m ? Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!, +m[7]!) : NaN;
}

let idCounter = 0;

/**
 * A sortable, unique session id: UTC start time to the ms, then pid (and the worker thread's id,
 * for a session opened in a worker: each thread has its own counter, so two threads starting in
 * the same ms would otherwise name the same file) and a counter.
 */
export function newSessionId(startTime: number): string {
  const iso = new Date(startTime).toISOString().replace(/[-:.]/g, ''); // 20261121T055110123Z
  idCounter = (idCounter + 1) % 46656;
  const who = threadId === 0 ? process.pid.toString(36) : `${process.pid.toString(36)}.${threadId.toString(36)}`;
  return `${iso}-${who}-${idCounter.toString(36).padStart(3, '0')}`;
}
