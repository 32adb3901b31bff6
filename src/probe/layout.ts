/**
 * The one place that defines a sample row: the order of the Float64 fields the native probe, the
 * fallback tiers and the ring all use. native/probe.h declares the same order (struct pp_sample);
 * the loader refuses an addon whose exported field list differs.
 */
import { InvalidOptionError } from '../errors.js';

export const FIELDS = [
  'pid',
  'timestamp',
  'cpuUserUs',
  'cpuSystemUs',
  'cpuPercent',
  'rssBytes',
  'vmsBytes',
  'memoryPercent',
  'openFds',
  'threads',
  'voluntaryContextSwitches',
  'involuntaryContextSwitches',
  'minorPageFaults',
  'majorPageFaults',
  'startTime',
] as const;

export type SampleField = (typeof FIELDS)[number];

/** Number of Float64 slots in one sample row. */
export const FIELD_COUNT = FIELDS.length;

/** Index of each field in a row, e.g. `row[offset + F.rssBytes]`. */
export const F = Object.freeze(
  Object.fromEntries(FIELDS.map((name, i) => [name, i])) as { readonly [K in SampleField]: number },
);

/** Row layout version the addon must report (PP_ABI_VERSION in native/probe.h). */
export const ABI_VERSION = 3;

/**
 * The reaped-children totals Probe.childrenInto writes (struct pp_children in native/probe.h):
 * what the children a process waited for used, they and their waited-for descendants.
 */
export const CHILDREN = Object.freeze({ cpuUserUs: 0, cpuSystemUs: 1, minorPageFaults: 2, majorPageFaults: 3 } as const);
export const CHILDREN_COUNT = 4;

/**
 * What sampleInto returns (pp_status in native/probe.h). Only OK and ZOMBIE fill the row; ZOMBIE
 * fills CPU times, page faults and start time and leaves the rest NaN.
 */
export const ProbeStatus = Object.freeze({
  OK: 0,
  NOT_FOUND: 1,
  ACCESS_DENIED: 2,
  EXITED: 3,
  ZOMBIE: 4,
  IO_ERROR: 5,
  UNSUPPORTED: 6,
  NO_MEMORY: 7,
} as const);

export type ProbeStatus = (typeof ProbeStatus)[keyof typeof ProbeStatus];

/**
 * One reading of one process. Units are in the names; cumulative counters count since the process
 * started. A field the backend cannot read is `NaN`, never a made-up 0.
 */
export interface ProcessSample {
  pid: number;
  /** ms since the Unix epoch, with a sub-ms fraction. */
  timestamp: number;
  cpuUserUs: number;
  cpuSystemUs: number;
  /** 100 = one core, over the time since this probe's previous sample (first: since process start). */
  cpuPercent: number;
  rssBytes: number;
  vmsBytes: number;
  /** RSS as a percentage of total physical memory. */
  memoryPercent: number;
  openFds: number;
  threads: number;
  voluntaryContextSwitches: number;
  involuntaryContextSwitches: number;
  minorPageFaults: number;
  majorPageFaults: number;
  /** Process start, ms since the Unix epoch. */
  startTime: number;
}

/**
 * The typed error for a sampleInto (or rowToSample) call whose row cannot take a sample at offset, or null when it
 * can. The native tier checks the same in C++ (a TypeError or RangeError with our code): its
 * probe asks this only after such a throw, so the hot path pays nothing for a typed error.
 */
export function rowError(row: unknown, offset: unknown): InvalidOptionError | null {
  if (!(row instanceof Float64Array)) return new InvalidOptionError('row', 'a Float64Array', row);
  if (row.length < FIELD_COUNT) return new InvalidOptionError('row', `a Float64Array of at least ${FIELD_COUNT} elements (FIELD_COUNT)`, row);
  const max = row.length - FIELD_COUNT;
  if (typeof offset !== 'number' || !Number.isInteger(offset) || offset < 0 || offset > max) {
    return new InvalidOptionError('offset', `an integer from 0 to ${max} (room for ${FIELD_COUNT} fields in a row of ${row.length})`, offset);
  }
  return null;
}

/** Why `out` cannot take the reaped-children totals (childrenInto), or null when it can. */
export function childrenError(out: unknown): InvalidOptionError | null {
  if (out instanceof Float64Array && out.length >= CHILDREN_COUNT) return null;
  return new InvalidOptionError('out', `a Float64Array of at least ${CHILDREN_COUNT} elements (CHILDREN_COUNT)`, out);
}

/** Read one row into a new object (allocates: not for the hot path). */
export function rowToSample(row: Float64Array, offset = 0): ProcessSample {
  const bad = rowError(row, offset);
  if (bad) throw bad;
  const sample = {} as ProcessSample;
  for (let i = 0; i < FIELD_COUNT; i++) sample[FIELDS[i]!] = row[offset + i]!;
  return sample;
}
