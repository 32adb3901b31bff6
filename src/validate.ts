/** Option checks shared by every public entry point (each throws InvalidOptionError naming the option), and the defaults more than one room applies. */
import { InvalidOptionError } from './errors.js';

export function checkObject(name: string, value: unknown): Record<string, unknown> {
  if (value === undefined) return {};
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new InvalidOptionError(name, 'an object', value);
  }
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
