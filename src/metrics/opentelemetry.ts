/**
 * OpenTelemetry: a running sampler's ring as observable instruments of a Meter, named after the
 * semantic conventions for OS process metrics (`process.cpu.time`, `process.memory.usage`, ...).
 *
 * procprobe does not depend on @opentelemetry/api: pass a Meter
 * (`metrics.getMeter('my-service')`). One batch callback per collection folds the ring (no
 * messages, no sampler involvement) and observes every instrument. Counters are observed as the
 * cumulative totals the kernel keeps; `process.cpu.utilization` is the CPU time since the previous
 * collection over the wall time and `os.availableParallelism()` (the first collection: since the
 * process started). Beside the conventions, `procprobe.*` instruments give the peaks between two
 * collections, the sampler's health and the monitor's custom gauges.
 */
import { availableParallelism } from 'node:os';
import { InvalidOptionError } from '../errors.js';
import { R } from '../ring/layout.js';
import { checkObject, checkOptions, optionKeys, pickOptions } from '../validate.js';
import { LiveWindow, WINDOW_OPTIONS, type LiveSource, type LiveWindowOptions } from './window.js';

type Attributes = Record<string, string | number | boolean>;

/** The part of an @opentelemetry/api Observable procprobe uses (an opaque handle). */
export type OtelObservableLike = object;

/** The part of an @opentelemetry/api BatchObservableResult procprobe uses. */
export interface OtelBatchResultLike {
  observe(observable: OtelObservableLike, value: number, attributes?: Attributes): void;
}

type OtelCallback = (result: OtelBatchResultLike) => void;
interface InstrumentOptions {
  description: string;
  unit: string;
  /** ValueType.DOUBLE = 1 in @opentelemetry/api; INT = 0. */
  valueType?: number;
}

/** The part of an @opentelemetry/api Meter procprobe uses. */
export interface OtelMeterLike {
  createObservableCounter(name: string, options?: InstrumentOptions): OtelObservableLike;
  createObservableUpDownCounter(name: string, options?: InstrumentOptions): OtelObservableLike;
  createObservableGauge(name: string, options?: InstrumentOptions): OtelObservableLike;
  addBatchObservableCallback(callback: OtelCallback, observables: OtelObservableLike[]): void;
  removeBatchObservableCallback(callback: OtelCallback, observables: OtelObservableLike[]): void;
}

/** Options of {@link registerOpenTelemetryMetrics}. */
export interface OpenTelemetryOptions extends LiveWindowOptions {
  /** The Meter to create the instruments with (required). */
  meter: OtelMeterLike;
  /** Attributes on every data point. Default `{ 'process.pid': <the sampled pid> }` plus these. */
  attributes?: Attributes;
}

/** What {@link registerOpenTelemetryMetrics} returns. */
export interface OpenTelemetryMetrics {
  /** The instrument names. */
  readonly names: readonly string[];
  /** The ring view behind the instruments (records seen, lost, failed). */
  readonly window: LiveWindow;
  /** Remove the batch callback (nothing new is observed; an SDK may keep reporting the last cumulative points) and stop folding. Idempotent. */
  close(): void;
}

const OTEL_OPTIONS = Object.freeze([
  ...WINDOW_OPTIONS,
  ...optionKeys<Omit<OpenTelemetryOptions, keyof LiveWindowOptions>>({ meter: true, attributes: true }),
]);

const INT = 0;
const DOUBLE = 1;

/**
 * Create the sampler's instruments on a Meter.
 * @throws InvalidOptionError for a missing meter or an attribute that is not a string, number or boolean.
 */
export function registerOpenTelemetryMetrics(source: LiveSource, options: OpenTelemetryOptions): OpenTelemetryMetrics {
  const o = checkOptions('options', options, OTEL_OPTIONS, 'registerOpenTelemetryMetrics');
  const meter = o.meter as OtelMeterLike | undefined;
  if (!meter || typeof meter.createObservableCounter !== 'function' || typeof meter.addBatchObservableCallback !== 'function') {
    throw new InvalidOptionError('options.meter', "an OpenTelemetry Meter (metrics.getMeter('name'))", meter);
  }
  const extra = checkObject('options.attributes', o.attributes) as Attributes;
  for (const [k, v] of Object.entries(extra)) {
    if (!['string', 'number', 'boolean'].includes(typeof v)) {
      throw new InvalidOptionError(`options.attributes.${k}`, 'a string, number or boolean', v);
    }
  }
  const w = new LiveWindow(source, pickOptions(o, WINDOW_OPTIONS));
  const names: string[] = [];
  const inst = createInstruments(meter, names);
  const observables = Object.values(inst);
  const cpu: CpuState = { cpus: Math.max(1, availableParallelism()), last: undefined };
  const callback: OtelCallback = (result) => observeAll(w, inst, result, extra, cpu);
  meter.addBatchObservableCallback(callback, observables);

  let closed = false;
  return {
    names,
    window: w,
    close() {
      if (closed) return;
      closed = true;
      meter.removeBatchObservableCallback(callback, observables);
      w.close();
    },
  };
}

type Instruments = ReturnType<typeof createInstruments>;

/** The CPU times and the time of the previous collection, for process.cpu.utilization. */
interface CpuState {
  cpus: number;
  last: [user: number, system: number, at: number] | undefined;
}

/** Every instrument, named by the semantic conventions where they have a name (their units and descriptions too). */
function createInstruments(meter: OtelMeterLike, names: string[]) {
  const make = (kind: 'counter' | 'updown' | 'gauge', name: string, unit: string, description: string, valueType = INT): OtelObservableLike => {
    names.push(name);
    const opts = { description, unit, valueType };
    if (kind === 'counter') return meter.createObservableCounter(name, opts);
    if (kind === 'updown') return meter.createObservableUpDownCounter(name, opts);
    return meter.createObservableGauge(name, opts);
  };
  return {
    cpuTime: make('counter', 'process.cpu.time', 's', 'Total CPU seconds broken down by different states.', DOUBLE),
    cpuUtil: make(
      'gauge',
      'process.cpu.utilization',
      '1',
      'Difference in process.cpu.time since the last measurement, divided by the elapsed time and number of CPUs available to the process.',
      DOUBLE,
    ),
    memUsage: make('updown', 'process.memory.usage', 'By', 'The amount of physical memory in use.'),
    memVirtual: make('updown', 'process.memory.virtual', 'By', 'The amount of committed virtual memory.'),
    threads: make('updown', 'process.thread.count', '{thread}', 'Process threads count.'),
    // process.open_file_descriptor.count is deprecated in the conventions, replaced by this name.
    fds: make('updown', 'process.unix.file_descriptor.count', '{file_descriptor}', 'Number of unix file descriptors in use by the process.'),
    ctx: make('counter', 'process.context_switches', '{context_switch}', 'Number of times the process has been context switched.'),
    faults: make('counter', 'process.paging.faults', '{fault}', 'Number of page faults the process has made.'),
    uptime: make('gauge', 'process.uptime', 's', 'The time the process has been running.', DOUBLE),
    memPeak: make('gauge', 'procprobe.process.memory.usage.peak', 'By', 'Highest RSS sampled since the previous collection.'),
    fdsPeak: make('gauge', 'procprobe.process.unix.file_descriptor.count.peak', '{file_descriptor}', 'Most fds sampled since the previous collection.'),
    threadsPeak: make('gauge', 'procprobe.process.thread.count.peak', '{thread}', 'Most threads sampled since the previous collection.'),
    samples: make('counter', 'procprobe.sampler.samples', '{sample}', 'Samples read from the ring by this exporter.'),
    lost: make('counter', 'procprobe.sampler.lost_samples', '{sample}', 'Samples overwritten in the ring before this exporter read them.'),
    failed: make('counter', 'procprobe.sampler.failed_reads', '{sample}', 'Samples whose read failed (the target exited, access denied, ...).'),
    missed: make('counter', 'procprobe.sampler.missed_deadlines', '{deadline}', 'Sampling deadlines the sampler missed.'),
    gauges: make('gauge', 'procprobe.gauge', '1', 'Custom gauges of the monitor (attribute procprobe.gauge.name), latest sample.', DOUBLE),
  };
}

/** One collection: fold the ring, then observe every instrument from the latest record and the peaks. */
function observeAll(w: LiveWindow, inst: Instruments, result: OtelBatchResultLike, extra: Attributes, cpu: CpuState): void {
  w.fold();
  const base: Attributes = { ...(w.hasSample ? { 'process.pid': w.value('pid') } : {}), ...extra };
  const with1 = (k: string, v: string): Attributes => ({ ...base, [k]: v });
  const put = (obs: OtelObservableLike, value: number, attrs: Attributes = base): void => {
    if (Number.isFinite(value)) result.observe(obs, value, attrs);
  };
  put(inst.samples, w.seen);
  put(inst.lost, w.lost);
  put(inst.failed, w.failed);
  put(inst.missed, w.missedDeadlines);
  if (!w.hasSample) return;
  const user = w.value('cpuUserUs');
  const system = w.value('cpuSystemUs');
  const at = w.value('timestamp');
  put(inst.cpuTime, user / 1e6, with1('cpu.mode', 'user'));
  put(inst.cpuTime, system / 1e6, with1('cpu.mode', 'system'));
  const [u0, s0, t0] = cpu.last ?? [0, 0, w.value('startTime')];
  const wallUs = (at - t0) * 1e3;
  if (wallUs > 0 && user >= u0 && system >= s0) {
    put(inst.cpuUtil, (user - u0) / wallUs / cpu.cpus, with1('cpu.mode', 'user'));
    put(inst.cpuUtil, (system - s0) / wallUs / cpu.cpus, with1('cpu.mode', 'system'));
  }
  if (at !== cpu.last?.[2]) cpu.last = [user, system, at];
  put(inst.memUsage, w.value('rssBytes'));
  put(inst.memVirtual, w.value('vmsBytes'));
  put(inst.threads, w.value('threads'));
  put(inst.fds, w.value('openFds'));
  put(inst.ctx, w.value('voluntaryContextSwitches'), with1('process.context_switch.type', 'voluntary'));
  put(inst.ctx, w.value('involuntaryContextSwitches'), with1('process.context_switch.type', 'involuntary'));
  put(inst.faults, w.value('minorPageFaults'), with1('system.paging.fault.type', 'minor'));
  put(inst.faults, w.value('majorPageFaults'), with1('system.paging.fault.type', 'major'));
  put(inst.uptime, (at - w.value('startTime')) / 1e3);
  put(inst.memPeak, w.takePeak('rssBytes'));
  put(inst.fdsPeak, w.takePeak('openFds'));
  put(inst.threadsPeak, w.takePeak('threads'));
  const rec = w.latestRecord;
  w.reader.gaugeNames().forEach((name, i) => put(inst.gauges, rec[R.GAUGES + i]!, with1('procprobe.gauge.name', name)));
}
