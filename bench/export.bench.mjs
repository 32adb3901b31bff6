/**
 * What a metrics scrape costs with the live exporters: a prom-client registry scrape of procprobe's
 * metrics (fed by a 1 kHz RealTimeMonitor's ring) against prom-client's own collectDefaultMetrics()
 * (what users would otherwise pick), and an OpenTelemetry collection of procprobe's instruments
 * against the same instruments observed from Node's built-ins.
 */
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import client from 'prom-client';
import { LiveWindow, RealTimeMonitor, RingReader, registerOpenTelemetryMetrics, registerPrometheusMetrics } from '../dist/index.js';
import { machine, row, runSuite, withRatios } from './harness.mjs';

export const name = 'export';
export const question =
  'What does one Prometheus scrape or OpenTelemetry collection of the live exporters cost, against prom-client\'s default metrics and against Node built-ins?';

class PullReader extends MetricReader {
  async onShutdown() {}
  async onForceFlush() {}
}

/** The OpenTelemetry baseline: instruments like procprobe's, observed from process.resourceUsage() and memoryUsage.rss(). */
function builtinInstruments(meter) {
  const cpu = meter.createObservableCounter('process.cpu.time', { unit: 's' });
  const mem = meter.createObservableUpDownCounter('process.memory.usage', { unit: 'By' });
  const ctx = meter.createObservableCounter('process.context_switches');
  const faults = meter.createObservableCounter('process.paging.faults');
  meter.addBatchObservableCallback((r) => {
    const ru = process.resourceUsage();
    r.observe(cpu, ru.userCPUTime / 1e6, { 'cpu.mode': 'user' });
    r.observe(cpu, ru.systemCPUTime / 1e6, { 'cpu.mode': 'system' });
    r.observe(mem, process.memoryUsage.rss());
    r.observe(ctx, ru.voluntaryContextSwitches, { 'process.context_switch.type': 'voluntary' });
    r.observe(ctx, ru.involuntaryContextSwitches, { 'process.context_switch.type': 'involuntary' });
    r.observe(faults, ru.minorPageFault, { 'system.paging.fault.type': 'minor' });
    r.observe(faults, ru.majorPageFault, { 'system.paging.fault.type': 'major' });
  }, [cpu, mem, ctx, faults]);
}

export async function run({ quick }) {
  const suite = quick ? { minSamples: 5, maxTime: 0.5 } : { minSamples: 30, maxTime: 3 };
  const mon = new RealTimeMonitor({ samplingIntervalMs: 1, capacity: 1000 });
  await mon.start();
  const defaults = new client.Registry();
  client.collectDefaultMetrics({ register: defaults });
  const ours = new client.Registry();
  const prom = registerPrometheusMetrics(mon, { client, registry: ours });
  const readers = [new PullReader(), new PullReader()];
  const providers = readers.map((reader) => new MeterProvider({ readers: [reader] }));
  builtinInstruments(providers[0].getMeter('builtin'));
  const otel = registerOpenTelemetryMetrics(mon, { meter: providers[1].getMeter('procprobe') });
  const scrape = (registry) => ({ defer: true, fn: (d) => registry.metrics().then(() => d.resolve()) });
  const collect = (reader) => ({ defer: true, fn: (d) => reader.collect().then(() => d.resolve()) });
  try {
    const measured = await runSuite(
      [
        { name: 'prom-client collectDefaultMetrics()', ...scrape(defaults) },
        { name: 'procprobe registerPrometheusMetrics', ...scrape(ours) },
        { name: 'OpenTelemetry: 4 instruments from process.resourceUsage()', ...collect(readers[0]) },
        { name: 'OpenTelemetry: procprobe registerOpenTelemetryMetrics', ...collect(readers[1]) },
      ],
      suite,
    );
    // What the fold timer costs the main thread: 1,000 records (one second at 1 kHz) per fold,
    // against copying the same records out of the ring with a RingReader.
    await new Promise((r) => setTimeout(r, 1100));
    await mon.stop(); // a full, still ring: every call reads the same 1,000 records
    const reader = new RingReader(mon.sharedBuffer);
    const out = new Float64Array(1000 * reader.stride);
    const [copy, fold] = await runSuite(
      [
        { name: 'RingReader.readSince of 1,000 records', fn: () => reader.readSince(reader.cursorAtOldest(), out) },
        { name: 'LiveWindow fold of 1,000 records', fn: () => new LiveWindow(mon, { foldIntervalMs: 0 }) },
      ],
      suite,
    );
    const foldRows = withRatios([
      row(copy.name, copy, 'the raw seqlocked copy into a caller-owned array', true),
      row(fold.name, fold, 'the same read plus latest row and peaks; the timer does this every capacity x interval / 2'),
    ]);
    const countLines = async (r) => (await r.metrics()).split('\n').filter((l) => l && !l.startsWith('#')).length;
    const [nDefault, nOurs] = [await countLines(defaults), await countLines(ours)];
    const promRows = withRatios([
      row(measured[0].name, measured[0], `${nDefault} series: /proc/self reads, heap and GC stats, event-loop lag`, true),
      row(measured[1].name, measured[1], `${nOurs} series from the ring, incl. peaks since the last scrape; no syscall`),
    ]);
    const otelRows = withRatios([
      row(measured[2].name, measured[2], 'CPU, RSS, context switches, page faults: 7 points', true),
      row(measured[3].name, measured[3], `17 instruments (semantic conventions + peaks + sampler health), ${prom.window.seen} records folded`),
    ]);
    return {
      rows: promRows,
      baselineName: measured[0].name,
      machine: machine(),
      tables: [
        { title: 'one Prometheus scrape (registry.metrics())', baselineName: measured[0].name, rows: promRows },
        { title: 'one OpenTelemetry collection (MetricReader.collect())', baselineName: measured[2].name, rows: otelRows },
        { title: 'folding the ring between scrapes (1,000 records = 1 s at 1 kHz)', baselineName: copy.name, rows: foldRows },
      ],
    };
  } finally {
    prom.close();
    otel.close();
    await Promise.all(providers.map((p) => p.shutdown()));
    await mon.stop();
  }
}
