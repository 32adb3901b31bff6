/**
 * Prometheus: a running sampler's ring as prom-client metrics, read at scrape time.
 *
 * procprobe does not depend on prom-client: pass the module your registry comes from
 * (`import client from 'prom-client'`), so that the metrics are that module's own Gauge and
 * Counter classes and land in your registry. A scrape folds the ring once (no messages, no sampler
 * involvement; every metric of one scrape comes from the same sample) and each `collect()` sets its value; counters advance by the difference since
 * the previous scrape, as prom-client's own process metrics do.
 *
 * Names follow Prometheus' process conventions (`process_cpu_seconds_total`,
 * `process_resident_memory_bytes`, ...) under a prefix (default `procprobe_`), so they never
 * collide with `collectDefaultMetrics()`. Beside the latest values the ring gives what a scrape
 * alone cannot: the peak RSS, fds and threads since the previous scrape (`*_peak`).
 */
import { InvalidOptionError } from '../errors.js';
import { R } from '../ring/layout.js';
import { checkObject, checkOptions, optionKeys, pickOptions } from '../validate.js';
import { LiveWindow, WINDOW_OPTIONS, type LiveSource, type LiveWindowOptions, type PeakField } from './window.js';

/** The part of a prom-client metric procprobe uses. */
interface PromMetricLike {
  set?(labels: Record<string, string>, value: number): void;
  inc?(labels: Record<string, string>, value: number): void;
  reset(): void;
}

/** The part of a prom-client Registry procprobe uses. */
export interface PromRegistryLike {
  removeSingleMetric(name: string): void;
  getSingleMetric(name: string): unknown;
  readonly contentType?: string;
}

/** A metric's configuration as procprobe builds it (what prom-client's Gauge and Counter take). */
interface MetricConfig {
  name: string;
  help: string;
  labelNames: string[];
  registers: PromRegistryLike[];
  collect(this: PromMetricLike): void;
}

/**
 * A prom-client metric class. Its parameter is `never` so that prom-client's own classes are
 * assignable: their configuration wants a full Registry where procprobe knows only the part it
 * uses, and parameters are contravariant. `construct` makes the call with the real config.
 */
type MetricCtor = new (config: never) => PromMetricLike;

function construct(ctor: MetricCtor, config: MetricConfig): PromMetricLike {
  return new (ctor as unknown as new (config: MetricConfig) => PromMetricLike)(config);
}

/** The part of the prom-client module procprobe uses (`import client from 'prom-client'`). */
export interface PromClientLike {
  Gauge: MetricCtor;
  Counter: MetricCtor;
  register: PromRegistryLike;
}

/** Options of {@link registerPrometheusMetrics}. */
export interface PrometheusOptions extends LiveWindowOptions {
  /** The prom-client module (required). */
  client: PromClientLike;
  /** Registry to register in. Default: `client.register`, the global registry. */
  registry?: PromRegistryLike;
  /** Prepended to every metric name. Default `'procprobe_'`. */
  prefix?: string;
  /** Constant labels on every series, e.g. `{ app: 'api' }`. Default none. */
  labels?: Record<string, string>;
}

/** What {@link registerPrometheusMetrics} returns. */
export interface PrometheusMetrics {
  /** The registered metric names. */
  readonly names: readonly string[];
  /** The ring view behind the metrics (records seen, lost, failed). */
  readonly window: LiveWindow;
  /** Remove the metrics from the registry and stop folding. Idempotent. */
  close(): void;
}

const PROMETHEUS_OPTIONS = Object.freeze([
  ...WINDOW_OPTIONS,
  ...optionKeys<Omit<PrometheusOptions, keyof LiveWindowOptions>>({ client: true, registry: true, prefix: true, labels: true }),
]);

const NAME_RE = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_RE = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const OPENMETRICS = 'application/openmetrics-text';

/**
 * Register the sampler's metrics in a prom-client registry. The source must stay alive while
 * they are registered; a source that is stopped keeps reporting its last values.
 *
 * @throws InvalidOptionError for a missing client, a bad prefix or label, or a name already registered.
 */
export function registerPrometheusMetrics(source: LiveSource, options: PrometheusOptions): PrometheusMetrics {
  const o = checkOptions('options', options, PROMETHEUS_OPTIONS, 'registerPrometheusMetrics');
  const { client, registry, prefix, labels } = checkClient(o);
  const w = new LiveWindow(source, pickOptions(o, WINDOW_OPTIONS));
  const r = new Registrar(client, registry, prefix, labels, w);
  try {
    registerAll(r, w);
  } catch (e) {
    r.removeAll();
    w.close();
    throw e;
  }
  let closed = false;
  return {
    names: r.created,
    window: w,
    close() {
      if (closed) return;
      closed = true;
      r.removeAll();
      w.close();
    },
  };
}

function checkClient(o: Record<string, unknown>): { client: PromClientLike; registry: PromRegistryLike; prefix: string; labels: Record<string, string> } {
  const client = o.client as PromClientLike | undefined;
  if (!client || typeof client.Gauge !== 'function' || typeof client.Counter !== 'function') {
    throw new InvalidOptionError('options.client', "the prom-client module (import client from 'prom-client')", client);
  }
  const registry = (o.registry ?? client.register) as PromRegistryLike;
  if (!registry || typeof registry.removeSingleMetric !== 'function' || typeof registry.getSingleMetric !== 'function') {
    throw new InvalidOptionError('options.registry', 'a prom-client Registry', o.registry);
  }
  const prefix = o.prefix ?? 'procprobe_';
  if (typeof prefix !== 'string' || (prefix !== '' && !NAME_RE.test(prefix))) {
    throw new InvalidOptionError('options.prefix', 'a metric name prefix matching [a-zA-Z_:][a-zA-Z0-9_:]*', prefix);
  }
  const constLabels = checkObject('options.labels', o.labels) as Record<string, unknown>;
  for (const [k, v] of Object.entries(constLabels)) {
    if (!LABEL_RE.test(k) || k.startsWith('__') || k === 'kind' || k === 'name') {
      throw new InvalidOptionError(`options.labels`, "label names matching [a-zA-Z_][a-zA-Z0-9_]* (not __*, 'kind' or 'name')", k);
    }
    if (typeof v !== 'string') throw new InvalidOptionError(`options.labels.${k}`, 'a string', v);
  }
  return { client, registry, prefix, labels: constLabels as Record<string, string> };
}

/** Every metric, in the order a scrape lists them. */
function registerAll(r: Registrar, w: LiveWindow): void {
  const v = (field: Parameters<LiveWindow['value']>[0]) => () => w.value(field);
  r.counter('process_cpu_user_seconds', 'User CPU time, seconds (1 µs resolution).', [[undefined, () => w.value('cpuUserUs') / 1e6]]);
  r.counter('process_cpu_system_seconds', 'System CPU time, seconds (1 µs resolution).', [[undefined, () => w.value('cpuSystemUs') / 1e6]]);
  r.counter('process_cpu_seconds', 'User and system CPU time, seconds.', [[undefined, () => (w.value('cpuUserUs') + w.value('cpuSystemUs')) / 1e6]]);
  r.gauge('process_resident_memory_bytes', 'Resident set size, bytes (latest sample).', v('rssBytes'));
  r.peak('process_resident_memory_peak_bytes', 'Highest resident set size sampled since the previous scrape, bytes.', 'rssBytes');
  r.gauge('process_virtual_memory_bytes', 'Virtual memory size, bytes.', v('vmsBytes'));
  r.gauge('process_open_fds', 'Open file descriptors (handles on Windows).', v('openFds'));
  r.peak('process_open_fds_peak', 'Most open file descriptors sampled since the previous scrape.', 'openFds');
  r.gauge('process_threads', 'Threads.', v('threads'));
  r.peak('process_threads_peak', 'Most threads sampled since the previous scrape.', 'threads');
  r.counter('process_context_switches', 'Context switches over all threads, by kind.', [
    ['voluntary', v('voluntaryContextSwitches')],
    ['involuntary', v('involuntaryContextSwitches')],
  ]);
  r.counter('process_page_faults', 'Page faults, by kind.', [
    ['minor', v('minorPageFaults')],
    ['major', v('majorPageFaults')],
  ]);
  r.gauge('process_start_time_seconds', 'Process start, seconds since the Unix epoch.', () => w.value('startTime') / 1e3);
  r.counter('sampler_samples', 'Samples read from the ring by this exporter.', [[undefined, () => w.seen]]);
  r.counter('sampler_lost_samples', 'Samples overwritten in the ring before this exporter read them.', [[undefined, () => w.lost]]);
  r.counter('sampler_failed_reads', 'Samples whose read failed (the target exited, access denied, ...).', [[undefined, () => w.failed]]);
  r.counter('sampler_missed_deadlines', 'Sampling deadlines the sampler missed.', [[undefined, () => w.missedDeadlines]]);
  r.customGauges();
}

/** Makes the metrics: prefixed names checked free, constant labels, every collect() folding the ring first. */
class Registrar {
  readonly created: string[] = [];
  readonly #client: PromClientLike;
  readonly #registry: PromRegistryLike;
  readonly #prefix: string;
  readonly #labels: Record<string, string>;
  readonly #labelNames: string[];
  readonly #w: LiveWindow;
  /** prom-client appends _total to counters itself in an OpenMetrics registry. */
  readonly #total: string;

  constructor(client: PromClientLike, registry: PromRegistryLike, prefix: string, labels: Record<string, string>, w: LiveWindow) {
    this.#client = client;
    this.#registry = registry;
    this.#prefix = prefix;
    this.#labels = labels;
    this.#labelNames = Object.keys(labels);
    this.#w = w;
    this.#total = String(registry.contentType ?? '').startsWith(OPENMETRICS) ? '' : '_total';
  }

  gauge(name: string, help: string, read: () => number): void {
    const w = this.#w;
    const labels = this.#labels;
    this.#register(name, (full) =>
      construct(this.#client.Gauge, {
        name: full,
        help,
        labelNames: this.#labelNames,
        registers: [this.#registry],
        collect() {
          w.foldForScrape();
          this.set!(labels, read());
        },
      }),
    );
  }

  peak(name: string, help: string, field: PeakField): void {
    this.gauge(name, help, () => this.#w.takePeak(field));
  }

  /** A counter of one or more series (label `kind`), each advancing to a cumulative value read from the ring. */
  counter(name: string, help: string, series: [kind: string | undefined, read: () => number][]): void {
    const w = this.#w;
    const labels = this.#labels;
    const last = series.map(() => 0);
    this.#register(name + this.#total, (full) =>
      construct(this.#client.Counter, {
        name: full,
        help,
        labelNames: series[0]![0] === undefined ? this.#labelNames : [...this.#labelNames, 'kind'],
        registers: [this.#registry],
        collect() {
          w.foldForScrape();
          series.forEach(([kind, read], i) => {
            const v = read();
            if (!Number.isFinite(v)) return;
            // A cumulative value that went down means a new target (pid reuse, restart): count it anew.
            const delta = v >= last[i]! ? v - last[i]! : v;
            last[i] = v;
            this.inc!(kind === undefined ? labels : { ...labels, kind }, delta);
          });
        },
      }),
    );
  }

  /** The monitor's gauges, one series per name (label `name`), latest sample. */
  customGauges(): void {
    const w = this.#w;
    const labels = this.#labels;
    this.#register('gauge', (full) =>
      construct(this.#client.Gauge, {
        name: full,
        help: 'Custom gauges of the monitor (label name), latest sample.',
        labelNames: [...this.#labelNames, 'name'],
        registers: [this.#registry],
        collect() {
          w.foldForScrape();
          this.reset();
          const rec = w.latestRecord;
          w.reader.gaugeNames().forEach((name, i) => this.set!({ ...labels, name }, rec[R.GAUGES + i]!));
        },
      }),
    );
  }

  removeAll(): void {
    for (const name of this.created) this.#registry.removeSingleMetric(name);
  }

  #register(name: string, make: (full: string) => void): void {
    const full = this.#prefix + name;
    if (this.#registry.getSingleMetric(full) !== undefined) {
      throw new InvalidOptionError('options.prefix', `a prefix whose names are free (${full} is already registered)`, this.#prefix);
    }
    make(full);
    this.created.push(full);
  }
}
