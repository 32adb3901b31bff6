/**
 * src/metrics/prometheus.ts through a real prom-client registry: every value against an independent
 * reader (process.resourceUsage(), /proc read here, a child that reports its own RSS), the peaks
 * between scrapes, exact sample accounting, and the text checked by prometheus_client's parsers
 * (python3-prometheus-client, installed by .ci/run).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import client from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { RealTimeMonitor, registerPrometheusMetrics, type PrometheusMetrics } from '../dist/index.js';
import { MiB, selfFds, selfThreads, spin, statmRss } from './helpers/monitor-readers.js';
import { FIXTURES, killChildren, sleep, startTimeMs, thrown, track, waitFor } from './helpers/readers.js';
import { need, pythonWith } from './helpers/optional-readers.js';
import { promClientSamples } from './helpers/prom-client.js';

let mon: RealTimeMonitor | undefined;
let exp: PrometheusMetrics | undefined;
afterEach(async () => {
  exp?.close();
  exp = undefined;
  await mon?.stop();
  mon = undefined;
  await killChildren();
});

interface Line { name: string; labels: Record<string, string>; value: number }
/** The sample lines of Prometheus/OpenMetrics text (no comments), parsed here. */
function parse(text: string): Line[] {
  const out: Line[] = [];
  for (const l of text.split('\n')) {
    if (l === '' || l.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(l);
    if (!m) throw new Error(`unparsable line: ${l}`);
    const labels: Record<string, string> = {};
    for (const [, k, v] of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[k!] = v!;
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}
function valueOf(lines: Line[], name: string, labels: Record<string, string> = {}): number {
  const hit = lines.filter((l) => l.name === name && Object.entries(labels).every(([k, v]) => l.labels[k] === v));
  if (hit.length !== 1) throw new Error(`${hit.length} samples of ${name} ${JSON.stringify(labels)}`);
  return hit[0]!.value;
}

const P = 'procprobe_';
/** Texts scraped by the tests below, for the reference parser's test at the end of the file. */
const scraped: { text: string; format: 'prometheus' | 'openmetrics'; samples: number }[] = [];

describe('registerPrometheusMetrics', () => {
  it('reports this process as process.resourceUsage() and /proc see it', async () => {
    const m = (mon = new RealTimeMonitor({ samplingIntervalMs: 1 }));
    await m.start();
    const registry = new client.Registry();
    exp = registerPrometheusMetrics(m, { client, registry, labels: { app: 'api' } });
    await sleep(20);
    const ru0 = process.resourceUsage();
    const text = await registry.metrics();
    const ru1 = process.resourceUsage();
    const fds = selfFds();
    const threads = selfThreads();
    const rss = statmRss('self');
    const s = parse(text);
    scraped.push({ text, format: 'prometheus', samples: s.length });
    for (const l of s) expect(l.labels.app).toBe('api');

    // The newest sample is at most a few ms old: its CPU is within 50 ms of what Node counts.
    const cpuUser = valueOf(s, `${P}process_cpu_user_seconds_total`);
    const cpuSys = valueOf(s, `${P}process_cpu_system_seconds_total`);
    expect(cpuUser).toBeLessThanOrEqual(ru1.userCPUTime / 1e6 + 0.005);
    expect(cpuUser).toBeGreaterThanOrEqual(ru0.userCPUTime / 1e6 - 0.05);
    expect(cpuSys).toBeLessThanOrEqual(ru1.systemCPUTime / 1e6 + 0.005);
    expect(cpuSys).toBeGreaterThanOrEqual(ru0.systemCPUTime / 1e6 - 0.05);
    expect(valueOf(s, `${P}process_cpu_seconds_total`)).toBeCloseTo(cpuUser + cpuSys, 5);
    expect(Math.abs(valueOf(s, `${P}process_resident_memory_bytes`) - rss)).toBeLessThanOrEqual(8 * MiB);
    expect(Math.abs(valueOf(s, `${P}process_open_fds`) - fds)).toBeLessThanOrEqual(3);
    expect(Math.abs(valueOf(s, `${P}process_threads`) - threads)).toBeLessThanOrEqual(2);
    expect(Math.abs(valueOf(s, `${P}process_start_time_seconds`) * 1e3 - startTimeMs('self'))).toBeLessThanOrEqual(1000);
    const vol = valueOf(s, `${P}process_context_switches_total`, { kind: 'voluntary' });
    expect(vol).toBeGreaterThan(0);
    expect(vol).toBeLessThanOrEqual(ru1.voluntaryContextSwitches);
    expect(valueOf(s, `${P}process_page_faults_total`, { kind: 'minor' })).toBeLessThanOrEqual(ru1.minorPageFault);
    expect(valueOf(s, `${P}process_page_faults_total`, { kind: 'minor' })).toBeGreaterThan(ru0.minorPageFault * 0.9);

    // Counters advance by what happened between scrapes: the CPU a 200 ms spin burnt.
    const before = process.resourceUsage();
    spin(200);
    await sleep(10);
    const after = process.resourceUsage();
    const s2 = parse(await registry.metrics());
    const burnt = valueOf(s2, `${P}process_cpu_seconds_total`) - valueOf(s, `${P}process_cpu_seconds_total`);
    const nodeBurnt = (after.userCPUTime + after.systemCPUTime - before.userCPUTime - before.systemCPUTime) / 1e6;
    // spin() is wall time: on a loaded machine it burns less, so the reference is what Node counted.
    expect(nodeBurnt, 'the spin burnt CPU').toBeGreaterThan(0.1);
    expect(Math.abs(burnt - nodeBurnt), `exporter ${burnt} s, node ${nodeBurnt} s`).toBeLessThanOrEqual(0.06);
  });

  it('shows the fds opened and closed between two scrapes in process_open_fds_peak, then starts over', async () => {
    const m = (mon = new RealTimeMonitor({ samplingIntervalMs: 1 }));
    await m.start();
    const registry = new client.Registry();
    exp = registerPrometheusMetrics(m, { client, registry });
    await sleep(10);
    const base = selfFds();
    const s1 = parse(await registry.metrics());
    expect(Math.abs(valueOf(s1, `${P}process_open_fds_peak`) - base)).toBeLessThanOrEqual(3);
    const fds: number[] = [];
    for (let i = 0; i < 40; i++) fds.push(openSync('/dev/null', 'r'));
    const held = selfFds();
    await waitFor('a sample with the fds open', () => (m.getRecentSnapshots(1)[0]!.openFiles >= held - 3 ? true : undefined), 5000);
    for (const fd of fds) closeSync(fd);
    const closed = selfFds();
    await waitFor('a sample after the close', () => (m.getRecentSnapshots(1)[0]!.openFiles <= closed + 3 ? true : undefined), 5000);
    const s2 = parse(await registry.metrics());
    expect(valueOf(s2, `${P}process_open_fds_peak`)).toBeGreaterThanOrEqual(held - 3);
    expect(valueOf(s2, `${P}process_open_fds`)).toBeLessThanOrEqual(selfFds() + 3);
    const s3 = parse(await registry.metrics());
    expect(valueOf(s3, `${P}process_open_fds_peak`)).toBeLessThanOrEqual(selfFds() + 3);
  });

  it("catches another process's 100 ms RSS spike between scrapes, as the process itself measured it", async (ctx) => {
    need(ctx, 'python3');
    const child = track(spawn(pythonWith('sys')!, [join(FIXTURES, 'rss-spike.py')], { stdio: ['pipe', 'pipe', 'inherit'] })) as ChildProcess;
    const lines: string[] = [];
    let buf = '';
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      const parts = buf.split('\n');
      buf = parts.pop()!;
      lines.push(...parts);
    });
    const line = (word: string) =>
      waitFor(`'${word}' from the child`, () => {
        const l = lines.find((x) => x.startsWith(`${word} `));
        return l === undefined ? undefined : Number(l.split(' ')[1]);
      }, 10_000);
    await line('ready');
    const m = (mon = new RealTimeMonitor({ pid: child.pid!, samplingIntervalMs: 1, alerts: { cpuPercent: false, memoryPercent: false, openFds: false } }));
    await m.start();
    const registry = new client.Registry();
    exp = registerPrometheusMetrics(m, { client, registry });
    await sleep(10);
    const s1 = parse(await registry.metrics());
    const quiet = statmRss(child.pid!);
    expect(Math.abs(valueOf(s1, `${P}process_resident_memory_bytes`) - quiet)).toBeLessThanOrEqual(1 * MiB);

    child.stdin!.write('spike\n');
    const held = await line('held');
    const freed = await line('freed');
    expect(held - quiet).toBeGreaterThanOrEqual(60 * MiB);
    await waitFor('a sample after the free', () => (m.getRecentSnapshots(1)[0]!.rssBytes < held - 50 * MiB ? true : undefined), 5000);
    const s2 = parse(await registry.metrics());
    const peak = valueOf(s2, `${P}process_resident_memory_peak_bytes`);
    const now = valueOf(s2, `${P}process_resident_memory_bytes`);
    expect(peak, `peak ${peak} held ${held}`).toBeGreaterThanOrEqual(held - 1 * MiB);
    expect(now, `latest ${now} freed ${freed}`).toBeLessThanOrEqual(freed + 1 * MiB);
    expect(now).toBeLessThan(held - 50 * MiB);
    const s3 = parse(await registry.metrics());
    expect(valueOf(s3, `${P}process_resident_memory_peak_bytes`)).toBeLessThanOrEqual(freed + 1 * MiB);
  });

  it('counts every record exactly: seen + lost = written, with no loss when the ring is folded in time', async () => {
    // No fold timer on a 16-record ring at 1 kHz: most records are overwritten before the scrape.
    const small = (mon = new RealTimeMonitor({ samplingIntervalMs: 1, capacity: 16 }));
    const r1 = new client.Registry();
    exp = registerPrometheusMetrics(small, { client, registry: r1, foldIntervalMs: 0 });
    await small.start();
    await sleep(200);
    await small.stop();
    const s = parse(await r1.metrics());
    const written = small.stats.samples;
    expect(written).toBeGreaterThan(50);
    // One read after the writer stopped: the ring's 16 records, and everything before them lost.
    expect(valueOf(s, `${P}sampler_samples_total`)).toBe(16);
    expect(valueOf(s, `${P}sampler_lost_samples_total`)).toBe(written - 16);
    exp.close();

    // The default fold timer (half the ring's span) loses nothing.
    const big = (mon = new RealTimeMonitor({ samplingIntervalMs: 1, capacity: 400 }));
    const r2 = new client.Registry();
    exp = registerPrometheusMetrics(big, { client, registry: r2 });
    await big.start();
    await sleep(900);
    await big.stop();
    const t = parse(await r2.metrics());
    expect(big.stats.samples).toBeGreaterThan(450); // more than the ring holds
    expect(valueOf(t, `${P}sampler_lost_samples_total`)).toBe(0);
    expect(valueOf(t, `${P}sampler_samples_total`)).toBe(big.stats.samples);
    expect(valueOf(t, `${P}sampler_missed_deadlines_total`)).toBe(big.stats.missedDeadlines);
  });

  it('exports custom gauges; an OpenMetrics registry gets valid OpenMetrics with one _total per counter', async () => {
    const m = (mon = new RealTimeMonitor({ samplingIntervalMs: 1 }));
    m.gauge('queue_size').set(42);
    await m.start();
    await sleep(10);
    // @ts-expect-error prom-client 15 takes the content type (lib/registry.js), its index.d.ts omits the parameter
    const registry = new client.Registry(client.Registry.OPENMETRICS_CONTENT_TYPE);
    exp = registerPrometheusMetrics(m, { client, registry, prefix: 'svc_' });
    const text = await registry.metrics();
    const s = parse(text);
    scraped.push({ text, format: 'openmetrics', samples: s.length });
    expect(valueOf(s, 'svc_gauge', { name: 'queue_size' })).toBe(42);
    expect(s.some((l) => l.name === 'svc_process_cpu_seconds_total')).toBe(true);
    expect(s.some((l) => l.name.endsWith('_total_total'))).toBe(false);
    expect(s.every((l) => l.name.startsWith('svc_'))).toBe(true);
  });

  it('close() removes every metric; bad options and taken names are typed errors that register nothing', async () => {
    const m = (mon = new RealTimeMonitor({ samplingIntervalMs: 5 }));
    const registry = new client.Registry();
    new client.Gauge({ name: 'taken_process_threads', help: 'already here', registers: [registry] });
    const e1 = thrown(() => registerPrometheusMetrics(m, { client, registry, prefix: 'taken_' }));
    expect(e1.code).toBe('ERR_PROCPROBE_INVALID_OPTION');
    expect(e1.message).toContain('taken_process_threads is already registered');
    expect(registry.getMetricsAsArray().map((x) => x.name)).toEqual(['taken_process_threads']);
    expect(thrown(() => registerPrometheusMetrics(m, {} as never)).option).toBe('options.client');
    expect(thrown(() => registerPrometheusMetrics(m, { client, registry, prefix: '9bad' })).message).toBe(
      "options.prefix must be a metric name prefix matching [a-zA-Z_:][a-zA-Z0-9_:]*, got \"9bad\"",
    );
    expect(thrown(() => registerPrometheusMetrics(m, { client, registry, labels: { 'a-b': 'x' } })).option).toBe('options.labels');
    expect(thrown(() => registerPrometheusMetrics(m, { client, registry, labels: { app: 3 as never } })).option).toBe('options.labels.app');
    expect(thrown(() => registerPrometheusMetrics({} as never, { client, registry })).option).toBe('source');

    exp = registerPrometheusMetrics(m, { client, registry });
    expect(registry.getMetricsAsArray()).toHaveLength(1 + exp.names.length);
    exp.close();
    exp.close();
    expect(registry.getMetricsAsArray().map((x) => x.name)).toEqual(['taken_process_threads']);
  });

  // Runs after the scrapes above (a file's tests run in order): both text formats through the
  // reference parsers, which must count the same samples as the line parser here.
  it("the scraped texts parse with prometheus_client's Prometheus and OpenMetrics parsers", (ctx) => {
    need(ctx, 'prometheus_client');
    expect(scraped.map((x) => x.format).sort()).toEqual(['openmetrics', 'prometheus']);
    for (const x of scraped) expect(promClientSamples(x.text, x.format), x.format).toHaveLength(x.samples);
  });
});
