/**
 * Threshold alerts with a minimum duration and hysteresis, evaluated over every record (not a
 * subsample; a record's cpuPercent covers at least the last 50 ms, see CpuWindow). At 1 kHz a
 * condition raises ONE alert when it starts and clears once when it ends:
 * a rule raises after its value stays above the threshold for minDurationMs, and clears after it
 * stays below threshold * (1 - hysteresis) for clearAfterMs.
 *
 * Why clearAfterMs defaults to a second although raising is immediate (the seed's behaviour): a
 * value that crosses the whole band at 1 kHz would otherwise raise and clear hundreds of times a
 * second. Waiting for a quiet second before clearing (Prometheus' keep_firing_for) makes such a
 * flapping condition one alert, and a condition that comes and goes slower than that still
 * raises each time it comes back.
 */
import { InvalidOptionError } from '../errors.js';
import { F, FIELDS } from '../probe/layout.js';
import { checkGaugeName } from '../ring/gauge.js';
import { R } from '../ring/layout.js';
import { closestName } from '../validate.js';
import { BEAT_GAUGE, ELD_GAUGE, ELU_GAUGE } from './event-loop.js';

export interface Alert {
  /** 'high_cpu', 'high_memory', 'file_handle_leak' (the seed's), or 'high_<metric>'. */
  type: string;
  metric: string;
  threshold: number;
  /** The value that raised it (the first over the threshold for minDurationMs). */
  value: number;
  /** Seed-style text, e.g. "High CPU usage: 97.1%". */
  message: string;
  /** When it was raised, ms since epoch (the sample's timestamp). */
  timestamp: number;
  /** When it cleared, ms since epoch; undefined while active. */
  clearedAt?: number;
  /** Peak value while active. */
  peak: number;
}

export interface AlertOptions {
  /** Per metric threshold (a ProcessSample field or a custom metric name); false disables one of the defaults. */
  thresholds: Record<string, number | false>;
  minDurationMs: number;
  /** How long the value must stay below the clear level before the alert clears. */
  clearAfterMs: number;
  /** Fraction below the threshold at which an alert clears. */
  hysteresis: number;
}

export const DEFAULT_THRESHOLDS: Readonly<Record<string, number>> = Object.freeze({
  cpuPercent: 90,
  memoryPercent: 85,
  openFds: 1000,
});

const SEED_TYPES: Record<string, [type: string, label: string, unit: string]> = {
  cpuPercent: ['high_cpu', 'High CPU usage', '%'],
  memoryPercent: ['high_memory', 'High memory usage', '%'],
  openFds: ['file_handle_leak', 'High number of open files', ''],
};

interface Rule {
  metric: string;
  threshold: number;
  /** Float64 offset within a record, or -1 for a custom metric resolved by name. */
  offset: number;
  overSince: number;
  underSince: number;
  active: Alert | null;
}

export class AlertEngine {
  readonly #rules: Rule[] = [];
  readonly #min: number;
  readonly #clearAfter: number;
  readonly #hyst: number;

  constructor(opts: AlertOptions) {
    this.#min = opts.minDurationMs;
    this.#clearAfter = opts.clearAfterMs;
    this.#hyst = opts.hysteresis;
    const merged = { ...DEFAULT_THRESHOLDS, ...opts.thresholds };
    for (const [metric, threshold] of Object.entries(merged)) {
      const field = (FIELDS as readonly string[]).indexOf(metric);
      if (field < 0) checkCustomMetric(metric, threshold); // a typo'd `false` would leave the default on
      if (threshold === false) continue;
      if (typeof threshold !== 'number' || !Number.isFinite(threshold)) {
        throw new InvalidOptionError(`options.alerts.${metric}`, 'a finite number or false', threshold);
      }
      this.#rules.push({ metric, threshold, offset: field >= 0 ? R.ROW + field : -1, overSince: NaN, underSince: NaN, active: null });
    }
  }

  /**
   * Evaluate one record; calls `raise`/`clear` on transitions. `firstOfRun`: the record is the
   * first after a start, whose cpuPercent is the process's lifetime average: not evaluated.
   */
  evaluate(rec: Float64Array, at: number, gaugeNames: readonly string[], raise: (a: Alert) => void, clear: (a: Alert) => void, firstOfRun = false): void {
    const ts = rec[at + R.ROW + F.timestamp]!;
    for (const rule of this.#rules) {
      if (firstOfRun && rule.offset === R.ROW + F.cpuPercent) continue;
      let off = rule.offset;
      if (off < 0) {
        const g = gaugeNames.indexOf(rule.metric);
        if (g < 0) continue;
        off = R.GAUGES + g;
      }
      const v = rec[at + off]!;
      if (Number.isNaN(v)) continue;
      if (rule.active === null) {
        if (v > rule.threshold) {
          if (Number.isNaN(rule.overSince)) rule.overSince = ts;
          if (ts - rule.overSince >= this.#min) {
            rule.active = makeAlert(rule, v, ts);
            rule.underSince = NaN;
            raise(rule.active);
          }
        } else {
          rule.overSince = NaN;
        }
      } else {
        rule.active.peak = Math.max(rule.active.peak, v);
        if (v < rule.threshold * (1 - this.#hyst)) {
          if (Number.isNaN(rule.underSince)) rule.underSince = ts;
          if (ts - rule.underSince >= this.#clearAfter) {
            rule.active.clearedAt = ts;
            const done = rule.active;
            rule.active = null;
            rule.overSince = NaN;
            clear(done);
          }
        } else {
          rule.underSince = NaN;
        }
      }
    }
  }

  /** Alerts currently raised and not cleared. */
  get active(): Alert[] {
    return this.#rules.flatMap((r) => (r.active ? [r.active] : []));
  }
}

/** Names a rule can have besides custom metrics: the sample fields and the event loop's gauges. */
const KNOWN_METRICS: readonly string[] = [...FIELDS, ELD_GAUGE, ELU_GAUGE, BEAT_GAUGE];

/**
 * A rule on a name that is not a sample field is on a custom metric, which may be defined later
 * (a gauge, a callback's result). So an unknown name cannot be refused as such; but one that no
 * gauge can have would never fire, and one a couple of edits from a known name (cpuPercnt,
 * cpu_percent, eventLoopDelayMs) is a typo that would leave the intended alert silent: both are
 * refused, the typo with the name meant.
 */
function checkCustomMetric(metric: string, threshold: unknown): void {
  if (KNOWN_METRICS.includes(metric)) return;
  checkGaugeName(metric, 'options.alerts key');
  const near = closestName(metric, KNOWN_METRICS);
  if (near !== undefined) {
    throw new InvalidOptionError(`options.alerts.${metric}`, `a ProcessSample field or a custom metric's name, not a near-miss of one (did you mean ${near}?)`, threshold);
  }
}

function makeAlert(rule: Rule, value: number, ts: number): Alert {
  const seed = SEED_TYPES[rule.metric];
  const type = seed ? seed[0] : `high_${rule.metric}`;
  const message = seed
    ? `${seed[1]}: ${seed[2] === '%' ? `${value.toFixed(1)}%` : value}`
    : `High ${rule.metric}: ${value} (threshold ${rule.threshold})`;
  return { type, metric: rule.metric, threshold: rule.threshold, value, message, timestamp: ts, peak: value };
}
