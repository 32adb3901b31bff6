/**
 * Custom metric callbacks (the seed's add_callback): called on the host's main thread at each
 * housekeeping, their numbers go to gauges. The host comes first, so a callback runs on a budget
 * and every way it can go wrong is reported once, by name:
 *
 * - time: a call may take up to CALLBACK_SHARE of the housekeeping interval. A longer call cannot
 *   be interrupted (it is synchronous), so the callback is then skipped until its last call's
 *   duration / CALLBACK_SHARE has passed: whatever it does, it gets at most that share of the
 *   main thread.
 * - keys: at most as many metrics per call as the ring has gauge slots; more could never be stored.
 * - a Promise: callbacks are synchronous (the seed's were); a Promise is refused, never awaited,
 *   and its rejection is caught so that it cannot become the host's unhandled rejection.
 * - a bad name (empty, too long, NUL, no slot left) or a value that is not a number: skipped, the
 *   callback's other metrics kept.
 */
import { CallbackError, type ProcprobeError } from '../errors.js';
import type { Gauge } from '../ring/gauge.js';

export type MetricsCallback = () => Record<string, number>;

/** The share of the main thread's time a callback may take. */
export const CALLBACK_SHARE = 0.1;

type Problem = 'threw' | 'promise' | 'slow' | 'keys' | `name:${string}` | `value:${string}`;

/** Warnings per callback at most: a callback inventing bad names cannot flood the host. */
const MAX_REPORTS = 16;

interface Entry {
  fn: MetricsCallback;
  /** performance.now() before which the callback is not called (the time budget). */
  notBefore: number;
  /** The problems already reported (a bad name or value: per name). */
  reported: Set<Problem>;
}

export class CallbackRunner {
  readonly #entries: Entry[] = [];
  /** Gauges by name: defining one scans the ring's names, too slow per key per call. */
  readonly #gauges = new Map<string, Gauge>();
  readonly #define: (name: string) => Gauge;
  readonly #warn: (e: ProcprobeError) => void;
  readonly #intervalMs: number;
  readonly #maxKeys: number;
  /** Calls that threw or returned a Promise. */
  errors = 0;

  constructor(define: (name: string) => Gauge, warn: (e: ProcprobeError) => void, intervalMs: number, gaugeSlots: number) {
    this.#define = define;
    this.#warn = warn;
    this.#intervalMs = intervalMs;
    this.#maxKeys = gaugeSlots;
  }

  add(fn: MetricsCallback): void {
    this.#entries.push({ fn, notBefore: 0, reported: new Set() });
  }

  run(): void {
    for (const e of this.#entries) {
      const t0 = performance.now();
      if (t0 < e.notBefore) continue;
      this.#call(e);
      const took = performance.now() - t0;
      const budgetMs = this.#intervalMs * CALLBACK_SHARE;
      if (took > budgetMs) {
        e.notBefore = t0 + took / CALLBACK_SHARE;
        this.#report(e, 'slow', `took ${took.toFixed(1)} ms, over its budget of ${budgetMs.toFixed(1)} ms (${CALLBACK_SHARE * 100} % of callbackIntervalMs ${this.#intervalMs}): it is now called less often, so that it takes at most ${CALLBACK_SHARE * 100} % of the main thread`);
      }
    }
  }

  #call(e: Entry): void {
    let metrics: unknown;
    try {
      metrics = e.fn();
    } catch (err) {
      this.errors++;
      this.#report(e, 'threw', `threw: ${err instanceof Error ? err.message : String(err)}`, err);
      return;
    }
    if (metrics !== null && typeof metrics === 'object' && typeof (metrics as PromiseLike<unknown>).then === 'function') {
      this.errors++;
      (metrics as Promise<unknown>).then(undefined, () => undefined);
      this.#report(e, 'promise', 'returned a Promise: callbacks must return their metrics synchronously (from async code, set a gauge instead: mon.gauge(name).set(value))');
      return;
    }
    if (metrics === null || metrics === undefined) return;
    this.#store(e, metrics as Record<string, unknown>);
  }

  #store(e: Entry, metrics: Record<string, unknown>): void {
    let keys = 0;
    // for..in, not Object.entries: a callback returning 10,000 keys costs no array of them.
    for (const name in metrics) {
      if (!Object.hasOwn(metrics, name)) continue;
      if (++keys > this.#maxKeys) {
        this.#report(e, 'keys', `returned more than ${this.#maxKeys} metrics, the ring's gauge slots (options.maxGauges): only the first ${this.#maxKeys} are read`);
        return;
      }
      const value = metrics[name];
      if (typeof value !== 'number') {
        this.#report(e, `value:${name}`, `returned ${JSON.stringify(name)}: ${value === null ? 'null' : typeof value}, not a number (skipped)`);
        continue;
      }
      const gauge = this.#gauge(e, name);
      gauge?.set(value);
    }
  }

  #gauge(e: Entry, name: string): Gauge | null {
    const known = this.#gauges.get(name);
    if (known) return known;
    try {
      const g = this.#define(name);
      this.#gauges.set(name, g);
      return g;
    } catch (err) {
      this.#report(e, `name:${name}`, `returned a bad metric name (skipped): ${(err as Error).message}`);
      return null;
    }
  }

  /** One warning per callback and problem, at most MAX_REPORTS; the callback keeps being called. */
  #report(e: Entry, problem: Problem, what: string, cause?: unknown): void {
    if (e.reported.has(problem) || e.reported.size >= MAX_REPORTS) return;
    e.reported.add(problem);
    this.#warn(new CallbackError(`custom metric callback ${what}`, cause === undefined ? undefined : { cause }));
  }
}
