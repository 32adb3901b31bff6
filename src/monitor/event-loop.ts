/**
 * The host main thread's event loop, as figures in every ring record: delay and utilisation.
 *
 * Why not monitorEventLoopDelay alone: on Node 20 its histogram does not record a long block
 * (a 1 s busy loop leaves its max at one resolution step), and a figure the main thread
 * publishes cannot change while that thread is blocked anyway. So the main thread beats: an
 * unref'd 10 ms timer writes the time of each beat into a gauge, and its own lateness into
 * another (the most it was late over the housekeeping window). The sampler worker copies gauges
 * into every record, including the records it writes while the main thread is blocked; those
 * carry a beat that grows old, and a reader derives the delay from it (record time - last beat -
 * beat interval). A block of B ms thus shows while it lasts, rising to about B - 10 ms, and as
 * B in the window after it.
 */
import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import { defineGauge, type Gauge } from '../ring/gauge.js';

/** Gauge names reserved for the event loop: snapshot fields, not custom metrics. */
export const ELD_GAUGE = '$eventLoopDelayMs';
export const ELU_GAUGE = '$eventLoopUtilization';
export const BEAT_GAUGE = '$eventLoopBeatMs';
/** Gauge slots the watch takes. */
export const EVENT_LOOP_GAUGES = 3;
/** The beat: a block shorter than this may not show. */
export const BEAT_MS = 10;

export class EventLoopWatch {
  readonly #delay: Gauge;
  readonly #utilization: Gauge;
  readonly #beatGauge: Gauge;
  #timer: NodeJS.Timeout | null = null;
  #elu: EventLoopUtilization | null = null;
  #lastBeat = 0;
  #maxLateMs = 0;

  constructor(sab: SharedArrayBuffer) {
    this.#delay = defineGauge(sab, ELD_GAUGE);
    this.#utilization = defineGauge(sab, ELU_GAUGE);
    this.#beatGauge = defineGauge(sab, BEAT_GAUGE);
  }

  start(): void {
    if (this.#timer) return;
    this.#elu = performance.eventLoopUtilization();
    this.#lastBeat = Date.now();
    this.#beatGauge.set(this.#lastBeat);
    this.#timer = setInterval(() => this.#beat(), BEAT_MS);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }

  /** At each housekeeping: the window's worst lateness and utilisation into their gauges. */
  publish(): void {
    if (!this.#timer || !this.#elu) return;
    this.#beat(); // a housekeeping run late after a block is itself a late beat
    this.#delay.set(this.#maxLateMs);
    this.#maxLateMs = 0;
    const now = performance.eventLoopUtilization();
    this.#utilization.set(performance.eventLoopUtilization(now, this.#elu).utilization);
    this.#elu = now;
  }

  #beat(): void {
    // Date.now(): the clock of the records' timestamps (the native probe reads CLOCK_REALTIME).
    const now = Date.now();
    this.#maxLateMs = Math.max(this.#maxLateMs, now - this.#lastBeat - BEAT_MS);
    this.#lastBeat = now;
    this.#beatGauge.set(now);
  }
}

/**
 * The event-loop figures of one record: the published window figures, or what the age of the
 * last beat proves if that is more (the main thread has not run for that long).
 * `windowMs`: the housekeeping window the utilisation is measured over. `beatMs` is a time (the
 * caller leaves records without a beat as they are).
 */
export function eventLoopAt(ts: number, delayMs: number, utilization: number, beatMs: number, windowMs: number): { delayMs: number; utilization: number } {
  const stalledMs = Math.max(0, ts - beatMs - BEAT_MS);
  return {
    delayMs: Math.max(Number.isNaN(delayMs) ? 0 : delayMs, stalledMs),
    // Blocked for the whole last window: it was busy all of it.
    utilization: Math.max(Number.isNaN(utilization) ? 0 : utilization, Math.min(1, stalledMs / windowMs)),
  };
}
