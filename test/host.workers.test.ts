/**
 * The workers procprobe starts, seen from the host that runs them.
 *
 * A host started as `node --input-type=module -e …` (with an --import preload and a
 * NODE_OPTIONS --require preload) gets real samples from a Sampler, a RealTimeMonitor and a
 * PerformanceMonitor session, and neither preload runs in any of our workers: they start with a
 * clean execArgv and without NODE_OPTIONS (src/worker-options.ts). Before, every sampler worker
 * failed at boot ("--input-type can only be used with string input").
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES } from './fixtures/readers.js';
import { need } from './helpers/optional-readers.js';

const run = promisify(execFile);
const INDEX = new URL('../dist/index.js', import.meta.url).href;
const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'procprobe-host-'));
  dirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

interface HostRun {
  out: Record<string, any>;
  preloads: { preload: string; isMainThread: boolean; threadId: number }[];
  stderr: string;
}

/** `node --input-type=module --import <preload> -e <code>` with NODE_OPTIONS=--require <preload>. */
async function host(code: string): Promise<HostRun> {
  const args = ['--input-type=module', `--import=${new URL('host-preload.mjs', `file://${FIXTURES}/`).href}`, '-e', code];
  const env = { ...process.env, NODE_OPTIONS: `--require "${join(FIXTURES, 'host-preload.cjs')}"` };
  const r = await run(process.execPath, args, { env, encoding: 'utf8', timeout: 60_000 });
  const lines = r.stderr.split('\n').filter((l) => l.startsWith('{"preload"'));
  return { out: JSON.parse(r.stdout.trim().split('\n').at(-1)!), preloads: lines.map((l) => JSON.parse(l)), stderr: r.stderr };
}

const SAMPLERS = (dir: string) => `
import { PerformanceMonitor, RealTimeMonitor, RECORD, F, Sampler } from ${JSON.stringify(INDEX)};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const out = { execArgv: process.execArgv, pid: process.pid };
const s = new Sampler({ samplingIntervalMs: 5 });
s.on('error', (e) => (out.samplerError = e.message));
await s.start();
await sleep(60);
const row = new Float64Array(s.reader.stride);
s.reader.readLatest(row, 1);
out.sampler = { backend: s.backend, samples: s.stats.samples, pid: row[RECORD.ROW + F.pid], rssBytes: row[RECORD.ROW + F.rssBytes], nodeRss: process.memoryUsage().rss };
await s.stop();
const m = new RealTimeMonitor({ samplingIntervalMs: 5 });
await m.start();
await sleep(60);
const snap = m.getRecentSnapshots(1)[0];
out.monitor = { pid: snap?.pid, memoryMb: snap?.memoryMb, nodeRssMb: process.memoryUsage().rss / 1048576 };
await m.stop();
const pm = new PerformanceMonitor({ dataDir: ${JSON.stringify(dir)} });
const st = await pm.getPerformanceStats({ days: 1 });
out.stats = { sessionCount: st.sessionCount };
await pm.close();
console.log(JSON.stringify(out));`;

const SESSION = (dir: string) => `
import { readdirSync } from 'node:fs';
import { PerformanceMonitor } from ${JSON.stringify(INDEX)};
const pm = new PerformanceMonitor({ dataDir: ${JSON.stringify(dir)} });
const errors = [];
pm.on('error', (e) => errors.push(e.code + ': ' + e.message));
pm.startSession({ label: 'input-type' });
await pm.samplingReady();
await pm.timeOperation('work', () => new Promise((r) => setTimeout(r, 40)));
const session = await pm.finishSession();
const sum = pm.getResourceUsageSummary();
const nodeRss = process.memoryUsage().rss;
await pm.close();
console.log(JSON.stringify({ saved: session.saved, samples: sum?.samples, rssEndBytes: sum?.rssEndBytes, nodeRss, errors, files: readdirSync(${JSON.stringify(dir)} + '/sessions') }));`;

describe('a host started as node --input-type=module -e, with an --import and a NODE_OPTIONS preload', () => {
  let samplers: HostRun;
  let session: HostRun;
  beforeAll(async () => {
    [samplers, session] = await Promise.all([host(SAMPLERS(tempDir())), host(SESSION(tempDir()))]);
  }, 90_000);

  it('gets real samples from a Sampler and a RealTimeMonitor, and stats from the analysis pool', (ctx) => {
    need(ctx, 'addon');
    const { out } = samplers;
    expect(out.execArgv).toContain('--input-type=module');
    expect(out.samplerError).toBeUndefined();
    expect(out.sampler.backend).toBe('native');
    expect(out.sampler.samples).toBeGreaterThan(3);
    expect(out.sampler.pid).toBe(out.pid);
    // A real reading: within 20% of what Node says of its own RSS a moment later.
    expect(Math.abs(out.sampler.rssBytes - out.sampler.nodeRss)).toBeLessThanOrEqual(out.sampler.nodeRss * 0.2);
    expect(out.monitor.pid).toBe(out.pid);
    expect(Math.abs(out.monitor.memoryMb - out.monitor.nodeRssMb)).toBeLessThanOrEqual(out.monitor.nodeRssMb * 0.2);
    expect(out.stats).toEqual({ sessionCount: 0 });
  });

  it("runs the host's preloads in the host's main thread only, none in the sampler, writer or pool workers", () => {
    for (const h of [samplers, session]) {
      const seen = h.preloads.map((p) => `${p.preload} ${p.isMainThread ? 'main' : `worker ${p.threadId}`}`);
      expect(seen.sort()).toEqual(['--import main', 'NODE_OPTIONS --require main']);
    }
  });

  it('samples a PerformanceMonitor session', () => {
    const { out } = session;
    expect(out.samples).toBeGreaterThan(3);
    expect(Math.abs(out.rssEndBytes - out.nodeRss)).toBeLessThanOrEqual(out.nodeRss * 0.2);
  });

  it('saves that session (the history writer also boots under --input-type=module)', () => {
    const { out } = session;
    expect(out.errors).toEqual([]);
    expect(out.saved).toBe(true);
    expect(out.files).toHaveLength(1);
  });
});
