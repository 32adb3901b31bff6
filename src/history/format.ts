/**
 * The session file format: a stream of msgpack records (msgpackr, `sequential: true`), appended
 * by one writer and read with unpackMultiple. The first record is the header; a file whose first
 * record is not one is foreign and skipped. Since version 2 every record (the header too) is
 * followed by its checksum: the CRC-32 of exactly the record's bytes, as a msgpack uint32 (5
 * bytes, 0xce + big-endian). Version 1 files have no checksums and still load. Version 3 adds
 * the PSS readings (R.PSS_BYTES) to sample chunks, as their own key `p` beside the columns so the
 * gauge columns keep their places: version 1 and 2 files still load (no PSS: NaN, as a session
 * that read none).
 *
 *   { t: 'H', format: 'procprobe-session', v: 3, id, startTime, metadata, ... }   header
 *   { t: 'S', n, c: [...], p?: [...] }           n samples, column-delta encoded (below)
 *   { t: 'T', ...PhaseSummary, id, parentId }    a finished timing
 *   { t: 'E', timestamp, message, operation }    an error
 *   { t: 'G', names }                            gauge names from here on
 *   { t: 'Z', summary }                          the session finished (SessionSummary)
 *
 * Sample chunks store each column as its first value then differences, quantized to integers
 * where the unit allows (µs, bytes, counts, 0.01 %): a quiet process's row costs a few bytes.
 * Every chunk starts afresh, so a torn tail loses at most one chunk. memoryPercent is not stored:
 * it is RSS / the header's memTotal.
 */
import { crc32 } from 'node:zlib';
import type { PhaseSummary, SessionError, SessionSummary } from '../session/types.js';
import { F } from '../probe/layout.js';
import { R } from '../ring/layout.js';

export const SESSION_FORMAT = 'procprobe-session';
export const SESSION_FORMAT_VERSION = 3;
/** The first format version whose chunks may carry PSS readings (`p`). */
export const PSS_FORMAT_VERSION = 3;

/**
 * Bounds of a session file that the loader checks (validate-records.ts): the writer's batches are
 * 4096 records (writer-worker.ts), a chunk of more is damage; a sampler has at most 1024 gauges
 * (Sampler's options.maxGauges).
 */
export const MAX_CHUNK_SAMPLES = 65_536;
export const MAX_STORED_GAUGES = 1024;

export interface SessionHeader {
  t: 'H';
  format: typeof SESSION_FORMAT;
  v: number;
  id: string;
  startTime: number;
  metadata: Record<string, unknown>;
  /** Process sampled, and its start time (ms since epoch). */
  pid: number;
  processStartTime: number;
  tree: boolean;
  intervalMs: number;
  /** Process that writes the file, and its start time: tells a crashed writer from a live one. */
  writerPid: number;
  writerStartTime: number;
  memTotalBytes: number;
  hostname: string;
}

export interface SampleChunk {
  t: 'S';
  n: number;
  c: (number | null)[][];
  /**
   * PSS bytes per sample (version 3), delta-coded like a column; absent when no sample of the
   * chunk has a reading (PSS is read every pssIntervalMs, and not at all by default for the
   * sampler's own process): most chunks then cost nothing for it.
   */
  p?: (number | null)[];
}

export type SessionRecord =
  | SessionHeader
  | SampleChunk
  | ({ t: 'T'; id: string; parentId?: string } & PhaseSummary)
  | ({ t: 'E' } & SessionError)
  | { t: 'G'; names: string[] }
  | { t: 'Z'; summary: SessionSummary };

/** Stored columns: record offset, scale to an integer (0: store the float as is), delta-coded. */
const COLUMNS: readonly [offset: number, scale: number, delta: boolean][] = [
  [R.SEQ, 1, true],
  [R.STATUS, 1, false],
  [R.LAG_US, 1, false],
  [R.PROCESSES, 1, false],
  [R.ROW + F.timestamp, 1e3, true], // µs
  [R.ROW + F.cpuUserUs, 1, true],
  [R.ROW + F.cpuSystemUs, 1, true],
  [R.ROW + F.cpuPercent, 100, true], // 0.01 %
  [R.ROW + F.rssBytes, 1, true],
  [R.ROW + F.vmsBytes, 1, true],
  [R.ROW + F.openFds, 1, true],
  [R.ROW + F.threads, 1, true],
  [R.ROW + F.voluntaryContextSwitches, 1, true],
  [R.ROW + F.involuntaryContextSwitches, 1, true],
  [R.ROW + F.minorPageFaults, 1, true],
  [R.ROW + F.majorPageFaults, 1, true],
  // Constant for one process, but a tree excluding its root is named after its first member.
  [R.ROW + F.pid, 1, true],
  [R.ROW + F.startTime, 1e3, true], // µs
];

/** Columns every chunk stores before its gauge columns. */
export const STORED_COLUMNS = COLUMNS.length;

/** One stored column of `count` records: NaN as null, quantized by `scale`, delta-coded if `delta`. */
function encodeColumn(rec: Float64Array, stride: number, from: number, count: number, off: number, scale: number, delta: boolean): (number | null)[] {
  const col: (number | null)[] = new Array(count);
  let prev = NaN;
  for (let i = 0; i < count; i++) {
    const v = rec[(from + i) * stride + off]!;
    if (Number.isNaN(v)) {
      col[i] = null;
      continue;
    }
    const q = Math.round(v * scale);
    col[i] = delta && !Number.isNaN(prev) ? q - prev : q;
    prev = q;
  }
  return col;
}

/** The inverse of encodeColumn, into `out` at record index `at`; nulls and missing cells stay as they are. */
function decodeColumn(col: readonly (number | null | undefined)[], n: number, out: Float64Array, stride: number, at: number, off: number, scale: number, delta: boolean): void {
  let prev = NaN;
  for (let i = 0; i < n; i++) {
    const v = col[i];
    if (v === null || v === undefined) continue;
    const q = delta && !Number.isNaN(prev) ? prev + v : v;
    prev = q;
    out[(at + i) * stride + off] = q / scale;
  }
}

/** Encode `count` ring records (oldest first) starting at record index `from`. Gauges are stored raw. */
export function encodeChunk(rec: Float64Array, stride: number, from: number, count: number): SampleChunk {
  const gauges = stride - R.GAUGES;
  const cols: (number | null)[][] = [];
  for (const [off, scale, delta] of COLUMNS) cols.push(encodeColumn(rec, stride, from, count, off, scale, delta));
  for (let g = 0; g < gauges; g++) {
    const col: (number | null)[] = new Array(count);
    for (let i = 0; i < count; i++) {
      const v = rec[(from + i) * stride + R.GAUGES + g]!;
      col[i] = Number.isNaN(v) ? null : v;
    }
    cols.push(col);
  }
  const pss = encodeColumn(rec, stride, from, count, R.PSS_BYTES, 1, true);
  return { t: 'S', n: count, c: cols, ...(pss.some((v) => v !== null) ? { p: pss } : {}) };
}

/**
 * Decode a chunk into `out` at record index `at` (ring record layout, `stride` doubles); the
 * header supplies pid, startTime and memTotal. Returns the number of records written.
 */
export function decodeChunk(chunk: SampleChunk, header: SessionHeader, out: Float64Array, stride: number, at: number): number {
  const n = chunk.n;
  out.fill(NaN, at * stride, (at + n) * stride);
  COLUMNS.forEach(([off, scale, delta], c) => decodeColumn(chunk.c[c] ?? [], n, out, stride, at, off, scale, delta));
  if (chunk.p) decodeColumn(chunk.p, n, out, stride, at, R.PSS_BYTES, 1, true);
  for (let g = 0; R.GAUGES + g < stride && COLUMNS.length + g < chunk.c.length; g++) {
    const col = chunk.c[COLUMNS.length + g]!;
    for (let i = 0; i < n; i++) out[(at + i) * stride + R.GAUGES + g] = col[i] ?? NaN;
  }
  for (let i = 0; i < n; i++) {
    const base = (at + i) * stride + R.ROW;
    out[base + F.memoryPercent] = (out[base + F.rssBytes]! / header.memTotalBytes) * 100;
  }
  return n;
}

/** Bytes of the checksum that follows each record of a v2 file: a msgpack uint32. */
export const CHECKSUM_BYTES = 5;

/**
 * The CRC-32 (zlib's, the polynomial of gzip and PNG) of `bytes`. node:zlib has it since Node
 * 20.15 and 22.2, below the engines field's 20.19: no table of our own to get wrong.
 */
export function checksumOf(bytes: Uint8Array): number {
  return crc32(bytes);
}

/**
 * `bytes` followed by its checksum. Always the 5-byte uint32 form (msgpackr would pick a shorter
 * one for a small value), so a record's framing does not depend on its CRC. One buffer, so one
 * write: a torn write loses the record and its checksum together.
 */
export function withChecksum(bytes: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(bytes.length + CHECKSUM_BYTES);
  out.set(bytes, 0);
  out[bytes.length] = 0xce;
  out.writeUInt32BE(checksumOf(bytes), bytes.length + 1);
  return out;
}

/**
 * The bytes of one record as the writer worker appends them: the record, then its checksum.
 * `packr` is the file's sequential Packr; its pack() returns a view of a buffer it reuses,
 * copied here at once.
 */
export function encodeRecord(packr: { pack(v: unknown): Uint8Array }, record: SessionRecord): Uint8Array {
  return withChecksum(packr.pack(record));
}

export function isHeader(v: unknown): v is SessionHeader {
  return typeof v === 'object' && v !== null && (v as SessionHeader).t === 'H' && (v as SessionHeader).format === SESSION_FORMAT;
}
