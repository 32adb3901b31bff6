/**
 * RealTimeMonitor: the seed's real-time monitor (001_004169cb57441f3a.txt) in TypeScript, on the
 * sampler. Sampling happens in the worker into the ring; the main thread only wakes at the
 * housekeeping rate (callbackIntervalMs) to run callbacks, publish event-loop figures to gauges,
 * and evaluate alerts over every record written since its last look.
 */
import { EventEmitter } from 'node:events';
import { emitOrWarn, type ProcprobeError } from '../errors.js';
import { F } from '../probe/layout.js';
import type { ProbeBackend } from '../probe/probe.js';
import { defineGauge, type Gauge } from '../ring/gauge.js';
import { R } from '../ring/layout.js';
import type { RingCursor, RingReader } from '../ring/ring.js';
import { Sampler } from '../sampler/sampler.js';
import { checkFunction, checkInteger, checkNumber } from '../validate.js';
import { AlertEngine, type Alert } from './alerts.js';
import { CallbackRunner, type MetricsCallback } from './callbacks.js';
import { EventLoopWatch } from './event-loop.js';
import { resolveCallbackInterval, resolveMonitorOptions, type RealTimeMonitorOptions } from './options.js';
import { recordToSnapshot, type PerformanceSnapshot } from './snapshot.js';
import { cpuPercent } from '../units.js';

export type { RealTimeMonitorOptions } from './options.js';

export interface AverageMetrics {
  /** Δcpu / Δt over the window (100 = one core); the sample's own figure if only one. */
  avgCpuPercent: number;
  avgMemoryMb: number;
  avgMemoryPercent: number;
  avgOpenFiles: number;
  avgThreads: number;
  /** Records in the window; 0 means the averages are NaN. */
  samples: number;
}

export interface MonitorStats {
  backend: ProbeBackend | null;
  samples: number;
  missedDeadlines: number;
  /** Records this monitor's alert reader could not see because the ring lapped it. */
  readerLost: number;
  achievedHz: number;
  intervalMs: number;
  /** Custom metric callback calls that threw or returned a Promise. */
  callbackErrors: number;
}


export interface RealTimeMonitorEvents {
  alert: [Alert];
  alertCleared: [Alert];
  error: [ProcprobeError];
  warning: [ProcprobeError];
  stopped: [{ reason: string }];
}

const BATCH = 256;

export class RealTimeMonitor extends EventEmitter<RealTimeMonitorEvents> {
  readonly #sampler: Sampler;
  readonly #reader: RingReader;
  readonly #engine: AlertEngine;
  readonly #alerts: Alert[] = [];
  readonly #maxAlerts: number;
  readonly #callbackIntervalMs: number;
  readonly #callbacks: CallbackRunner;
  readonly #cursor: RingCursor = { next: 0, missed: 0 };
  readonly #batch: Float64Array;
  #timer: NodeJS.Timeout | null = null;
  #eventLoop: EventLoopWatch | null = null;
  #gaugeNames: string[] = [];

  constructor(options?: RealTimeMonitorOptions) {
    super();
    const o = resolveMonitorOptions(options);
    this.#engine = new AlertEngine(o.alerts);
    this.#maxAlerts = o.maxAlerts;
    this.#sampler = new Sampler(o.sampler);
    this.#reader = this.#sampler.reader;
    this.#callbackIntervalMs = resolveCallbackInterval(o.callbackIntervalMs, this.#sampler.intervalMs);
    this.#batch = new Float64Array(BATCH * this.#reader.stride);
    this.#callbacks = new CallbackRunner((name) => this.gauge(name), (e) => this.#report('warning', e), this.#callbackIntervalMs, o.userGauges);
    if (o.eventLoop) {
      this.#eventLoop = new EventLoopWatch(this.#sampler.sharedBuffer);
      this.#gaugeNames = this.#reader.gaugeNames();
    }
    this.#sampler.on('error', (e) => this.#report('error', e));
    this.#sampler.on('warning', (e) => this.#report('warning', e));
    this.#sampler.on('stopped', (info) => {
      this.#housekeep();
      this.#stopTimers();
      this.emit('stopped', info);
    });
  }

  /** True between start() and stop() while the worker runs. */
  get isMonitoring(): boolean {
    return this.#sampler.isRunning;
  }

  /** The ring: read it from any thread with `new RingReader(buffer)`. */
  get sharedBuffer(): SharedArrayBuffer {
    return this.#sampler.sharedBuffer;
  }

  get reader(): RingReader {
    return this.#reader;
  }

  get backendReason(): string {
    return this.#sampler.backendReason;
  }

  /** With `tree`: how descendants are found (fork events, or the scan only and why); null before start(). */
  get treeDiscovery(): string | null {
    return this.#sampler.treeDiscovery;
  }

  /** Raised alerts, oldest first, at most maxAlerts (a cleared one has clearedAt). */
  get alerts(): readonly Alert[] {
    return this.#alerts;
  }

  get activeAlerts(): Alert[] {
    return this.#engine.active;
  }

  get stats(): MonitorStats {
    return { ...this.#sampler.stats, readerLost: this.#cursor.missed, callbackErrors: this.#callbacks.errors };
  }

  /** Start sampling; resolves when the first sample is in the ring. Idempotent. */
  async start(): Promise<void> {
    await this.#sampler.start();
    if (this.#timer) return;
    if (this.#cursor.next === 0) this.#cursor.next = Math.max(0, this.#reader.latestSeq());
    this.#eventLoop?.start();
    this.#timer = setInterval(() => this.#housekeep(), this.#callbackIntervalMs);
    this.#timer.unref();
    this.#housekeep();
  }

  /** Stop sampling; resolves when the worker has exited. Snapshots stay readable. Idempotent. */
  async stop(): Promise<void> {
    await this.#sampler.stop();
    this.#housekeep();
    this.#stopTimers();
  }

  /** Seed names. */
  startMonitoring(): Promise<void> {
    return this.start();
  }

  stopMonitoring(): Promise<void> {
    return this.stop();
  }

  /** A custom metric in shared memory: `set()` from this or any thread (see attachGauge). */
  gauge(name: string): Gauge {
    const g = defineGauge(this.#sampler.sharedBuffer, name);
    this.#gaugeNames = this.#reader.gaugeNames();
    return g;
  }

  /** Seed-compatible custom metrics: called every callbackIntervalMs on this thread; values go to gauges. */
  addCallback(callback: MetricsCallback): void {
    this.#callbacks.add(checkFunction<MetricsCallback>('callback', callback));
  }

  /** The newest `count` snapshots, oldest first (allocates). */
  getRecentSnapshots(count = 100): PerformanceSnapshot[] {
    checkInteger('count', count, 0);
    const n = Math.min(count, this.#reader.capacity);
    const out = new Float64Array(n * this.#reader.stride);
    const got = this.#reader.readLatest(out, n);
    const names = this.#reader.gaugeNames();
    const list: PerformanceSnapshot[] = [];
    for (let i = 0; i < got; i++) list.push(recordToSnapshot(out, i * this.#reader.stride, names, this.#callbackIntervalMs));
    return list;
  }

  /** Averages over the records of the last `durationMs` (default 5 min, the seed's). */
  getAverageMetrics(durationMs = 300_000): AverageMetrics {
    checkNumber('durationMs', durationMs, 0);
    const stride = this.#reader.stride;
    const out = new Float64Array(this.#reader.capacity * stride);
    const got = this.#reader.readLatest(out);
    const cutoff = Date.now() - durationMs;
    let first = got;
    while (first > 0 && out[(first - 1) * stride + R.ROW + F.timestamp]! >= cutoff) first--;
    const sums = { mem: 0, pct: 0, fds: 0, threads: 0 };
    let n = 0;
    let firstOk = -1;
    let lastOk = -1;
    for (let i = first; i < got; i++) {
      const at = i * stride + R.ROW;
      if (out[i * stride + R.STATUS] !== 0) continue; // a failed read (e.g. the target exited)
      if (firstOk < 0) firstOk = i;
      lastOk = i;
      sums.mem += out[at + F.rssBytes]! / 1048576;
      sums.pct += out[at + F.memoryPercent]!;
      sums.fds += out[at + F.openFds]!;
      sums.threads += out[at + F.threads]!;
      n++;
    }
    // CPU % from the cumulative CPU time between the first and last good records: exact over the
    // window, unlike an average of per-sample percentages.
    const a = firstOk * stride + R.ROW;
    const b = lastOk * stride + R.ROW;
    const cpu = (at: number): number => out[at + F.cpuUserUs]! + out[at + F.cpuSystemUs]!;
    const dt = n >= 2 ? (out[b + F.timestamp]! - out[a + F.timestamp]!) * 1e3 : 0;
    return {
      avgCpuPercent: n === 0 ? NaN : dt > 0 ? cpuPercent(cpu(b) - cpu(a), dt) : out[b + F.cpuPercent]!,
      avgMemoryMb: sums.mem / n,
      avgMemoryPercent: sums.pct / n,
      avgOpenFiles: sums.fds / n,
      avgThreads: sums.threads / n,
      samples: n,
    };
  }

  #housekeep(): void {
    this.#callbacks.run();
    this.#eventLoop?.publish();
    this.#evaluateAlerts();
  }

  #evaluateAlerts(): void {
    const stride = this.#reader.stride;
    const raise = (a: Alert): void => {
      this.#alerts.push(a);
      if (this.#alerts.length > this.#maxAlerts) this.#alerts.shift();
      this.emit('alert', a);
    };
    const clear = (a: Alert): void => void this.emit('alertCleared', a);
    for (;;) {
      const n = this.#reader.readSince(this.#cursor, this.#batch);
      for (let i = 0; i < n; i++) {
        if (this.#batch[i * stride + R.STATUS] !== 0) continue;
        const first = this.#batch[i * stride + R.SEQ] === this.#sampler.firstSeq;
        this.#engine.evaluate(this.#batch, i * stride, this.#gaugeNames, raise, clear, first);
      }
      if (n === 0 || this.#cursor.next > this.#reader.latestSeq()) break;
    }
  }

  #stopTimers(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    this.#eventLoop?.stop();
  }

  #report(event: 'error' | 'warning', err: ProcprobeError): void {
    emitOrWarn(this, event, err);
  }
}
