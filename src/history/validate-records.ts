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
import type { TreeProcess } from '../sampler/processes.js';
import type { NodeGc, NodeListen, NodeLoop, NodeMilestones, NodeModule, NodeProcess, NodeProfile } from '../node-hooks/types.js';
import type { FigureSource, PhaseSummary, ResourceDelta, SamplerAccount, SessionError, SessionSummary, TreeAccount } from '../session/types.js';
import type { CgroupCounters } from '../cgroup/tree-cgroup.js';
import { MAX_CHUNK_SAMPLES, MAX_STORED_GAUGES, PSS_FORMAT_VERSION, SESSION_FORMAT, STORED_COLUMNS, type SessionHeader } from './format.js';

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
/**
 * Metadata is the user's: any plain object, whose values the exports and the report cope with,
 * as long as it is a tree. msgpackr's structured-clone extensions (0x69 id, 0x70 pointer) decode
 * for any Unpackr, so a file can make a value refer back to an object that contains it (and
 * JSON.stringify in `show --json`, every export and the report throws), or name one object many
 * times (and 40 levels of [x, x] print as 2^40 leaves). Each object is visited once, so the walk
 * is linear in what was decoded.
 */
function treeProblem(root: unknown): Problem {
  const seen = new Set<object>();
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v !== 'object' || v === null || ArrayBuffer.isView(v)) continue;
    if (seen.has(v)) return 'an object that appears twice in it (a shared or circular reference)';
    seen.add(v);
    if (v instanceof Map) for (const [k, x] of v) stack.push(k, x);
    else if (v instanceof Set) for (const x of v) stack.push(x);
    else for (const x of Object.values(v)) stack.push(x);
  }
  return null;
}
const metadata: Check = (v) => (isPlainObject(v) ? treeProblem(v) : `${describe(v)}, expected an object`);

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

/**
 * An object with a checked value for every field of T. `strict`: a key that is not a field of T
 * is a problem too (see STRICT below).
 */
function shape<T>(fields: Shape<T>, strict: boolean): Check {
  const entries = Object.entries(fields) as [string, Check][];
  return (v) => {
    if (!isPlainObject(v)) return `${describe(v)}, expected an object`;
    for (const [key, check] of entries) {
      const p = check(v[key]);
      if (p) return at(`.${key}`, p);
    }
    if (strict) for (const key of Object.keys(v)) if (!Object.hasOwn(fields, key)) return `.${key}: not a field of this record`;
    return null;
  };
}

const numOrNull = is((v) => v === null || typeof v === 'number', 'a number or null');
const strOrNull = is((v) => v === null || typeof v === 'string', 'a string or null');
const NODE_KINDS = ['esm', 'commonjs', 'builtin', 'json', 'addon', 'wasm'];

/** What a run's node hooks reported (node-hooks/types.ts). */
function nodeProfile(strict: boolean): Check {
  const milestones = shape<NodeMilestones>({ timeOrigin: num, nodeStart: numOrNull, v8Start: numOrNull, environment: numOrNull, bootstrapComplete: numOrNull, loopStart: numOrNull }, strict);
  const proc = shape<NodeProcess>({ pid, ppid: num, nodeVersion: str, milestones: (v) => (v === null ? null : milestones(v)) }, strict);
  const mod = shape<NodeModule>({
    pid, path: str, kind: is((v) => NODE_KINDS.includes(v as string), `one of ${NODE_KINDS.join(', ')}`), parent: strOrNull,
    startTime: num, selfMs: num, totalMs: num, loadMs: numOrNull, failed: bool,
  }, strict);
  const listen = shape<NodeListen>({ pid, atMs: num, bindStartMs: num, port: numOrNull, address: str, family: strOrNull }, strict);
  const gc = shape<NodeGc>({ pid, kind: str, startTime: num, durationMs: num }, strict);
  const loop = shape<NodeLoop>({ pid, at: is((v) => v === 'listen' || v === 'exit', "'listen' or 'exit'"), atMs: num, idleMs: num, activeMs: num }, strict);
  return shape<NodeProfile>({ processes: arrayOf(proc), modules: arrayOf(mod), listen: (v) => (v === null ? null : listen(v)), gc: arrayOf(gc), loop: arrayOf(loop), dropped: num }, strict);
}

/** A session's tree account (session/tree-sources.ts): its cgroup's counters and each figure's source. */
function treeAccount(strict: boolean): Check {
  const hierarchy = is((v) => v === null || v === 'v1' || v === 'v2', '"v1", "v2" or null');
  const cgroup = shape<CgroupCounters>({
    cpuUs: num, userUs: num, systemUs: num, memoryPeakBytes: num, pidsPeak: num,
    from: shape<CgroupCounters['from']>({ cpu: hierarchy, memory: hierarchy, pids: hierarchy }, strict),
  }, strict);
  const source = shape<FigureSource>({ from: is((v) => v === 'cgroup' || v === 'wait4' || v === 'samples', 'cgroup, wait4 or samples'), exact: bool }, strict);
  return shape<TreeAccount>({
    cgroup: (v) => (v === null ? null : cgroup(v)),
    sources: shape<TreeAccount['sources']>({ cpu: source, pageFaults: source, contextSwitches: source, memoryPeak: source, processesPeak: source, rss: source, pss: source }, strict),
  }, strict);
}

/** The checks of one format version's records; `strict`: no unknown keys (see STRICT); `pss`: chunks may carry `p`. */
function schemas(strict: boolean, pss = false) {
  const resources = shape<ResourceDelta>({
    fromTimestamp: num, toTimestamp: num, samples: num, cpuMs: num, cpuPercent: num,
    rssStartBytes: num, rssEndBytes: num, rssPeakBytes: num, rssDeltaBytes: num, pssPeakBytes: optional(num),
    fdsStart: num, fdsEnd: num, fdsPeak: num, threadsStart: num, threadsEnd: num, threadsPeak: num,
    voluntaryContextSwitches: num, involuntaryContextSwitches: num, minorPageFaults: num, majorPageFaults: num,
  }, strict);
  const phase: Shape<PhaseSummary> = {
    name: str,
    startOffsetMs: finite,
    durationMs: finite,
    success: bool,
    errorMessage: optional(str),
    resources: optional(resources),
  };
  const error: Shape<SessionError> = { timestamp: finite, message: str, operation: optional(str) };
  const process = shape<TreeProcess>({
    pid, ppid: num, command: str, startTime: num, adoptedAt: num,
    endTime: is((v) => v === null || typeof v === 'number', 'a number or null'),
    cpuMs: num, peakRssBytes: num, peakThreads: num,
    // Optional: sessions saved before exit statuses were recorded lack them (unknown, as null).
    exitCode: optional(is((v) => v === null || (Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 255), 'an exit code 0..255 or null')),
    signal: optional(is((v) => v === null || typeof v === 'string', 'a signal name or null')),
  }, strict);
  const sampler = shape<SamplerAccount>({
    cpuMs: num, wallMs: num, corePercent: num, intervalMs: positive, targetHz: num, achievedHz: num,
    records: num, missedDeadlines: num, missedPercent: num,
  }, strict);
  const summary = shape<SessionSummary>({
    id: str,
    startTime: finite,
    endTime: num,
    durationMs: num,
    success: bool,
    incomplete: bool,
    metadata,
    phases: arrayOf(shape(phase, strict)),
    errors: arrayOf(shape(error, strict)),
    resources: optional(resources),
    processes: optional(arrayOf(process)),
    processesDropped: optional(num),
    sampler: optional(sampler),
    node: optional(nodeProfile(strict)),
    tree: optional(treeAccount(strict)),
  }, strict);
  const header = (v: number): Check => shape<SessionHeader>({
    t: literal('H'), format: literal(SESSION_FORMAT), v: literal(v), id: str, startTime: finite, metadata,
    pid, processStartTime: num, tree: bool, intervalMs: positive, writerPid: pid, writerStartTime: num,
    memTotalBytes: positive, hostname: str,
  }, strict);
  const body: Record<string, Check> = {
    S: (r) => chunk(r as Record<string, unknown>, strict, pss),
    T: shape({ ...phase, t: literal('T'), id: str, parentId: optional(str) }, strict),
    E: shape({ ...error, t: literal('E') }, strict),
    G: shape({ t: literal('G'), names: arrayOf(str, MAX_STORED_GAUGES) }, strict),
    Z: shape({ t: literal('Z'), summary }, strict),
  };
  return { summary, header, body };
}

/** A sample chunk: n rows, the stored columns then gauge columns, each exactly n values (encodeChunk). */
function chunk(r: Record<string, unknown>, strict: boolean, pss: boolean): Problem {
  const n = r.n;
  if (!Number.isInteger(n) || (n as number) < 0 || (n as number) > MAX_CHUNK_SAMPLES) return `.n: ${describe(n)}, expected 0..${MAX_CHUNK_SAMPLES} samples`;
  const cell = is((v) => v === null || typeof v === 'number', 'a number or null');
  const columns = arrayOf(arrayOf(cell, Infinity, n as number), STORED_COLUMNS + MAX_STORED_GAUGES);
  const p = columns(r.c);
  if (p) return at('.c', p);
  if ((r.c as unknown[]).length < STORED_COLUMNS) return `.c: ${(r.c as unknown[]).length} columns, expected at least ${STORED_COLUMNS}`;
  const q = pss && r.p !== undefined ? arrayOf(cell, Infinity, n as number)(r.p) : null;
  if (q) return at('.p', q);
  const extra = strict ? Object.keys(r).find((k) => k !== 't' && k !== 'n' && k !== 'c' && !(pss && k === 'p')) : undefined;
  return extra === undefined ? null : `.${extra}: not a field of this record`;
}

/**
 * Version 1 is read as it always was: a record may carry keys beyond its fields. STRICT: version 2
 * refuses them, because of how msgpackr's sequential records work: a record structure (its list
 * of keys) is defined inline by the first record of that shape, and later records of the same
 * shape carry only the values and the structure's id. Their checksums cover their own bytes, so
 * a bit flip in a key of the defining record fails that record's checksum only; the later ones
 * still pass theirs, and decode with the damaged key. The damaged name is then not a field (a
 * required field goes missing as well, unless the key was an optional one, as `resources` or
 * `errorMessage`): refusing unknown keys makes such a record a warning instead of a record that
 * silently lost its resources. A flip in the structure's id defines it under another id: the
 * records that refer to that one decode with this record's keys (refused here), and those that
 * refer to the intended one find nothing (msgpackr then reads the reference as a small number and
 * the record's values as loose values, which the checksum pairing refuses). Every single-bit flip
 * of a real file is tried in test/history.checksum.test.ts: none changes a session silently.
 */
const V1 = schemas(false);
const V2 = schemas(true);
const V3 = schemas(true, true);

type Schemas = ReturnType<typeof schemas>;

interface Version {
  header: Check;
  record(r: Record<string, unknown>, header: SessionHeader): Problem;
  /** Every record is followed by its checksum (format.ts, checked in parse.ts). */
  checksums: boolean;
}

function version(v: number, s: Schemas, checksums: boolean): Version {
  return {
    header: s.header(v),
    checksums,
    record(r, header) {
      const check = typeof r.t === 'string' && Object.hasOwn(s.body, r.t) ? s.body[r.t] : undefined;
      if (!check) return `.t: ${describe(r.t)}, not a record type of format version ${v}`;
      const p = check(r);
      if (p) return p;
      // An end record of another session (a block copied from another file) is damage too.
      const summary = r.t === 'Z' ? (r.summary as SessionSummary) : null;
      return summary && summary.id !== header.id ? `.summary.id: ${describe(summary.id)}, expected this session's id` : null;
    },
  };
}

/** Record checks of every format version this loader reads. */
const VERSIONS: Record<number, Version> = {
  1: version(1, V1, false),
  2: version(2, V2, true),
  [PSS_FORMAT_VERSION]: version(PSS_FORMAT_VERSION, V3, true),
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

/** Does the header's (checked) version follow every record with its checksum? */
export function hasChecksums(header: SessionHeader): boolean {
  return VERSIONS[header.v]!.checksums;
}

/**
 * An index entry: the SessionSummary of session `id`. Index entries carry no version of their
 * own: they are the summary of a session file's end record, read as version 1 reads it (keys
 * beyond its fields allowed), so an entry written by a newer procprobe with a field more still
 * lists. Damage to an entry is its checksum's business (parse.ts, decodeIndexEntry).
 */
export function indexEntryProblem(v: unknown, id: string): Problem {
  const p = V1.summary(v);
  if (p) return `not a session summary (${p.replace(/^\./, '')})`;
  return (v as SessionSummary).id === id ? null : `the summary of another session (${describe((v as SessionSummary).id)})`;
}
