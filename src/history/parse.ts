/**
 * A session file's records back into a session: samples, timings, errors, summary. Pure: no I/O
 * (whether the file's writer still runs is the store's question, asked before).
 */
import { Unpackr } from 'msgpackr';
import type { PhaseSummary, SessionError, SessionSummary } from '../session/types.js';
import { F } from '../probe/layout.js';
import { R } from '../ring/layout.js';
import { phaseResources, resourceDelta } from '../session/resources.js';
import { StartupSession } from '../session/session.js';
import type { SessionSamples } from '../session/types.js';
import { checksumOf, decodeChunk, isHeader, type SessionHeader, type SessionRecord } from './format.js';
import { briefly, hasChecksums, headerProblem, recordProblem, type Problem } from './validate-records.js';

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

/** A decoded value and its bytes: [at, end) of the file. */
interface Found {
  value: unknown;
  at: number;
  end: number;
}

type DecodeStop = Error & { incomplete?: boolean; lastPosition?: number };

/**
 * Every whole value of a msgpack stream with its byte range, and where decoding stopped (if it
 * did). Why the check that each value ends past the one before: msgpackr's string-bundle
 * extension (0x62) takes a signed 32-bit size from the file and moves its read position by it,
 * so four crafted bytes send the reader back to an earlier value, and unpackMultiple's loop then
 * reads the same bytes forever. A value that does not move forward stops the decoding there,
 * which bounds the loop by the file's length.
 */
function splitValues(bytes: Uint8Array, unpackr: Unpackr): { found: Found[]; stop: DecodeStop | null } {
  const found: Found[] = [];
  let last = 0;
  try {
    unpackr.unpackMultiple(bytes, (value: unknown, at?: number, end?: number) => {
      if (at === undefined || end === undefined || end <= last || at < last) {
        throw Object.assign(new Error(`the decoder went back to byte ${end ?? '?'}`), { lastPosition: last });
      }
      found.push({ value, at, end });
      last = end;
    });
    return { found, stop: null };
  } catch (err) {
    const stop = err as DecodeStop;
    // msgpackr sets lastPosition to the start of the value it was reading; ours (thrown above)
    // says where the last good value ended.
    if (found.length > 0 && (stop.lastPosition ?? 0) < last) stop.lastPosition = last;
    return { found, stop };
  }
}

/** Why a record of a checksummed file is not kept, or null: `next` is the value after it. */
function checksumProblem(bytes: Uint8Array, record: Found, next: Found): Problem {
  if (typeof next.value !== 'number') return 'no checksum after it';
  const crc = checksumOf(bytes.subarray(record.at, record.end));
  return next.value === crc ? null : `checksum ${String(next.value)} does not match its bytes (${crc})`;
}

/**
 * Version 2 and later: the values of a file are record, checksum, record, checksum... Each record
 * followed by the CRC of its bytes is kept; one that is not is reported, and the stream picks up
 * again at the next value that is not a number (a stray checksum is reported too). Returns the
 * kept records and the problems, each with its offset. `tailAt`: the last value is a record with
 * nothing after it, the record of a write cut off before its checksum (one write holds both);
 * it belongs to the file's tail, not to the damaged records.
 */
function pairChecksums(bytes: Uint8Array, values: Found[]): { kept: Found[]; problems: { at: number; problem: string }[]; tailAt?: number } {
  const kept: Found[] = [];
  const problems: { at: number; problem: string }[] = [];
  for (let i = 0; i < values.length; i++) {
    const record = values[i]!;
    const next = values[i + 1];
    if (typeof record.value === 'number') {
      problems.push({ at: record.at, problem: 'a checksum without its record' });
      continue;
    }
    if (next === undefined) return { kept, problems, tailAt: record.at };
    const p = checksumProblem(bytes, record, next);
    if (p === null) kept.push(record);
    else problems.push({ at: record.at, problem: p });
    if (typeof next.value === 'number') i++;
  }
  return { kept, problems };
}

/**
 * A session file's bytes as records, each checked against the schema of the header's format
 * version (validate-records.ts), and (since version 2) against its checksum. A record that fails
 * either is left out with a warning naming the file and its byte offset; the rest of the session
 * is kept. A torn or unreadable tail keeps every whole record before it.
 */
export function decodeRecords(bytes: Buffer, path: string): DecodedRecords {
  const { found, stop } = splitValues(bytes, new Unpackr({ sequential: true }));
  const first = found[0];
  if (!first || !isHeader(first.value)) {
    const why = found.length === 0 && stop ? `not a readable procprobe session (${briefly(stop.message)})` : 'not a procprobe session file';
    return { records: null, warnings: [`skipped ${path}: ${why}`] };
  }
  const header = first.value;
  const bad = headerProblem(header);
  if (bad) return { records: null, warnings: [`skipped ${path}: ${bad}`] };
  let body = found.slice(1);
  const skipped: string[] = [];
  let tailAt: number | undefined;
  if (hasChecksums(header)) {
    const paired = pairChecksums(bytes, found);
    if (paired.kept[0] !== first) {
      // The header's checksum failed (or is missing): its id, times and metadata are not to be trusted.
      const p = paired.problems[0]?.at === 0 ? paired.problems[0].problem : 'its checksum was cut off';
      return { records: null, warnings: [`skipped ${path}: damaged header: ${p}`] };
    }
    body = paired.kept.slice(1);
    for (const { at, problem } of paired.problems) skipped.push(`skipped the record at byte ${at} of ${path}: ${problem}`);
    tailAt = paired.tailAt;
  }
  const records: SessionRecord[] = [header];
  for (const { value, at } of body) {
    const p = recordProblem(value, header);
    if (p === null) records.push(value as SessionRecord);
    else skipped.push(`skipped the record at byte ${at} of ${path}: ${p}`);
  }
  const warnings = skipped.slice(0, RECORD_WARNINGS);
  if (skipped.length > RECORD_WARNINGS) warnings.push(`skipped ${skipped.length - RECORD_WARNINGS} more damaged records of ${path}`);
  const from = tailAt ?? stop?.lastPosition ?? 0;
  if (stop && !stop.incomplete) {
    warnings.push(`${path}: unreadable from byte ${from} of ${bytes.length} (${briefly(stop.message)}); kept ${records.length} records before it`);
  } else if (stop || tailAt !== undefined) {
    warnings.push(`${path}: torn tail after byte ${from} of ${bytes.length}; kept ${records.length} whole records`);
  }
  return { records, warnings };
}

/**
 * An index entry's bytes: the summary then its checksum (the CRC of the summary's bytes), or the
 * summary alone (written before entries had checksums: still read). The value is schema-checked
 * by the caller. msgpackr's unpack() refuses trailing bytes, hence unpackMultiple.
 */
export function decodeIndexEntry(bytes: Uint8Array): { value: unknown } | { problem: string } {
  // The options of msgpackr's own unpack(), which read these entries before: maps as objects.
  const { found, stop } = splitValues(bytes, new Unpackr({ useRecords: false }));
  if (stop) return { problem: `not msgpack (${briefly(stop.message)})` };
  const [entry, sum] = found;
  if (!entry || found.length > 2) return { problem: `${found.length} values, expected a summary and its checksum` };
  if (sum === undefined) return { value: entry.value };
  const p = checksumProblem(bytes, entry, sum);
  return p === null ? { value: entry.value } : { problem: p };
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
  // One by one: push(...phases) throws RangeError past about 120,000 arguments, and a crash can
  // leave a file of more timings than that.
  for (const p of phases) session.timings.push(p);
  for (const e of errors) session.errors.push(e);
  session.finish(false, lastTs);
  session.incomplete = true;
  session.resources = resourceDelta(out, stride, at, header.startTime, lastTs);
  // A long session (past maxSessionSamples) writes its timings with their exact totals alone (or
  // nothing, without boundary reads); the levels and peaks its end would have computed from this
  // file, a crash left to us.
  phaseResources(session.timings, header.startTime, samples, true);
  const summary = session.toSummary();
  return { header, summary, samples, inProgress };
}
