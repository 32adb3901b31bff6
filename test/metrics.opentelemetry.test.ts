/**
 * src/metrics/opentelemetry.ts through the real OpenTelemetry SDK (MeterProvider + a pull reader):
 * semantic-convention names, units and attributes, and every value against an independent reader
 * (process.resourceUsage(), /proc read here).
 */
import { closeSync, openSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { MeterProvider, MetricReader, type MetricData } from '@opentelemetry/sdk-metrics';
import { afterEach, describe, expect, it } from 'vitest';
import { RealTimeMonitor, registerOpenTelemetryMetrics, type OpenTelemetryMetrics } from '../dist/index.js';
import { MiB, selfFds, selfThreads, spin, statmRss } from './helpers/monitor-readers.js';
import { sleep, startTimeMs, thrown, waitFor } from './helpers/readers.js';

/** A reader the test pulls from. */
class PullReader extends MetricReader {
  protected async onShutdown(): Promise<void> {}
  protected async onForceFlush(): Promise<void> {}
}

let mon: RealTimeMonitor | undefined;
let exp: OpenTelemetryMetrics | undefined;
let provider: MeterProvider | undefined;
afterEach(async () => {
  exp?.close();
  exp = undefined;
  await provider?.shutdown();
  provider = undefined;
  await mon?.stop();
  mon = undefined;
});

async function setup(attributes?: Record<string, string>) {
  const m = (mon = new RealTimeMonitor({ samplingIntervalMs: 1 }));
  await m.start();
  const reader = new PullReader();
  provider = new MeterProvider({ readers: [reader] });
  exp = registerOpenTelemetryMetrics(m, { meter: provider.getMeter('procprobe-test'), ...(attributes ? { attributes } : {}) });
  await sleep(20);
  return { m, reader };
}

/** Every metric of one collection, by name. */
async function collect(reader: MetricReader): Promise<Map<string, MetricData>> {
  const { resourceMetrics, errors } = await reader.collect();
  expect(errors).toEqual([]);
  return new Map(resourceMetrics.scopeMetrics.flatMap((s) => s.metrics).map((md) => [md.descriptor.name, md]));
}
function point(all: Map<string, MetricData>, name: string, attrs: Record<string, string> = {}): { value: number; attributes: Record<string, unknown> } {
  const md = all.get(name);
  if (!md) throw new Error(`no metric ${name}`);
  const hits = (md.dataPoints as { value: unknown; attributes: Record<string, unknown> }[]).filter((p) =>
    Object.entries(attrs).every(([k, v]) => p.attributes[k] === v),
  );
  if (hits.length !== 1) throw new Error(`${hits.length} points of ${name} ${JSON.stringify(attrs)}`);
  return hits[0] as { value: number; attributes: Record<string, unknown> };
}

describe('registerOpenTelemetryMetrics', () => {
  it('uses the semantic conventions and agrees with process.resourceUsage() and /proc', async () => {
    const { reader } = await setup({ 'service.name': 'api' });
    const ru0 = process.resourceUsage();
    const all = await collect(reader);
    const ru1 = process.resourceUsage();
    const want: [string, string][] = [
      ['process.cpu.time', 's'], ['process.cpu.utilization', '1'], ['process.memory.usage', 'By'],
      ['process.memory.virtual', 'By'], ['process.thread.count', '{thread}'],
      ['process.unix.file_descriptor.count', '{file_descriptor}'], ['process.context_switches', '{context_switch}'],
      ['process.paging.faults', '{fault}'], ['process.uptime', 's'],
    ];
    for (const [name, unit] of want) expect(all.get(name)?.descriptor.unit, name).toBe(unit);
    expect(all.has('process.open_file_descriptor.count')).toBe(false); // deprecated in the conventions
    for (const md of all.values()) {
      for (const p of md.dataPoints) expect(p.attributes['service.name'], md.descriptor.name).toBe('api');
    }
    const user = point(all, 'process.cpu.time', { 'cpu.mode': 'user' });
    expect(user.attributes['process.pid']).toBe(process.pid);
    expect(user.value).toBeLessThanOrEqual(ru1.userCPUTime / 1e6 + 0.005);
    expect(user.value).toBeGreaterThanOrEqual(ru0.userCPUTime / 1e6 - 0.05);
    const sys = point(all, 'process.cpu.time', { 'cpu.mode': 'system' }).value;
    expect(sys).toBeLessThanOrEqual(ru1.systemCPUTime / 1e6 + 0.005);
    expect(sys).toBeGreaterThanOrEqual(ru0.systemCPUTime / 1e6 - 0.05);
    expect(Math.abs(point(all, 'process.memory.usage').value - statmRss('self'))).toBeLessThanOrEqual(8 * MiB);
    expect(Math.abs(point(all, 'process.unix.file_descriptor.count').value - selfFds())).toBeLessThanOrEqual(3);
    expect(Math.abs(point(all, 'process.thread.count').value - selfThreads())).toBeLessThanOrEqual(2);
    const vol = point(all, 'process.context_switches', { 'process.context_switch.type': 'voluntary' }).value;
    expect(vol).toBeGreaterThan(0);
    expect(vol).toBeLessThanOrEqual(ru1.voluntaryContextSwitches);
    const minor = point(all, 'process.paging.faults', { 'system.paging.fault.type': 'minor' }).value;
    expect(minor).toBeLessThanOrEqual(ru1.minorPageFault);
    expect(minor).toBeGreaterThan(ru0.minorPageFault * 0.9);
    const uptime = point(all, 'process.uptime').value;
    expect(Math.abs(uptime * 1e3 - (Date.now() - startTimeMs('self')))).toBeLessThanOrEqual(1100);
    expect(point(all, 'procprobe.sampler.samples').value).toBeGreaterThan(5);
    expect(point(all, 'procprobe.sampler.lost_samples').value).toBe(0);
  });

  it('process.cpu.utilization is the CPU time between collections over wall time and CPUs', async () => {
    const { reader } = await setup();
    await collect(reader);
    const t0 = performance.now();
    const ru0 = process.resourceUsage();
    // Spin for CPU time, not wall time: on a loaded machine 300 ms of wall time gave 10 ms of CPU,
    // and the comparison then measured nothing.
    let ru1 = process.resourceUsage();
    while (ru1.userCPUTime - ru0.userCPUTime < 150_000 && performance.now() - t0 < 5000) {
      spin(5);
      ru1 = process.resourceUsage();
    }
    const wall = performance.now() - t0;
    await sleep(5);
    const all = await collect(reader);
    const cpus = availableParallelism();
    // What Node counts over the spin, in the same unit (the collection window is a few ms wider).
    const expected = (ru1.userCPUTime - ru0.userCPUTime) / 1e3 / wall / cpus;
    const got = point(all, 'process.cpu.utilization', { 'cpu.mode': 'user' }).value;
    expect(Math.abs(got - expected), `utilization ${got}, node ${expected} (${cpus} CPUs)`).toBeLessThanOrEqual(0.1 / cpus + 0.03);
    expect(ru1.userCPUTime - ru0.userCPUTime, 'the spin burnt CPU').toBeGreaterThanOrEqual(150_000);
  });

  it('reports the peak fds between collections, then starts over; close() stops observing', async () => {
    const { m, reader } = await setup();
    await collect(reader);
    const fds: number[] = [];
    for (let i = 0; i < 40; i++) fds.push(openSync('/dev/null', 'r'));
    const held = selfFds();
    await waitFor('a sample with the fds open', () => (m.getRecentSnapshots(1)[0]!.openFiles >= held - 3 ? true : undefined), 5000);
    for (const fd of fds) closeSync(fd);
    const closed = selfFds();
    await waitFor('a sample after the close', () => (m.getRecentSnapshots(1)[0]!.openFiles <= closed + 3 ? true : undefined), 5000);
    const a = await collect(reader);
    expect(point(a, 'procprobe.process.unix.file_descriptor.count.peak').value).toBeGreaterThanOrEqual(held - 3);
    expect(point(a, 'process.unix.file_descriptor.count').value).toBeLessThanOrEqual(selfFds() + 3);
    const b = await collect(reader);
    expect(point(b, 'procprobe.process.unix.file_descriptor.count.peak').value).toBeLessThanOrEqual(selfFds() + 3);

    m.gauge('queue_size').set(9);
    await sleep(10);
    expect(point(await collect(reader), 'procprobe.gauge', { 'procprobe.gauge.name': 'queue_size' }).value).toBe(9);

    // After close() nothing is observed any more: the SDK keeps the last cumulative points, unchanged.
    exp!.close();
    exp!.close();
    const c1 = await collect(reader);
    spin(50);
    await sleep(10);
    const c2 = await collect(reader);
    for (const name of ['process.cpu.time', 'procprobe.sampler.samples']) {
      const v1 = (c1.get(name)?.dataPoints ?? []).map((p) => p.value);
      expect((c2.get(name)?.dataPoints ?? []).map((p) => p.value), name).toEqual(v1);
    }
  });

  it('bad options are typed errors naming the option', () => {
    const m = (mon = new RealTimeMonitor({ samplingIntervalMs: 5 }));
    const e = thrown(() => registerOpenTelemetryMetrics(m, {} as never));
    expect(e.code).toBe('ERR_PROCPROBE_INVALID_OPTION');
    expect(e.option).toBe('options.meter');
    provider = new MeterProvider();
    const meter = provider.getMeter('x');
    expect(thrown(() => registerOpenTelemetryMetrics(m, { meter, attributes: { a: {} as never } })).option).toBe('options.attributes.a');
    expect(thrown(() => registerOpenTelemetryMetrics(m, { meter, foldIntervalMs: -1 })).option).toBe('options.foldIntervalMs');
  });
});
