/**
 * The series page (report/series.ts) from real runs: `procprobe run --runs N --html` and
 * `procprobe report --label L --html`. Every figure on the page is checked against the index
 * files the runs left in the data dir, decoded here; the page as headless Chromium builds it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanup, newDataDir, readIndex, runCli } from './helpers/cli.js';
import { runChromium } from './helpers/chromium.js';
import { textOf } from './helpers/html.js';
import { median } from './helpers/numbers.js';
import { describeWith } from './helpers/optional-readers.js';
import { tempDir } from './helpers/temp-dirs.js';

interface Summary {
  id: string;
  metadata: { label: string; warmup?: boolean };
  phases: { name: string; durationMs: number; success: boolean }[];
}
const T = 180_000;
const totalOf = (s: Summary): number => s.phases.find((p) => p.name === 'total_startup')!.durationMs;
/** "1,234 ms" / "12.5 ms" / "1.25 ms" as the page writes it, and the rounding step it was written at. */
const ms = (t: string): { v: number; step: number } => {
  const m = /^([\d,]+)(?:\.(\d+))? ms$/.exec(t.trim());
  if (!m) throw new Error(`not a duration: ${t}`);
  return { v: Number(`${m[1]!.replace(/,/g, '')}.${m[2] ?? '0'}`), step: 10 ** -(m[2]?.length ?? 0) };
};

let dir = '';
let page = '';
let index: Summary[] = [];
const RUNS = 6;

beforeAll(async () => {
  dir = newDataDir();
  const out = join(tempDir('procprobe-series-'), 'series.html');
  const r = await runCli(['run', '--quiet', '--runs', String(RUNS), '--warmup', '1', '--html', out, '--data-dir', dir, '--', 'node', '-e', 'setTimeout(() => {}, 10 + 4 * (process.pid % 5))']);
  expect(r.code, r.stderr).toBe(0);
  page = readFileSync(out, 'utf8');
  index = readIndex(dir) as Summary[];
}, T);
afterAll(cleanup);

describe('procprobe run --runs N --html: the series page', () => {
  it('one dot per measured run in each phase row, titled with its duration as the index holds it', () => {
    const measured = index.filter((s) => !s.metadata.warmup);
    expect(measured).toHaveLength(RUNS);
    const titles = [...page.matchAll(/<circle class="dot(?: out)?" [^>]*><title>run (\d+): ([^<(]+?)(?: \(outlier\))?<\/title>/g)];
    // The first row is total_startup: its RUNS dots are the runs in order.
    const first = titles.slice(0, RUNS);
    first.forEach((m, i) => {
      expect(Number(m[1])).toBe(i + 1);
      const shown = ms(m[2]!);
      expect(Math.abs(shown.v - totalOf(measured[i]!))).toBeLessThanOrEqual(shown.step / 2 + 1e-9);
    });
    const med = ms(/<div class="k">Startup median<\/div><div class="v">([^<]+)<\/div>/.exec(page)![1]!);
    expect(Math.abs(med.v - median(measured.map(totalOf)))).toBeLessThanOrEqual(med.step / 2 + 1e-9);
  });

  it('has every run one click away and no made-up text', () => {
    const details = [...page.matchAll(/<details class="card run"><summary>run (\d+) [^<]*<code>([^<]+)<\/code>/g)];
    expect(details.map((m) => m[2])).toEqual(index.filter((s) => !s.metadata.warmup).map((s) => s.id));
    expect(page).not.toMatch(/<script/i);
    expect(textOf(page)).not.toMatch(/\b(NaN|undefined|null)\b/);
    // The history: the warmup is not a run of the series.
    expect(textOf(page)).not.toContain('(warmup)');
  });

  it('report --label --last 3: the label\'s latest three runs', async () => {
    const out = join(tempDir('procprobe-series-'), 'label.html');
    const label = index[1]!.metadata.label;
    const r = await runCli(['report', '--label', label, '--last', '3', '--html', out, '--data-dir', dir]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('(3 runs)');
    const html = readFileSync(out, 'utf8');
    const ids = [...html.matchAll(/<details class="card run"><summary>[^<]*<code>([^<]+)<\/code>/g)].map((m) => m[1]);
    expect(ids).toEqual(index.filter((s) => s.metadata.label === label).slice(-3).map((s) => s.id));
    const none = await runCli(['report', '--label', 'nothing like it', '--html', out, '--data-dir', dir]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/^procprobe: no sessions labelled "nothing like it"/);
  }, T);
});

describeWith('chromium', 'the series page in headless Chromium', () => {
  it('builds the strip plot, the charts and every run\'s details', async () => {
    const d = tempDir('procprobe-series-');
    const file = join(d, 'series.html');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(file, page);
    const r = await runChromium(['--dump-dom', `file://${file}`]);
    expect(r.code, r.stderr.slice(-2000)).toBe(0);
    expect(r.stdout.match(/<details class="card run">/g)).toHaveLength(RUNS);
    expect(r.stdout.match(/<svg class="strip"/g)).toHaveLength(1);
    expect(r.stdout.match(/<svg class="chart"/g)?.length).toBeGreaterThanOrEqual(2);
    expect(textOf(r.stdout)).not.toMatch(/\b(NaN|undefined)\b/);
  }, T);
});
