/** Control between a session's history writer worker and its owner: one tagged union. */
import type { SessionHeader, SessionRecord } from './format.js';

export interface WriterWorkerData {
  sab: SharedArrayBuffer;
  path: string;
  header: SessionHeader;
  /** Ring sequence number of the session's first sample. */
  startSeq: number;
  flushIntervalMs: number;
  /**
   * Int32Array(1): bumped and notified after each FLUSH, for an owner blocked in process exit;
   * FLUSH_FAILED once the file failed (nothing more will be written).
   */
  flushed: SharedArrayBuffer;
}

export const FLUSH_FAILED = -1;

export type ToWriter =
  /** Append these records (timings, errors) after the samples written so far. */
  | { code: 'RECORDS'; records: SessionRecord[] }
  /** Write the samples so far and these records now, then bump `flushed` (process exit). */
  | { code: 'FLUSH'; records: SessionRecord[] }
  /** Write the samples so far and these records, keep the file open, answer DRAINED. */
  | { code: 'DRAIN'; records: SessionRecord[] }
  /** Write the remaining samples and these records, close the file and exit. */
  | { code: 'CLOSE'; records: SessionRecord[] };

export type FromWriter =
  | { code: 'OPENED' }
  /** The file's counts so far, after a DRAIN (still open) or a CLOSE (closed, the worker exits). */
  | { code: 'DRAINED' | 'CLOSED'; samples: number; missed: number; bytes: number }
  /** Writing failed: the file was removed and the worker exits (sent once). */
  | { code: 'ERROR'; errorCode: string | undefined; message: string };
