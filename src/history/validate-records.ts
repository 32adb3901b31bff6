/**
 * The shapes of everything the history loader reads from disk, by format version: session file
 * records (format.ts) and index entries (a SessionSummary). The one place that knows them; the
 * loader hands a record on only when its check returns null, and skips it (with the check's
 * reason in the warning) otherwise.
 *
 * Why by hand: what msgpackr decodes from a damaged file is any value of any type where a number
 * should be (a bit flip turns a float marker into a string marker, a map into an array, an int
 * into a bigint), and the consumers (exports, report, stats) trust the types. A few checker
 * combinators cover it, and `Shape<T>` makes the compiler insist that every field of the type
 * has a checker: a field added to SessionSummary fails the build until it is checked here.
 */
import type { PhaseSummary, ResourceDelta, SessionError, SessionSummary } from '../session/types.js';
import { MAX_CHUNK_SAMPLES, MAX_STORED_GAUGES, SESSION_FORMAT, STORED_COLUMNS, type SessionHeader } from './format.js';

/** What is wrong, in a few words; null when the value fits. */
export type Problem = string | null;
type Check = (v: unknown) => Problem;
/** A checker for every field of T, optional fields included (`-?`). */
type Shape<T> = { readonly [K in keyof T]-?: Check };

function describe(v: unknown): string {
  if (v === undefined) return 'missing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (v instanceof Map) return 'a map';
  if (typeof v === 'object') return Object.getPrototypeOf(v) === Object.prototype ? 'an object' : `a ${v.constructor?.name ?? 'foreign'} object`;
  if (typeof v === 'string') return v.length > 20 ? 'a string' : JSON.stringify(v);
  return typeof v === 'number' || typeof v === 'boolean' ? String(v) : `a ${typeof v}`;
}

const is = (test: (v: unknown) => boolean, expected: string): Check => (v) => (test(v) ? null : `${describe(v)}, expected ${expected}`);

/** msgpackr builds maps and records as object literals: anything else (a Map, a Date, a typed array) is not one of ours. */
const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && Object.getPrototypeOf(v) === Object.prototype;

// NaN is allowed where a producer writes it (a figure that was not measured); finite where the
// loader and consumers compute with the value (start times, offsets).
const num = is((v) => typeof v === 'number', 'a number');
const finite = is((v) => typeof v === 'number' && Number.isFinite(v), 'a finite number');
const positive = is((v) => typeof v === 'number' && Number.isFinite(v) && v > 0, 'a positive number');
const pid = is((v) => Number.isInteger(v) && (v as number) > 0 && (v as number) <= 0x7fffffff, 'a pid');
const str = is((v) => typeof v === 'string', 'a string');
const bool = is((v) => typeof v === 'boolean', 'a boolean');
const literal = (want: string | number): Check => is((v) => v === want, JSON.stringify(want));
/** Metadata is the user's: any plain object; exports and the report cope with any value inside. */
const object = is(isPlainObject, 'an object');

/** `.a` + `.b: 3, expected...` is `.a.b: 3, expected...`: one path per problem. */
const at = (step: string, p: string): string => (p.startsWith('.') || p.startsWith('[') ? `${step}${p}` : `${step}: ${p}`);

function optional(check: Check): Check {
  return (v) => (v === undefined ? null : check(v));
}

function arrayOf(check: Check, maxItems = Infinity, exactItems?: number): Check {
  return (v) => {
    if (!Array.isArray(v)) return `${describe(v)}, expected an array`;
    if (v.length > maxItems) return `${v.length} items, at most ${maxItems}`;
    if (exactItems !== undefined && v.length !== exactItems) return `${v.length} items, expected ${exactItems}`;
    for (let i = 0; i < v.length; i++) {
      const p = check(v[i]);
      if (p) return at(`[${i}]`, p);
    }
    return null;
  };
}

function shape<T>(fields: Shape<T>): Check {
  const entries = Object.entries(fields) as [string, Check][];
  return (v) => {
    if (!isPlainObject(v)) return `${describe(v)}, expected an object`;
    for (const [key, check] of entries) {
      const p = check(v[key]);
      if (p) return at(`.${key}`, p);
    }
    return null;
  };
}

const resourceDelta = shape<ResourceDelta>({
  fromTimestamp: num, toTimestamp: num, samples: num, cpuMs: num, cpuPercent: num,
  rssStartBytes: num, rssEndBytes: num, rssPeakBytes: num, rssDeltaBytes: num,
  fdsStart: num, fdsEnd: num, fdsPeak: num, threadsStart: num, threadsEnd: num, threadsPeak: num,
  voluntaryContextSwitches: num, involuntaryContextSwitches: num, minorPageFaults: num, majorPageFaults: num,
});

const phaseFields: Shape<PhaseSummary> = {
  name: str,
  startOffsetMs: finite,
  durationMs: finite,
  success: bool,
  errorMessage: optional(str),
  resources: optional(resourceDelta),
};

const sessionErrorFields: Shape<SessionError> = { timestamp: finite, message: str, operation: optional(str) };

const sessionSummary = shape<SessionSummary>({
  id: str,
  startTime: finite,
  endTime: num,
  durationMs: num,
  success: bool,
  incomplete: bool,
  metadata: object,
  phases: arrayOf(shape(phaseFields)),
  errors: arrayOf(shape(sessionErrorFields)),
  resources: optional(resourceDelta),
});

const headerV1 = shape<SessionHeader>({
  t: literal('H'), format: literal(SESSION_FORMAT), v: literal(1), id: str, startTime: finite, metadata: object,
  pid, processStartTime: num, tree: bool, intervalMs: positive, writerPid: pid, writerStartTime: num,
  memTotalBytes: positive, hostname: str,
});

/** A sample chunk: n rows, the stored columns then gauge columns, each exactly n values (encodeChunk). */
function chunkV1(r: Record<string, unknown>): Problem {
  const n = r.n;
  if (!Number.isInteger(n) || (n as number) < 0 || (n as number) > MAX_CHUNK_SAMPLES) return `.n: ${describe(n)}, expected 0..${MAX_CHUNK_SAMPLES} samples`;
  const cell = is((v) => v === null || typeof v === 'number', 'a number or null');
  const columns = arrayOf(arrayOf(cell, Infinity, n as number), STORED_COLUMNS + MAX_STORED_GAUGES);
  const p = columns(r.c);
  if (p) return at('.c', p);
  return (r.c as unknown[]).length < STORED_COLUMNS ? `.c: ${(r.c as unknown[]).length} columns, expected at least ${STORED_COLUMNS}` : null;
}

const bodyV1: Record<string, Check> = {
  T: shape({ ...phaseFields, id: str, parentId: optional(str) }),
  E: shape(sessionErrorFields),
  G: shape({ names: arrayOf(str, MAX_STORED_GAUGES) }),
  Z: shape({ summary: sessionSummary }),
};

/** Record checks of every format version this loader reads. */
const VERSIONS: Record<number, { header: Check; record(r: Record<string, unknown>, header: SessionHeader): Problem }> = {
  1: {
    header: headerV1,
    record(r, header) {
      if (r.t === 'S') return chunkV1(r);
      const check = typeof r.t === 'string' ? bodyV1[r.t] : undefined;
      if (!check) return `.t: ${describe(r.t)}, not a record type of format version 1`;
      const p = check(r);
      if (p) return p;
      // An end record of another session (a block copied from another file) is damage too.
      const summary = r.t === 'Z' ? (r.summary as SessionSummary) : null;
      return summary && summary.id !== header.id ? `.summary.id: ${describe(summary.id)}, expected this session's id` : null;
    },
  },
};

export const SUPPORTED_VERSIONS: readonly number[] = Object.keys(VERSIONS).map(Number);

/** A decoder's message in a warning: msgpackr's can quote the whole value it read. */
export function briefly(message: string): string {
  return message.length > 160 ? `${message.slice(0, 160)}…` : message;
}

/** Is the header's format version one this loader reads, and the header whole? */
export function headerProblem(h: { v?: unknown }): Problem {
  const version = typeof h.v === 'number' ? VERSIONS[h.v] : undefined;
  if (!version) return `format version ${describe(h.v)} is not one this procprobe reads (${SUPPORTED_VERSIONS.join(', ')})`;
  const p = version.header(h);
  return p ? `damaged header: ${p}` : null;
}

/** A record after the header, against the schema of the header's (checked) version. */
export function recordProblem(r: unknown, header: SessionHeader): Problem {
  if (!isPlainObject(r)) return `${describe(r)}, expected a record`;
  return VERSIONS[header.v]!.record(r, header);
}

/**
 * An index entry: the SessionSummary of session `id`. Index entries carry no version of their
 * own: they are the v1 summary, the same schema as a session file's end record.
 */
export function indexEntryProblem(v: unknown, id: string): Problem {
  const p = sessionSummary(v);
  if (p) return `not a session summary (${p.replace(/^\./, '')})`;
  return (v as SessionSummary).id === id ? null : `the summary of another session (${describe((v as SessionSummary).id)})`;
}
