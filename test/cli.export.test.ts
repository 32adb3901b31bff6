/**
 * `procprobe export` and `procprobe report` end to end, on one real quick-start session: each
 * format parsed here (JSON.parse, msgpackr, line by line) and checked against the session as the
 * data dir's index holds it (decoded here) and the sample count `run --json` reported.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { unpack } from 'msgpackr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanup, freePort, newDataDir, notNodeHooks, PHASES, readIndex, runCli } from './helpers/cli.js';
import { tempDir } from './helpers/temp-dirs.js';
import { SCHEMA_VERSION } from '../dist/schema.js';

interface Phase {
  name: string;
  startOffsetMs: number;
  durationMs: number;
  success: boolean;
}
interface TraceEvent {
  name: string;
  ph: string;
  ts: number;
  cat?: string;
  dur?: number;
  pid: number;
  args?: { value?: number };
}

const T = 120_000;
let dir = '';
let id = '';
let samples = 0;
let summary: { id: string; startTime: number; endTime: number; phases: Phase[] };
let out = '';

beforeAll(async () => {
  const port = await freePort();
  dir = newDataDir();
  out = tempDir('procprobe-cli-');
  const url = `http://127.0.0.1:${port}/health`;
  const r = await runCli(['run', '--json', '--port', String(port), '--health-url', url, '--data-dir', dir, '--', 'node', 'examples/server.mjs', String(port)]);
  expect(r.code, r.stderr).toBe(0);
  const run = JSON.parse(r.stdout).runs[0];
  id = run.sessionId;
  samples = run.samples;
  expect(samples).toBeGreaterThan(1);
  [summary] = readIndex(dir);
  expect(summary.id).toBe(id);
}, T);
afterAll(cleanup);

const exportTo = async (format: string, file: string, extra: string[] = []) => {
  const r = await runCli(['export', id, '--format', format, '-o', join(out, file), '--data-dir', dir, ...extra]);
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout).toBe(''); // written to the file, not stdout
  return readFileSync(join(out, file));
};

describe('procprobe export', () => {
  it('--format msgpack decodes with msgpackr: the summary and every sample', async () => {
    const doc = unpack(await exportTo('msgpack', 's.msgpack')) as {
      schemaVersion: number;
      summary: typeof summary;
      samples: { count: number; stride: number; records: Float64Array };
    };
    expect(doc.schemaVersion).toBe(SCHEMA_VERSION);
    expect(doc.summary).toEqual(summary);
    expect(doc.samples.count).toBe(samples);
    expect(doc.samples.records).toBeInstanceOf(Float64Array);
    expect(doc.samples.records.length).toBe(doc.samples.count * doc.samples.stride);
  }, T);

  it('--format chrome-trace: X events for each phase (ts/dur in µs), C counter events', async () => {
    const trace = JSON.parse((await exportTo('chrome-trace', 'trace.json')).toString('utf8')) as {
      traceEvents: TraceEvent[];
      displayTimeUnit: string;
      metadata: { schemaVersion: number };
    };
    expect(trace.displayTimeUnit).toBe('ms');
    expect(trace.metadata.schemaVersion).toBe(SCHEMA_VERSION);
    // The phases; the tree's process lifespans (cat 'process') are export.chrome-trace-processes.test.ts's,
    // a Node process's modules and GC pauses (cat 'module', 'gc') export.chrome-trace-node.test.ts's.
    const x = trace.traceEvents.filter((e) => e.ph === 'X' && !['process', 'module', 'gc'].includes(e.cat!));
    expect(x.map((e) => e.name).filter(notNodeHooks).sort()).toEqual([...PHASES].sort());
    const ev = (name: string) => x.find((e) => e.name === name)!;
    for (const p of summary.phases) {
      const e = ev(p.name);
      expect(Number.isInteger(e.ts) && Number.isInteger(e.dur)).toBe(true);
      expect(e.ts).toBeGreaterThanOrEqual(0);
      expect(Math.abs(e.dur! - p.durationMs * 1000)).toBeLessThanOrEqual(2); // µs, rounded
    }
    // Relative placement in µs matches the phases' offsets in ms.
    const tot = summary.phases.find((p) => p.name === 'total_startup')!;
    const health = summary.phases.find((p) => p.name === 'health_verification')!;
    expect(Math.abs(ev('health_verification').ts - ev('total_startup').ts - (health.startOffsetMs - tot.startOffsetMs) * 1000)).toBeLessThanOrEqual(2);

    const c = trace.traceEvents.filter((e) => e.ph === 'C');
    const names = new Set(c.map((e) => e.name));
    for (const n of ['cpuPercent', 'rssBytes', 'threads', 'openFds']) expect(names.has(n), [...names].join()).toBe(true);
    for (const e of c) expect(Number.isFinite(e.args?.value)).toBe(true);
    const rss = c.filter((e) => e.name === 'rssBytes');
    expect(rss.length).toBeGreaterThan(1);
    expect(rss.length).toBeLessThanOrEqual(samples);
    expect(Math.max(...rss.map((e) => e.args!.value!))).toBeGreaterThan(10 * 2 ** 20); // a node server

    // --max-points bounds every counter series.
    const small = JSON.parse((await exportTo('chrome-trace', 'small.json', ['--max-points', '10'])).toString('utf8')) as { traceEvents: TraceEvent[] };
    const per = new Map<string, number>();
    for (const e of small.traceEvents.filter((e) => e.ph === 'C')) per.set(e.name, (per.get(e.name) ?? 0) + 1);
    expect(per.size).toBe(names.size);
    for (const n of per.values()) expect(n).toBeLessThanOrEqual(10);
  }, T);

  it('--format csv: a header and one row per sample, timestamps within the session', async () => {
    const text = (await exportTo('csv', 's.csv')).toString('utf8');
    expect(text.endsWith('\r\n')).toBe(true);
    const lines = text.slice(0, -2).split('\r\n');
    expect(lines).toHaveLength(samples + 1);
    const header = lines[0]!.split(',');
    expect(header.slice(0, 2)).toEqual(['seq', 'timestamp']); // the first line: no version comment before it
    const ts = lines.slice(1).map((l) => Number(l.split(',')[1]));
    for (let i = 0; i < ts.length; i++) {
      expect(lines[i + 1]!.split(',')).toHaveLength(header.length);
      expect(ts[i]).toBeGreaterThanOrEqual(summary.startTime - 1000);
      expect(ts[i]).toBeLessThanOrEqual(summary.endTime + 1000);
      if (i > 0) expect(ts[i]).toBeGreaterThanOrEqual(ts[i - 1]!);
    }
  }, T);

  it('--format openmetrics: # TYPE lines, phase durations in seconds, ends with # EOF', async () => {
    const text = (await exportTo('openmetrics', 's.om')).toString('utf8');
    expect(text.endsWith('# EOF\n')).toBe(true);
    expect(text).toContain(`\nprocprobe_export_info{session="${id}",schema_version="${SCHEMA_VERSION}"} 1.0\n`);
    expect(text.match(/^# TYPE \S+ (gauge|counter)$/gm)!.length).toBeGreaterThanOrEqual(3);
    for (const p of summary.phases) {
      const re = new RegExp(`^procprobe_phase_duration_seconds\\{session="${id}",phase="${p.name}"\\} (\\S+)$`, 'm');
      const m = re.exec(text);
      expect(m, p.name).not.toBeNull();
      expect(Number(m![1])).toBeCloseTo(p.durationMs / 1000, 9);
    }
  }, T);

  it('--format json parses and holds the session; --format bogus is bad usage (exit 2, nothing written)', async () => {
    const doc = JSON.parse((await exportTo('json', 's.json')).toString('utf8'));
    expect(doc.schemaVersion).toBe(SCHEMA_VERSION);
    expect(doc.summary.id).toBe(id);
    expect(doc.summary.phases.map((p: Phase) => p.name)).toEqual(summary.phases.map((p) => p.name));

    const target = join(out, 'bogus.out');
    const r = await runCli(['export', id, '--format', 'bogus', '-o', target, '--data-dir', dir]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^procprobe: --format must be one of .*got "bogus"/);
    expect(existsSync(target)).toBe(false);

    // No --format at all: the message names the formats (not "got null").
    const none = await runCli(['export', id, '-o', target, '--data-dir', dir]);
    expect(none.code).toBe(2);
    expect(none.stdout).toBe('');
    expect(none.stderr).toBe('procprobe: --format is required: one of chrome-trace, csv, json, msgpack, openmetrics\n');
    expect(existsSync(target)).toBe(false);
  }, T);
});

describe('procprobe report --html', () => {
  it('writes an HTML file naming every phase', async () => {
    const target = join(out, 'report.html');
    const r = await runCli(['report', id, '--html', target, '--data-dir', dir]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`wrote ${target}\n`);
    const html = readFileSync(target, 'utf8');
    expect(html).toMatch(/^<!doctype html>/i);
    expect(html).toContain(id);
    for (const name of PHASES) expect(html).toContain(name);
  }, T);
});
