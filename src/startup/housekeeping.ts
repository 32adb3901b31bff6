/**
 * The open session's periodic work and its last-moment save: what PerformanceMonitor runs every
 * 50 ms (drain the ring into memory, settle the timings the samples now cover, hand their
 * records to the history writer) and at process exit with the session still open.
 */
import type { SessionWriter } from '../history/writer.js';
import type { SessionBuffer } from '../session/buffer.js';
import type { StartupSession } from '../session/session.js';
import type { TimingBook } from './timings.js';

export interface OpenSession {
  session: StartupSession;
  buffer: SessionBuffer;
  book: TimingBook;
  writer: SessionWriter | null;
}

/**
 * Drain the ring, compute deltas of finished timings the ring now covers, feed the writer.
 * `finishing`: the session is being finished: settle every timing, and leave the records to
 * finishSession, which writes them with the end record.
 */
export function housekeep(o: OpenSession, finishing: boolean): void {
  o.buffer.drain();
  // Once memory overflowed, a finished timing goes to the file at once without its delta (a
  // kill -9 then loses no phase: the loader computes the delta from the samples on disk), and
  // finishSession recomputes every delta from the file.
  if (o.buffer.overflowed) o.book.settle(o.session, null, Infinity);
  else o.book.settle(o.session, o.buffer, finishing ? Infinity : o.buffer.lastTimestamp);
  if (!finishing) o.writer?.write(o.book.drainRecords());
}

/**
 * Process exit with the session open: close its open timings as failures, settle every timing
 * with the samples there are, record why the session ends here, and have the writer save it
 * all before the process goes (at most `budgetMs`). The file has no end record: it loads as
 * incomplete, as after a kill -9, but with everything up to the exit.
 */
export function flushAtExit(o: OpenSession & { writer: SessionWriter }, budgetMs: number): void {
  o.book.failOpen('not finished when the process exited');
  o.buffer.drain();
  // Past maxSessionSamples memory lacks the later samples: a delta from it would be cut short.
  o.book.settle(o.session, o.buffer.overflowed ? null : o.buffer, Infinity);
  o.book.recordFileError({ timestamp: Date.now(), message: 'the process exited with the session open', operation: 'procprobe' });
  o.writer.flushSync(o.book.drainRecords(), budgetMs);
}
