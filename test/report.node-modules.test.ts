/**
 * src/report/node-modules.ts: the HTML report's module waterfall, from real runs of the fixture
 * apps (test/fixtures/node-hooks) through `procprobe run --html`. Oracles: the session as the
 * index file on disk holds it (decoded here with msgpackr), each busy module's own measurement of
 * its busy-wait, the page's own time axis (its tick labels and positions, read here) for where a
 * bar lies, and the DOM headless Chromium builds from the page.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_WATERFALL_MODULES } from '../dist/report/node-modules.js';
import { runChromium } from './helpers/chromium.js';
import { textOf } from './helpers/html.js';
import { cleanup, readIndex } from './helpers/cli.js';
import { CJS, HOOKS, hooked, type Hooked } from './helpers/node-hooks.js';
import { describeWith } from './helpers/optional-readers.js';
import { tempDir } from './helpers/temp-dirs.js';

const T = 120_000;

interface Row { tip: string; label: string; cls: string; x: number; w: number }

const waterfall = (doc: string): string => /<svg class="gantt modules"[\s\S]*?<\/svg>/.exec(doc)?.[0] ?? '';

function rows(doc: string): Row[] {
  return [...waterfall(doc).matchAll(/<g class="row module"><title>([^<]*)<\/title><text class="plabel proc"[^>]*>([^<]*)<\/text><rect class="bar mbar ([^"]*)" x="([\d.]+)" y="[\d.]+" width="([\d.]+)"/g)].map((m) => ({ tip: textOf(m[1]!), label: textOf(m[2]!), cls: m[3]!, x: Number(m[4]), w: Number(m[5]) }));
}

/** The waterfall's own scale, from its first and last tick: ms at an x, and ms per unit of x. */
function axis(doc: string): { msAt: (x: number) => number; msPerX: number } {
  const ticks = [...waterfall(doc).matchAll(/<text class="tick" x="([\d.]+)"[^>]*>([\d,.]+)<\/text>/g)].map((m) => ({ x: Number(m[1]), ms: Number(m[2]!.replace(/,/g, '')) }));
  expect(ticks.length).toBeGreaterThanOrEqual(2);
  const a = ticks[0]!;
  const b = ticks.at(-1)!;
  const msPerX = (b.ms - a.ms) / (b.x - a.x);
  return { msAt: (x) => a.ms + (x - a.x) * msPerX, msPerX };
}

/** `self 60.4 ms` (or `1,234 ms`) out of a tooltip. */
const msIn = (tip: string, key: string): number => Number(new RegExp(`${key} ([\\d,.]+) ms`).exec(tip)![1]!.replace(/,/g, ''));

async function reported(cmd: string[], cwd: string, env: Record<string, string> = {}): Promise<{ h: Hooked; html: string; session: any }> {
  const file = join(tempDir('procprobe-nodereport-'), 'report.html');
  const h = await hooked(cmd, cwd, ['--html', file], env);
  const session = readIndex(JSON.parse(h.r.stdout).dataDir).find((s) => s.id === h.run.sessionId);
  return { h, html: readFileSync(file, 'utf8'), session };
}

afterAll(cleanup);

describe('renderHtmlReport: the module waterfall of a real run', () => {
  let run: Awaited<ReturnType<typeof reported>>;
  beforeAll(async () => {
    run = await reported(['node', 'main.cjs'], CJS);
  }, T);

  it('a row per module in start order, each bar where the page\'s axis puts its start and as long as its total', () => {
    const { html, session, h } = run;
    const r = rows(html);
    const modules = session.node.modules;
    expect(r.length).toBe(Math.min(MAX_WATERFALL_MODULES, modules.length));
    const { msAt, msPerX } = axis(html);
    let previous = -Infinity;
    for (const row of r) {
      // The tooltip names the whole path; the label is that path, or its end after '…' when it is too long.
      const m = modules.find((x: any) => row.tip.startsWith(`${x.path} (`));
      expect(m, row.tip).toBeDefined();
      expect(row.label === m.path || (row.label.startsWith('…') && m.path.endsWith(row.label.slice(1)))).toBe(true);
      expect(m.startTime).toBeGreaterThanOrEqual(previous);
      previous = m.startTime;
      // Coordinates are rounded to 0.1: half a unit either way, and a bar is at least 2 wide.
      expect(Math.abs(msAt(row.x) - (m.startTime - session.startTime))).toBeLessThanOrEqual(0.1 * msPerX);
      if (row.w > 2) expect(Math.abs(row.w * msPerX - m.totalMs)).toBeLessThanOrEqual(0.2 * msPerX);
      expect(row.tip).toContain(`${m.path} (${m.kind}, pid ${m.pid})`);
      expect(row.tip).toContain(`loaded by ${m.parent ?? '(entry point)'}`);
      expect(Math.abs(msIn(row.tip, 'self') - m.selfMs)).toBeLessThanOrEqual(0.5); // shown to 0.01-1 ms by size
      expect(Math.abs(msIn(row.tip, 'total') - m.totalMs)).toBeLessThanOrEqual(0.5);
    }
    // The busy modules as they measured themselves.
    expect(h.oracle.busy.length).toBe(3);
    for (const b of h.oracle.busy) {
      const row = r.find((x) => x.label === b.file.slice(CJS.length + 1))!;
      expect(Math.abs(msIn(row.tip, 'self') - b.ms)).toBeLessThanOrEqual(0.1 * b.ms + 5);
      expect(row.cls).toBe('pc2'); // CommonJS
    }
    expect(html).toMatch(new RegExp(`${modules.length} modules, in start order`));
  });

  it('a session without a node profile has no Modules section', async () => {
    const file = join(tempDir('procprobe-nodereport-'), 'r.html');
    const plain = await hooked(['node', 'main.cjs'], CJS, ['--no-node-hooks', '--html', file]);
    expect(plain.node).toBeNull();
    const page = readFileSync(file, 'utf8');
    expect(page).toContain('<h2>Phases</h2>');
    expect(page).not.toContain('<h2>Modules</h2>');
  }, T);
});

describe('renderHtmlReport: GC pauses in the waterfall', () => {
  it('a mark per GC pause of the session on disk, where the axis puts it', async () => {
    const { html, session } = await reported(['node', 'gc-app.cjs'], HOOKS, { NODE_OPTIONS: '--expose-gc' });
    const marks = [...waterfall(html).matchAll(/<rect class="bar gcbar slowest" x="([\d.]+)" y="[\d.]+" width="([\d.]+)" height="[\d.]+"><title>([^<]*)<\/title>/g)].map((m) => ({ x: Number(m[1]), tip: textOf(m[3]!) }));
    expect(marks.length).toBe(session.node.gc.length);
    const { msAt, msPerX } = axis(html);
    for (const g of session.node.gc) {
      const at = g.startTime - session.startTime;
      const mark = marks.find((k) => Math.abs(msAt(k.x) - at) <= 0.1 * msPerX && k.tip.startsWith(`GC ${g.kind}, `));
      expect(mark, JSON.stringify(g)).toBeDefined();
    }
  }, T);
});

describeWith('chromium', 'the module waterfall in headless Chromium', () => {
  it('builds every row, label and bar the page has', async () => {
    const { html } = await reported(['node', 'main.cjs'], CJS);
    const file = join(tempDir('procprobe-nodereport-'), 'page.html');
    writeFileSync(file, html);
    const r = await runChromium(['--dump-dom', `file://${file}`]);
    if (r.code !== 0) throw new Error(`chromium --dump-dom exited ${r.code}: ${r.stderr.slice(-2000)}`);
    const built = rows(r.stdout);
    expect(built.length).toBeGreaterThan(0);
    expect(built).toEqual(rows(html));
    expect(r.stdout).not.toMatch(/<script/i);
  }, 150_000);
});
