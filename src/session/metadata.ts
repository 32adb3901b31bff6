/**
 * A session's metadata, checked where the caller hands it over (startSession): it goes into the
 * history file's header (msgpack), every export (JSON, CSV, the HTML report) and the worker that
 * writes the file (structured clone), so it must survive all three. Found too late, a value that
 * one of them cannot carry used to lose the session silently (a circular object, a BigInt past
 * 2^64: a 0-byte file and a "saved" session) or throw an untyped DataCloneError (a function).
 * Hence JSON-like values only, checked whole before anything is written, with the offending key
 * named; the check returns a deep copy, so a caller changing the object later changes nothing.
 */
import { pack } from 'msgpackr';
import { InvalidOptionError } from '../errors.js';

/** Nesting deeper than this is refused (a structure, not data; and it bounds the recursion). */
export const MAX_METADATA_DEPTH = 32;
/** Encoded size bound: the header is rewritten into every export and read at every load. */
export const MAX_METADATA_BYTES = 64 * 1024;

const JSON_LIKE = 'JSON-like: a string, a number, a boolean, null, an array or a plain object';

function isPlain(v: object): boolean {
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** A checked deep copy of `v` at `path`; `seen` holds the objects on the way down (cycles). */
function copy(v: unknown, path: string, seen: Map<object, string>): unknown {
  if (v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
  // A bigint: msgpack writes it as an int64 (or fails past 2^64) and reads it back as a bigint,
  // which JSON.stringify then throws on: every export would fail. A string keeps it.
  if (typeof v === 'bigint') throw new InvalidOptionError(path, `${JSON_LIKE} (a bigint: store it as a string)`, v);
  if (typeof v !== 'object') throw new InvalidOptionError(path, JSON_LIKE, v);
  const earlier = seen.get(v);
  if (earlier !== undefined) throw new InvalidOptionError(path, `free of cycles (this refers back to ${earlier})`, v);
  if (seen.size >= MAX_METADATA_DEPTH) throw new InvalidOptionError(path, `nested at most ${MAX_METADATA_DEPTH} deep`, v);
  if (!Array.isArray(v) && !isPlain(v)) throw new InvalidOptionError(path, JSON_LIKE, v);
  seen.set(v, path);
  let out: unknown;
  if (Array.isArray(v)) {
    out = v.map((item, i) => copy(item, `${path}[${i}]`, seen));
  } else {
    const o: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(v)) {
      if (value === undefined) continue; // as JSON: an absent key
      o[key] = copy(value, `${path}.${key}`, seen);
    }
    out = o;
  }
  seen.delete(v); // the same object twice side by side is not a cycle
  return out;
}

/**
 * The metadata to store, or an InvalidOptionError naming the offending key
 * (`metadata.build.hook must be JSON-like: ..., got a function`).
 */
export function checkMetadata(name: string, value: unknown): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value) || !isPlain(value)) {
    throw new InvalidOptionError(name, 'a plain object', value);
  }
  const out = copy(value, name, new Map()) as Record<string, unknown>;
  const bytes = pack(out).length;
  if (bytes > MAX_METADATA_BYTES) throw new InvalidOptionError(name, `at most ${MAX_METADATA_BYTES} bytes when encoded (this is ${bytes})`, value);
  return out;
}
