/**
 * Custom metrics in shared memory (gauges): defined by the ring's owner, set from any thread with
 * one Float64 store, copied into every record by the sampler.
 */
import { InvalidOptionError } from '../errors.js';
import { GAUGE_NAME_BYTES, H } from './layout.js';
import { gaugeNames, RingViews } from './views.js';


/**
 * A custom metric living in shared memory: `set()` is one Float64 store, from any thread, and the
 * sampler copies the value into every record it writes. No message, no main-thread work.
 */
export class Gauge {
  readonly name: string;
  readonly index: number;
  readonly #values: Float64Array;

  /** @internal use defineGauge / attachGauge */
  constructor(values: Float64Array, name: string, index: number) {
    this.#values = values;
    this.name = name;
    this.index = index;
  }

  /** Any number (NaN: no value); anything else is an InvalidOptionError, never a NaN stored in its place. */
  set(value: number): void {
    if (typeof value !== 'number') throw new InvalidOptionError(`gauge ${this.name}: value`, 'a number', value);
    this.#values[this.index] = value;
  }

  add(delta: number): void {
    if (typeof delta !== 'number') throw new InvalidOptionError(`gauge ${this.name}: delta`, 'a number', delta);
    this.#values[this.index] = this.#values[this.index]! + delta;
  }

  get value(): number {
    return this.#values[this.index]!;
  }
}

const nameEncoder = new TextEncoder();

/**
 * Define (or find) the gauge `name`. Only the ring's owner (the thread that created the monitor)
 * defines gauges, so slots are claimed without races; other threads use attachGauge. The name is
 * written before the count is published (Atomics.store), so a reader never sees a slot unnamed.
 */
export function defineGauge(sab: SharedArrayBuffer, name: string): Gauge {
  const views = new RingViews(sab);
  const bytes = checkGaugeName(name);
  const names = gaugeNames(views);
  const existing = names.indexOf(name);
  if (existing >= 0) return new Gauge(views.gauges, name, existing);
  const n = names.length;
  if (n >= views.geometry.gaugeSlots) {
    throw new InvalidOptionError('gauge name', `one of at most ${views.geometry.gaugeSlots} gauges (options.maxGauges)`, name);
  }
  views.names.set(bytes, n * GAUGE_NAME_BYTES);
  views.gauges[n] = NaN; // no value until the first set()
  Atomics.store(views.header, H.GAUGES_DEFINED, n + 1);
  return new Gauge(views.gauges, name, n);
}

/** In any thread: the gauge `name` that the owner defined in this ring. */
export function attachGauge(sab: SharedArrayBuffer, name: string): Gauge {
  const views = new RingViews(sab);
  checkGaugeName(name);
  const index = gaugeNames(views).indexOf(name);
  if (index < 0) throw new InvalidOptionError('gauge name', 'a gauge defined by the monitor', name);
  return new Gauge(views.gauges, name, index);
}

/** A name a gauge can have (its UTF-8 bytes), else an InvalidOptionError naming `option`. */
export function checkGaugeName(name: unknown, option = 'gauge name'): Uint8Array {
  if (typeof name !== 'string' || name.length === 0) {
    throw new InvalidOptionError(option, 'a non-empty string', name);
  }
  const bytes = nameEncoder.encode(name);
  if (bytes.length >= GAUGE_NAME_BYTES || bytes.includes(0)) {
    throw new InvalidOptionError(option, `under ${GAUGE_NAME_BYTES} UTF-8 bytes without NUL`, name);
  }
  return bytes;
}
