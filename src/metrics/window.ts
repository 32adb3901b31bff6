/**
 * The live side of the exporters: what a metrics scrape (Prometheus) or a collection
 * (OpenTelemetry) reads from a running sampler's ring, without messages and without touching the
 * sampler. The latest good record gives the current values; every record since the previous
 * read is folded into per-field peaks, so a 1 kHz sampler shows a scrape every 15 s the RSS spike
 * that lasted 40 ms between two scrapes. An unref'd timer folds the ring at half the time it
 * takes the sampler to fill it, so no record is lost between scrapes however slow they are.
 */
import { InvalidOptionError } from '../errors.js';
import { F, ProbeStatus } from '../probe/layout.js';
import { R } from '../ring/layout.js';
import { RingReader, type RingCursor } from '../ring/ring.js';
import { checkInteger, checkNumber, checkOptions, optionKeys } from '../validate.js';

/** Anything that owns a sampler ring: a RealTimeMonitor, a PerformanceMonitor, a Sampler, or the buffer itself. */
export type LiveSource = { readonly sharedBuffer: SharedArrayBuffer } | SharedArrayBuffer;

/** The fields whose peak between two reads is kept. */
export const PEAK_FIELDS = ['rssBytes', 'openFds', 'threads'] as const;
export type PeakField = (typeof PEAK_FIELDS)[number];

/** Options of {@link LiveWindow}. */
export interface LiveWindowOptions {
  /**
   * How often (ms) the ring is folded between reads, so that no record is overwritten unseen.
   * Default: half the time the sampler takes to fill the ring (capacity × interval / 2), at least
   * 10 ms; 0 turns the timer off (records older than the ring's capacity are then counted as lost).
   */
  foldIntervalMs?: number;
  /** The sampler's interval (ms), used only for the default foldIntervalMs. Default: read from the source when it has one, else 1. */
  samplingIntervalMs?: number;
}

/** Every option's name: LiveWindow's, and the share of the exporters' options they pass on. */
export const WINDOW_OPTIONS = optionKeys<LiveWindowOptions>({ foldIntervalMs: true, samplingIntervalMs: true });

/** Offsets of the peak fields within a record. */
const PEAK_OFFSETS = PEAK_FIELDS.map((f) => R.ROW + F[f]);

/** Records folded per step: a bounded copy (FOLD_BATCH × stride Float64). */
const FOLD_BATCH = 256;

function toSharedBuffer(name: string, source: unknown): SharedArrayBuffer {
  if (source instanceof SharedArrayBuffer) return source;
  const sab = source !== null && typeof source === 'object' ? (source as { sharedBuffer?: unknown }).sharedBuffer : undefined;
  if (!(sab instanceof SharedArrayBuffer)) {
    throw new InvalidOptionError(name, 'a RealTimeMonitor, PerformanceMonitor, Sampler or its sharedBuffer', source);
  }
  return sab;
}

/**
 * One consumer's view of a ring: the latest good row, per-field peaks since each field's last
 * {@link takePeak}, and the records seen, lost and failed. Reading allocates nothing.
 */
export class LiveWindow {
  readonly reader: RingReader;
  readonly #cursor: RingCursor;
  readonly #batch: Float64Array;
  /** The newest record whose read succeeded (status OK), its row at R.ROW; NaN before the first. */
  readonly #latest: Float64Array;
  readonly #peaks = new Float64Array(PEAK_FIELDS.length).fill(NaN);
  #hasLatest = false;
  #seen = 0;
  #failed = 0;
  #timer: ReturnType<typeof setInterval> | undefined;
  #foldedThisTurn = false;
  readonly #endTurn = (): void => {
    this.#foldedThisTurn = false;
  };

  constructor(source: LiveSource, options: LiveWindowOptions = {}) {
    const sab = toSharedBuffer('source', source);
    const o = checkOptions('options', options, WINDOW_OPTIONS, 'LiveWindow');
    this.reader = new RingReader(sab);
    // Start at the oldest record still in the ring: a window opened late still sees what is there.
    this.#cursor = this.reader.cursorAtOldest();
    this.#batch = new Float64Array(FOLD_BATCH * this.reader.stride);
    this.#latest = new Float64Array(this.reader.stride).fill(NaN);
    const ownInterval = (source as { intervalMs?: unknown; stats?: { intervalMs?: unknown } }).intervalMs ??
      (source as { stats?: { intervalMs?: unknown } }).stats?.intervalMs;
    const interval =
      o.samplingIntervalMs !== undefined
        ? checkNumber('options.samplingIntervalMs', o.samplingIntervalMs, 0.1)
        : typeof ownInterval === 'number' && ownInterval > 0
          ? ownInterval
          : 1;
    const fold =
      o.foldIntervalMs !== undefined
        ? checkInteger('options.foldIntervalMs', o.foldIntervalMs, 0, 2 ** 31 - 1)
        : Math.max(10, Math.min(60_000, Math.floor((this.reader.capacity * interval) / 2)));
    if (fold > 0) {
      this.#timer = setInterval(() => this.fold(), fold);
      this.#timer.unref();
    }
    this.fold();
  }

  /** Fold every record written since the last fold into the latest row and the peaks. */
  fold(): void {
    const stride = this.reader.stride;
    const batch = this.#batch;
    const latest = this.#latest;
    const peaks = this.#peaks;
    for (;;) {
      const n = this.reader.readSince(this.#cursor, batch);
      let lastOk = -1;
      for (let i = 0; i < n; i++) {
        const base = i * stride;
        if (batch[base + R.STATUS] !== ProbeStatus.OK) {
          this.#failed++;
          continue;
        }
        lastOk = base;
        for (let k = 0; k < PEAK_OFFSETS.length; k++) {
          const v = batch[base + PEAK_OFFSETS[k]!]!;
          if (v > peaks[k]! || Number.isNaN(peaks[k]!)) peaks[k] = v;
        }
      }
      this.#seen += n;
      if (lastOk >= 0) {
        latest.set(batch.subarray(lastOk, lastOk + stride));
        this.#hasLatest = true;
      }
      if (n < FOLD_BATCH) break;
    }
  }

  /**
   * Fold once per synchronous run of code: the first call folds, later calls before the next
   * microtask see the same latest record. A scrape collects every metric in one synchronous loop,
   * so all of its values come from one sample.
   */
  foldForScrape(): void {
    if (this.#foldedThisTurn) return;
    this.#foldedThisTurn = true;
    this.fold();
    queueMicrotask(this.#endTurn);
  }

  /** True once a record whose read succeeded has been seen. */
  get hasSample(): boolean {
    return this.#hasLatest;
  }

  /** A field of the latest good row (NaN before the first, or when the backend cannot read it). */
  value(field: keyof typeof F): number {
    return this.#latest[R.ROW + F[field]]!;
  }

  /** The latest good record (a live view: R offsets, the row at R.ROW, gauges at R.GAUGES). */
  get latestRecord(): Float64Array {
    return this.#latest;
  }

  /**
   * The highest value of `field` seen since the previous takePeak of that field (or since the
   * window opened), then the window restarts from the latest value. NaN when nothing was seen.
   */
  takePeak(field: PeakField): number {
    const k = PEAK_FIELDS.indexOf(field);
    const peak = this.#peaks[k]!;
    this.#peaks[k] = this.#hasLatest ? this.#latest[R.ROW + F[field]]! : NaN;
    return peak;
  }

  /** Records folded so far. */
  get seen(): number {
    return this.#seen;
  }

  /** Records folded whose read failed (the target exited, access denied, ...). */
  get failed(): number {
    return this.#failed;
  }

  /** Records overwritten before this window could fold them. */
  get lost(): number {
    return this.#cursor.missed;
  }

  /** Deadlines the sampler missed (from the ring header). */
  get missedDeadlines(): number {
    return this.reader.missedDeadlines;
  }

  /** Stop the fold timer. Idempotent. */
  close(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
