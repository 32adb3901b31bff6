/** RealTimeMonitor's options: what each means, its default, and the one place they are checked. */
import { MAX_GAUGE_SLOTS } from '../ring/layout.js';
import { SAMPLER_OPTIONS, type SamplerOptions } from '../sampler/options.js';
import { checkBoolean, checkInteger, checkNumber, checkObject, checkOptions, optionKeys, pickOptions } from '../validate.js';
import type { AlertOptions } from './alerts.js';
import { EVENT_LOOP_GAUGES } from './event-loop.js';

export interface RealTimeMonitorOptions extends SamplerOptions {
  /** Thresholds by metric (ProcessSample field or custom metric); false disables a default. Default { cpuPercent: 90, memoryPercent: 85, openFds: 1000 }. */
  alerts?: Record<string, number | false>;
  /** A condition must hold this long to raise. Default 0 ms (at once). */
  alertMinDurationMs?: number;
  /** An alert clears once its value stayed under the clear level this long. Default max(alertMinDurationMs, 1000) ms. */
  alertClearAfterMs?: number;
  /** An alert clears below threshold * (1 - alertHysteresis). Default 0.1. */
  alertHysteresis?: number;
  /** Alerts kept in `alerts` (oldest dropped). Default 1000. */
  maxAlerts?: number;
  /** ms between main-thread housekeeping: callbacks, event-loop figures, alerts. Default max(samplingIntervalMs, 100). */
  callbackIntervalMs?: number;
  /** Measure the host's event-loop delay and utilisation. Default true. */
  eventLoop?: boolean;
}

/** The monitor's own options and the Sampler's it passes on: every name it takes. */
const MONITOR_OPTIONS = Object.freeze([
  ...SAMPLER_OPTIONS,
  ...optionKeys<Omit<RealTimeMonitorOptions, keyof SamplerOptions>>({
    alerts: true,
    alertMinDurationMs: true,
    alertClearAfterMs: true,
    alertHysteresis: true,
    maxAlerts: true,
    callbackIntervalMs: true,
    eventLoop: true,
  }),
]);

export interface ResolvedMonitorOptions {
  alerts: AlertOptions;
  maxAlerts: number;
  eventLoop: boolean;
  /** Gauge slots for the caller's metrics (options.maxGauges). */
  userGauges: number;
  /** The Sampler's share, with maxGauges counting the event loop's slots. */
  sampler: SamplerOptions;
  /** As given; the default depends on the Sampler's interval (resolveCallbackInterval). */
  callbackIntervalMs: unknown;
}

/** Every option checked (InvalidOptionError naming it, unknown names too) and defaulted. */
export function resolveMonitorOptions(options: RealTimeMonitorOptions | undefined): ResolvedMonitorOptions {
  const o = checkOptions('options', options, MONITOR_OPTIONS, 'RealTimeMonitor');
  const minDurationMs = checkNumber('options.alertMinDurationMs', o.alertMinDurationMs ?? 0, 0);
  const eventLoop = checkBoolean('options.eventLoop', o.eventLoop ?? true);
  const userGauges = checkInteger('options.maxGauges', o.maxGauges ?? 16, 0, MAX_GAUGE_SLOTS - EVENT_LOOP_GAUGES);
  // Gauge slots beyond those asked for, for the event-loop figures.
  const maxGauges = userGauges + (eventLoop ? EVENT_LOOP_GAUGES : 0);
  return {
    alerts: {
      thresholds: checkObject('options.alerts', o.alerts) as Record<string, number | false>,
      minDurationMs,
      clearAfterMs: checkNumber('options.alertClearAfterMs', o.alertClearAfterMs ?? Math.max(minDurationMs, 1000), 0),
      hysteresis: checkNumber('options.alertHysteresis', o.alertHysteresis ?? 0.1, 0, 1),
    },
    maxAlerts: checkInteger('options.maxAlerts', o.maxAlerts ?? 1000, 1),
    eventLoop,
    userGauges,
    sampler: { ...(pickOptions(o, SAMPLER_OPTIONS) as SamplerOptions), maxGauges },
    callbackIntervalMs: o.callbackIntervalMs,
  };
}

/** options.callbackIntervalMs, by default max(the sampler's interval, 100 ms). */
export function resolveCallbackInterval(given: unknown, samplingIntervalMs: number): number {
  return checkNumber('options.callbackIntervalMs', given ?? Math.max(samplingIntervalMs, 100), 1, 2 ** 31 - 1);
}
