/** Option checks shared by every public entry point (each throws InvalidOptionError naming the option), and the defaults more than one room applies. */
import { InvalidOptionError } from './errors.js';

export function checkObject(name: string, value: unknown): Record<string, unknown> {
  if (value === undefined) return {};
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new InvalidOptionError(name, 'an object', value);
  }
  return value as Record<string, unknown>;
}

/**
 * Every key of an options interface, as a runtime list. Written as a record so that the compiler
 * holds it to the interface: a key missing from the record, or one the interface lacks, is a type
 * error, and the list cannot drift from the type it checks.
 */
export function optionKeys<T extends object>(keys: { readonly [K in keyof Required<T>]: true }): readonly string[] {
  return Object.freeze(Object.keys(keys));
}

/**
 * checkObject, and every own key one of `keys`: a misspelt option is not silently ignored (its
 * default would apply and the caller would never know). The error names the key, with the
 * closest known name when there is one, else all of them: `options.samplingIntervallMs must be an
 * option of RealTimeMonitor (did you mean samplingIntervalMs?), got 1`.
 */
export function checkOptions(name: string, value: unknown, keys: readonly string[], owner: string): Record<string, unknown> {
  const o = checkObject(name, value);
  for (const key of Object.keys(o)) {
    if (keys.includes(key)) continue;
    const near = closestName(key, keys);
    const hint = near !== undefined ? `did you mean ${near}?` : keys.length > 0 ? `one of ${keys.join(', ')}` : 'it takes none';
    throw new InvalidOptionError(`${name}.${key}`, `an option of ${owner} (${hint})`, o[key]);
  }
  return o;
}

/** The entries of `o` named in `keys` (those present), e.g. the Sampler's share of a monitor's options. */
export function pickOptions(o: Record<string, unknown>, keys: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of keys) if (k in o) out[k] = o[k];
  return out;
}

/**
 * The name in `known` closest to `name`, or undefined when none is close: the edit distance over
 * the names lowercased without '_', '-' and '$' (so `cpu_percent` finds cpuPercent and
 * `eventLoopDelayMs` finds the gauge `$eventLoopDelayMs`), at most a quarter of the longer name's
 * length (`pidd` -> pid, `cpuPercnt` -> cpuPercent; `tid` is not taken for pid).
 */
export function closestName(name: string, known: readonly string[]): string | undefined {
  const norm = (s: string): string => s.toLowerCase().replace(/[_$-]/g, '');
  const a = norm(name);
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const k of known) {
    const d = editDistance(a, norm(k));
    if (d < bestDistance && d <= Math.floor(Math.max(name.length, k.length) / 4)) {
      best = k;
      bestDistance = d;
    }
  }
  return best;
}

/**
 * Edit distance counting an insertion, a deletion, a substitution or a swap of two neighbours as
 * one edit (optimal string alignment): `lable` is one edit from label, as a typist sees it.
 */
function editDistance(a: string, b: string): number {
  let before: number[] = [];
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      let d = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, before[j - 2]! + 1);
      row[j] = d;
    }
    before = prev;
    prev = row;
  }
  return prev[b.length]!;
}

export function checkString(name: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0) throw new InvalidOptionError(name, 'a non-empty string', value);
  return value;
}

/** A string or undefined (an optional text argument: an error message, an operation name). */
export function checkOptionalString(name: string, value: unknown): string | undefined {
  if (value !== undefined && typeof value !== 'string') throw new InvalidOptionError(name, 'a string or undefined', value);
  return value;
}

/** A file system path: a non-empty string without NUL (which the OS would refuse, or cut the path at). */
export function checkPath(name: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0 || value.includes('\0')) {
    throw new InvalidOptionError(name, 'a non-empty path without NUL', value);
  }
  return value;
}

/** undefined, or an object whose prototype is Object.prototype or null (not an array, a Map, a class instance). */
export function checkPlainObject(name: string, value: unknown): Record<string, unknown> | undefined {
  if (value === undefined) return undefined;
  const proto = value !== null && typeof value === 'object' ? Object.getPrototypeOf(value) : undefined;
  if (proto !== Object.prototype && proto !== null) throw new InvalidOptionError(name, 'a plain object', value);
  return value as Record<string, unknown>;
}

export function checkPid(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0 || value > 0x7fffffff) {
    throw new InvalidOptionError(name, 'a positive integer', value);
  }
  return value;
}

export function checkOneOf<T extends string>(name: string, value: unknown, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new InvalidOptionError(name, `one of ${allowed.map((a) => `'${a}'`).join(', ')}`, value);
  }
  return value as T;
}

/** A finite number >= min (and <= max when given). */
export function checkNumber(name: string, value: unknown, min: number, max = Infinity): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    const range = max === Infinity ? `a number >= ${min}` : `a number from ${min} to ${max}`;
    throw new InvalidOptionError(name, range, value);
  }
  return value;
}

export function checkInteger(name: string, value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidOptionError(name, `an integer from ${min} to ${max}`, value);
  }
  return value;
}

export function checkBoolean(name: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw new InvalidOptionError(name, 'a boolean', value);
  return value;
}

export function checkFunction<T>(name: string, value: unknown): T {
  if (typeof value !== 'function') throw new InvalidOptionError(name, 'a function', value);
  return value as T;
}

/** Where history is kept unless told otherwise (PerformanceMonitor's dataDir, the CLI's --data-dir). */
export const DEFAULT_DATA_DIR = '.procprobe';
