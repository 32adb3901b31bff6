/**
 * src/export/chrome-trace-node.ts: a run's Node modules, GC pauses and event-loop readings as
 * tracks of the Chrome trace. Real runs of the fixture apps (test/fixtures/node-hooks) through
 * `procprobe run`, exported by `procprobe export --format chrome-trace`; the oracles: the session
 * as the index file on disk holds it (decoded here with msgpackr), each busy module's own
 * measurement of its busy-wait and the gc-app's instants around its gc() call.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { cleanup, readIndex, runCli } from './helpers/cli.js';
import { CJS, ESM, HOOKS, hooked, type Hooked } from './helpers/node-hooks.js';

const T = 120_000;

interface Ev { name: string; ph: string; ts: number; pid: number; tid?: number; dur?: number; cat?: string; s?: string; args?: Record<string, any> }
type Doc = { traceEvents: Ev[]; metadata: Record<string, any> };

/** The run's session from the index file, and its trace as `procprobe export` writes it. */
async function traced(h: Hooked): Promise<{ session: any; doc: Doc; us: (epochMs: number) => number }> {
  const dataDir = JSON.parse(h.r.stdout).dataDir;
  const session = readIndex(dataDir).find((s) => s.id === h.run.sessionId);
  const r = await runCli(['export', h.run.sessionId, '--format', 'chrome-trace', '--data-dir', dataDir]);
  expect(r.code, r.stderr).toBe(0);
  const doc = JSON.parse(r.stdout) as Doc;
  const origin = doc.metadata.originEpochMs as number;
  return { session, doc, us: (t) => Math.round((t - origin) * 1000) };
}

/** The trace process named `node pid <pid>`. */
function nodeTracePid(doc: Doc, pid: number): number {
  const p = doc.traceEvents.find((e) => e.name === 'process_name' && e.args?.name === `node pid ${pid}`);
  expect(p, `no trace process for node pid ${pid}`).toBeDefined();
  return p!.pid;
}

/** Every module of the session on disk is a slice of its process's trace, and the slices on each track nest. */
async function expectModuleSlices(h: Hooked): Promise<Ev[]> {
  const { session, doc, us } = await traced(h);
  const pid = session.node.modules[0].pid;
  const tp = nodeTracePid(doc, pid);
  const slices = doc.traceEvents.filter((e) => e.pid === tp && e.cat === 'module');
  expect(slices.length).toBe(session.node.modules.filter((m: any) => m.pid === pid).length);
  for (const m of session.node.modules.filter((x: any) => x.pid === pid)) {
    const s = slices.find((e) => e.name === m.path)!;
    expect(s, m.path).toBeDefined();
    expect(Math.abs(s.ts - us(m.startTime))).toBeLessThanOrEqual(1);
    expect(Math.abs(s.ts + s.dur! - us(m.startTime + m.totalMs))).toBeLessThanOrEqual(1);
    expect(s.args).toMatchObject({ kind: m.kind, parent: m.parent, selfMs: m.selfMs, totalMs: m.totalMs, failed: m.failed });
  }
  // Slices on one track nest (contained or disjoint), checked pair by pair here.
  const inside = (x: Ev, y: Ev) => x.ts >= y.ts && x.ts + x.dur! <= y.ts + y.dur!;
  for (const tid of new Set(slices.map((e) => e.tid))) {
    const lane = slices.filter((e) => e.tid === tid);
    for (const a of lane) for (const b of lane) {
      if (a === b) continue;
      const disjoint = a.ts + a.dur! <= b.ts || b.ts + b.dur! <= a.ts;
      expect(disjoint || inside(a, b) || inside(b, a), `${a.name} / ${b.name} on tid ${tid}`).toBe(true);
    }
  }
  const names = doc.traceEvents.filter((e) => e.pid === tp && e.name === 'thread_name').map((e) => e.args!.name);
  expect(names).toContain('modules');
  return slices;
}

afterAll(cleanup);

describe('chrome-trace: modules and GC of the Node processes', () => {
  it('every module of the session on disk is a slice as long as its total, nested on its track; CommonJS nests by the wall clock', async () => {
    const h = await hooked(['node', 'main.cjs'], CJS);
    const slices = await expectModuleSlices(h);
    // CommonJS is serial: a module's slice holds those it required, on the same track.
    const at = (path: string) => slices.find((e) => e.name === path)!;
    for (const [child, parent] of [['node_modules/fakepkg/inner.js', 'node_modules/fakepkg/index.js'], ['busy60.cjs', 'main.cjs'], ['busy40.cjs', 'main.cjs']]) {
      const c = at(child!);
      const p = at(parent!);
      expect(c.tid).toBe(p.tid);
      expect(c.ts).toBeGreaterThanOrEqual(p.ts);
      expect(c.ts + c.dur!).toBeLessThanOrEqual(p.ts + p.dur!);
    }
    // A busy module's slice is as long as it measured its busy-wait (it requires nothing).
    for (const b of h.oracle.busy) {
      const s = at(b.file.slice(CJS.length + 1));
      expect(Math.abs(s.dur! / 1000 - b.ms)).toBeLessThanOrEqual(0.1 * b.ms + 5);
    }
  }, T);

  it('an ES module app: every module a slice, every track nested', async () => {
    const slices = await expectModuleSlices(await hooked(['node', 'main.mjs'], ESM, ['--node-esm-hooks']));
    expect(slices.find((e) => e.name === 'main.mjs')!.args!.kind).toBe('esm');
  }, T);

  it('each GC pause on disk is a slice, the forced one inside the gc() call; the loop readings are instants', async () => {
    const h = await hooked(['node', 'gc-app.cjs'], HOOKS, [], { NODE_OPTIONS: '--expose-gc' });
    const { session, doc, us } = await traced(h);
    const forced = h.oracle.other.find((l) => 'gcStart' in l)!;
    const tp = nodeTracePid(doc, forced.pid);
    const gcs = doc.traceEvents.filter((e) => e.pid === tp && e.cat === 'gc');
    const onDisk = session.node.gc.filter((g: any) => g.pid === forced.pid);
    expect(gcs.length).toBe(onDisk.length);
    for (const g of onDisk) {
      const s = gcs.find((e) => Math.abs(e.ts - us(g.startTime)) <= 1 && e.args!.durationMs === g.durationMs);
      expect(s, JSON.stringify(g)).toBeDefined();
      expect(s!.name).toBe(`GC ${g.kind}`);
      // Two µs roundings (its start and its end, epoch-scale doubles): up to 1 µs each way, 1.05 seen.
      expect(Math.abs(s!.dur! - g.durationMs * 1000)).toBeLessThanOrEqual(1.5);
    }
    const inCall = gcs.filter((e) => e.args!.kind === 'major' && e.ts >= us(forced.gcStart) - 500 && e.ts + e.dur! <= us(forced.gcEnd) + 500);
    expect(inCall.length).toBeGreaterThanOrEqual(1);
    const exit = doc.traceEvents.find((e) => e.pid === tp && e.cat === 'event_loop' && e.name === 'event loop at exit')!;
    const loop = session.node.loop.find((l: any) => l.pid === forced.pid && l.at === 'exit');
    expect(exit.args!.busyMs).toBe(loop.activeMs);
    expect(exit.args!.busyMs).toBeGreaterThanOrEqual(h.oracle.other.find((l) => 'busyLoopMs' in l)!.busyLoopMs - 1);
  }, T);
});
