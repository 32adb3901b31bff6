/**
 * A session file's records back into a session: samples, timings, errors, summary. Pure: no I/O
 * (whether the file's writer still runs is the store's question, asked before).
 */
import { Unpackr } from 'msgpackr';
import type { PhaseSummary, SessionError, SessionSummary } from '../session/types.js';
import { F } from '../probe/layout.js';
import { R } from '../ring/layout.js';
import { resourceDelta } from '../session/resources.js';
import { StartupSession } from '../session/session.js';
import type { SessionSamples } from '../session/types.js';
import { decodeChunk, isHeader, type SessionHeader, type SessionRecord } from './format.js';
import { briefly, headerProblem, recordProblem } from './validate-records.js';

export interface LoadedSession {
  header: SessionHeader;
  /** From the file's end record, or rebuilt from what was written (incomplete). */
  summary: SessionSummary;
  samples: SessionSamples;
  /** Its writer is still running: the session is not finished yet. */
  inProgress: boolean;
}

/** Damaged records reported one by one per file; beyond this, one line with the count. */
const RECORD_WARNINGS = 3;
/**
 * At most this many decoded values (8 bytes each: 2 GiB) per session. A valid file stays far below
 * it (MAX_SESSION_FILE_BYTES); a hostile one could declare 1024 gauges and millions of samples.
 */
const MAX_DECODED_VALUES = 2 ** 28;

export interface DecodedRecords {
  /** The header, then every later record that fits its version's schema; null: not a session. */
  records: SessionRecord[] | null;
  warnings: string[];
}

/** Every whole record of a session file with its byte offset, and where decoding stopped (if it did). */
function splitRecords(bytes: Buffer): { found: { value: unknown; at: number }[]; stop: (Error & { incomplete?: boolean; lastPosition?: number }) | null } {
  const found: { value: unknown; at: number }[] = [];
  try {
    new Unpackr({ sequential: true }).unpackMultiple(bytes, (value: unknown, at?: number) => {
      found.push({ value, at: at ?? 0 });
    });
    return { found, stop: null };
  } catch (err) {
    return { found, stop: err as Error };
  }
}

/**
 * A session file's bytes as records, each checked against the schema of the header's format
 * version (validate-records.ts). A record that fails is left out with a warning naming the file
 * and its byte offset; the rest of the session is kept. A torn or unreadable tail keeps every
 * whole record before it.
 */
export function decodeRecords(bytes: Buffer, path: string): DecodedRecords {
  const { found, stop } = splitRecords(bytes);
  const first = found[0]?.value;
  if (!isHeader(first)) {
    const why = found.length === 0 && stop ? `not a readable procprobe session (${briefly(stop.message)})` : 'not a procprobe session file';
    return { records: null, warnings: [`skipped ${path}: ${why}`] };
  }
  const bad = headerProblem(first);
  if (bad) return { records: null, warnings: [`skipped ${path}: ${bad}`] };
  const warnings: string[] = [];
  const records: SessionRecord[] = [first];
  const skipped: string[] = [];
  for (const { value, at } of found.slice(1)) {
    const p = recordProblem(value, first);
    if (p === null) records.push(value as SessionRecord);
    else skipped.push(`skipped the record at byte ${at} of ${path}: ${p}`);
  }
  warnings.push(...skipped.slice(0, RECORD_WARNINGS));
  if (skipped.length > RECORD_WARNINGS) warnings.push(`skipped ${skipped.length - RECORD_WARNINGS} more damaged records of ${path}`);
  if (stop) {
    const at = stop.lastPosition ?? 0;
    warnings.push(
      stop.incomplete
        ? `${path}: torn tail after byte ${at} of ${bytes.length}; kept ${records.length} whole records`
        : `${path}: unreadable from byte ${at} of ${bytes.length} (${briefly(stop.message)}); kept ${records.length} records before it`,
    );
  }
  return { records, warnings };
}

/** The samples of the chunks that fit in MAX_DECODED_VALUES (all of them, for any real file). */
function decodeSamples(records: SessionRecord[], header: SessionHeader, stride: number, warnings: string[], source: string): SessionSamples['records'] {
  let total = 0;
  let chunks = 0;
  for (const r of records) {
    if (r.t !== 'S') continue;
    if ((total + r.n) * stride > MAX_DECODED_VALUES) {
      warnings.push(`${source}: more samples than the loader decodes (${MAX_DECODED_VALUES} values); kept the first ${total}`);
      break;
    }
    total += r.n;
    chunks++;
  }
  const out = new Float64Array(total * stride);
  let at = 0;
  for (const r of records) {
    if (r.t !== 'S') continue;
    if (chunks-- === 0) break;
    at += decodeChunk(r, header, out, stride, at);
  }
  return out;
}

/**
 * Records already checked by decodeRecords; `warnings` gets a line (naming `source`) if the
 * samples had to be cut. `inProgress`: the file's writer is still running (a file without an end
 * record is then a session in progress, not one a crash left).
 */
export function parseSession(records: SessionRecord[], warnings: string[] = [], source = 'a session', inProgress = false): LoadedSession {
  const header = records[0] as SessionHeader;
  let gaugeNames: string[] = [];
  let end: SessionSummary | null = null;
  const phases: PhaseSummary[] = [];
  const errors: SessionError[] = [];
  for (const r of records) {
    if (r.t === 'G') gaugeNames = r.names;
    else if (r.t === 'Z') end = r.summary;
    else if (r.t === 'E') errors.push({ timestamp: r.timestamp, message: r.message, ...(r.operation ? { operation: r.operation } : {}) });
    else if (r.t === 'T') {
      const { t: _t, id: _id, parentId: _p, ...phase } = r;
      phases.push(phase);
    }
  }
  const stride = R.GAUGES + gaugeNames.length;
  const out = decodeSamples(records, header, stride, warnings, source);
  const at = out.length / stride;
  const samples: SessionSamples = { records: out, stride, count: at, gaugeNames };
  if (end) return { header, summary: end, samples, inProgress: false };

  // No end record: the session as far as it was written, through the session's own summary.
  const lastTs = at > 0 ? out[(at - 1) * stride + R.ROW + F.timestamp]! : header.startTime;
  const session = new StartupSession(header.id, header.metadata, header.startTime);
  session.timings.push(...phases);
  session.errors.push(...errors);
  session.finish(false, lastTs);
  session.incomplete = true;
  session.resources = resourceDelta(out, stride, at, header.startTime, lastTs);
  const summary = session.toSummary();
  return { header, summary, samples, inProgress };
}
