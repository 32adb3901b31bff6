/**
 * src/report/html.ts: the single-file HTML report. Structure of the string (self-contained,
 * escaped, every phase, decimated series), hostile text (tag breakouts, event handlers, entities,
 * control characters in every piece of user text: the markup must stay that of the same session
 * with plain text, in the string and in the DOM Chromium builds), the degenerate sessions, then
 * the page as a real headless Chromium renders it: the DOM it builds and a screenshot decoded and
 * measured here.
 * Set PROCPROBE_REPORT_OUT=<dir> to keep report.html and report.png.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { F } from '../dist/probe/layout.js';
import { renderHtmlReport } from '../dist/report/html.js';
import { R } from '../dist/ring/layout.js';
import { counterRate, decimateMinMax, esc } from '../dist/report/svg.js';
import { runChromium, type ChromiumRun } from './helpers/chromium.js';
import { describeWith } from './helpers/optional-readers.js';
import { colourStats, decodePng, pixelsNear } from './helpers/png.js';
import { skeleton, textOf } from './helpers/html.js';
import { GAUGE, INJECTED, PHASE_NAMES, START, syntheticInput } from './fixtures/report-input.js';

const input = syntheticInput();
const html = renderHtmlReport(input);
const ESCAPED = '&#60;script&#62;alert(1)&#60;/script&#62;';

const count = (s: string, re: RegExp): number => s.match(re)?.length ?? 0;
/** The chart figure titled `title` on a page. */
const chartNamed = (page: string, title: string): string => page.split('<figure class="card chart-card">').slice(1).find((x) => x.includes(`>${title}<`))!;
/** A chart's x scale (ms -> SVG x), read back from its own time-axis tick labels. */
function chartXOf(fig: string): (ms: number) => number {
  const ticks = [...fig.matchAll(/<text class="tick" x="([\d.]+)" y="[\d.]+" text-anchor="middle">([\d,]+)<\/text>/g)].map((m) => [Number(m[1]), Number(m[2]!.replace(/,/g, ''))] as const);
  const [[xa, ta], [xb, tb]] = [ticks[0]!, ticks[ticks.length - 1]!];
  return (ms) => xa + ((ms - ta) / (tb - ta)) * (xb - xa);
}
/** The x of every point of each line segment a chart draws. */
const lineXs = (fig: string): number[][] => [...fig.matchAll(/<path class="line [^"]*" d="([^"]+)"/g)].map((m) => [...m[1]!.matchAll(/[ML]([\d.]+) /g)].map((p) => Number(p[1])));
describe('renderHtmlReport: the document', () => {
  it('is one self-contained file: no network reference, no script, no external style', () => {
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html).not.toMatch(/\b(src|href|xlink:href)\s*=\s*["']?\s*(https?:)?\/\//i);
    expect(html).not.toMatch(/https?:\/\//i);
    expect(html).not.toMatch(/<(script|link|iframe|img|object|embed)\b/i);
    expect(html).not.toMatch(/@import|url\(\s*["']?(?!#)/i);
    expect(html).toContain(`content="default-src 'none'; style-src 'unsafe-inline'; img-src data:"`);
  });

  it('escapes user text: the injected script in an error message and metadata stays text', () => {
    expect(html).not.toContain(INJECTED);
    expect(html.split(ESCAPED).length - 1).toBeGreaterThanOrEqual(3); // error list, phase table, Gantt tooltip
    expect(html).toContain('api &#34;blue&#34; &#60;canary&#62; &#38; co');
    expect(esc(`<a href="x" onclick='y'>&`)).toBe('&#60;a href=&#34;x&#34; onclick=&#39;y&#39;&#62;&#38;');
  });

  it('has the header: session id, command, start time, duration and status badge', () => {
    const s = input.summary;
    expect(html).toContain(s.id);
    expect(html).toContain('<code>node server.js --port 3000</code>');
    expect(html).toContain('2025-01-31 09:30:00.000 UTC');
    expect(html).toContain('1,990 ms');
    expect(html).toMatch(/<span class="badge bad">failed<\/span>/);
    expect(renderHtmlReport(input, { title: 'Nightly <run>', command: 'npm start' })).toMatch(/<h1>Nightly &#60;run&#62;<\/h1>[\s\S]*<code>npm start<\/code>/);
  });

  it('draws one Gantt bar per phase: failed in red, the slowest non-total phase highlighted', () => {
    const bars = html.match(/<rect class="bar[^"]*"/g) ?? [];
    expect(bars).toHaveLength(PHASE_NAMES.length);
    for (const name of PHASE_NAMES) expect(html).toContain(name);
    expect(count(html, /<rect class="bar failed/g)).toBe(1);
    expect(count(html, /<rect class="bar[^"]* hl/g)).toBe(1);
    // Tree order: total first, nested health_verification indented under process_startup.
    const order = [...html.matchAll(/<text class="plabel[^"]*" x="(\d+)"[^>]*>(?:<tspan[^>]*>[^<]*<\/tspan>)?([a-z_]+)</g)].map((m) => [m[2], Number(m[1])]);
    expect(order.map((o) => o[0])).toEqual(['total_startup', 'environment_validation', 'port_management', 'process_startup', 'health_verification']);
    expect(order.map((o) => o[1])).toEqual([12, 28, 28, 28, 44]);
    const slowRow = /<g class="row"><title>process_startup[\s\S]*?<\/g>/.exec(html)?.[0] ?? '';
    expect(slowRow).toMatch(/class="bar slowest hl"/);
  });

  it('charts CPU, RSS, threads, fds, context switches and the gauge, each at most ~1000 points', () => {
    expect(count(html, /<svg class="chart"/g)).toBe(6);
    for (const t of ['CPU', 'Resident memory', 'Threads', 'Open file descriptors', 'Context switches', GAUGE]) {
      expect(html).toContain(`class="ctitle" x="12" y="24">${t}</text>`);
    }
    const paths = [...html.matchAll(/<path class="line [^"]*" d="([^"]*)"/g)].map((m) => m[1]!);
    expect(paths.length).toBeGreaterThanOrEqual(7);
    for (const d of paths) expect(count(d, /[ML]/g)).toBeLessThanOrEqual(1001);
    // 2000 samples went in: the level series were decimated (min/max pairs), not dropped.
    const points = paths.map((d) => count(d, /[ML]/g));
    expect(Math.max(...points)).toBeGreaterThan(500);
    // 4 shaded phases (all but total_startup) in each chart.
    expect(count(html, /<rect class="shade /g)).toBe(4 * 6);
  });

  it("its cards show the startup's figures (total_startup's, as the phase table), the session's span as a footnote", () => {
    const base = syntheticInput();
    const total = base.summary.phases.find((p) => p.name === 'total_startup')!;
    // procprobe's own setup before the first phase and the teardown after: 310 ms more.
    const longer = { ...base, summary: { ...base.summary, durationMs: 2300, endTime: base.summary.startTime + 2300 } };
    const page = renderHtmlReport(longer);
    const card = (k: string): { v: string; sub: string } => {
      const m = new RegExp(`<div class="k">${k}</div><div class="v">([^<]*)</div>(?:<div class="sub">([^<]*)</div>)?`).exec(page);
      expect(m, k).not.toBeNull();
      return { v: m![1]!, sub: m![2] ?? '' };
    };
    const ms = (t: string): number => Number(/^([\d,.]+) ms$/.exec(t)![1]!.replace(/,/g, ''));
    expect(ms(card('Startup').v)).toBe(total.durationMs);
    expect(card('Startup').sub).toBe('session 2,300 ms with setup and teardown');
    expect(ms(card('Startup CPU').v)).toBeCloseTo(total.resources!.cpuMs, total.resources!.cpuMs < 100 ? 1 : 0);
    expect(card('Startup CPU').sub).toBe(`${total.resources!.cpuPercent.toFixed(1)} % of one core`);
    expect(Number(card('Peak RSS').v.replace(' MiB', ''))).toBeCloseTo(total.resources!.rssPeakBytes / 2 ** 20, 1);
  });

  it('writes evidence in words and units, not raw keys', () => {
    const base = syntheticInput();
    const page = renderHtmlReport({ ...base, suggestions: [{ kind: 'dominant_phase', phase: 'a', message: 'm', evidence: { phaseMedianMs: 176.211, growthPercent: 295.746, medianRssDeltaBytes: 10 * 2 ** 20, samples: 3 } }] });
    for (const chip of ['<b>phase median</b> 176 ms', '<b>growth</b> 295.7 %', '<b>median RSS delta</b> 10.0 MiB', '<b>samples</b> 3']) expect(page).toContain(chip);
    expect(page).not.toMatch(/phaseMedianMs|growthPercent/);
  });

  it('counts get whole-number ticks; a tree gets a processes chart', () => {
    const base = syntheticInput();
    const records = base.samples.records.slice();
    for (let i = 0; i < base.samples.count; i++) {
      records[i * base.samples.stride + R.ROW + F.threads] = 1; // "Threads: peak 1" used to be ticked 0, 0.25 … 1
      records[i * base.samples.stride + R.PROCESSES] = i < base.samples.count / 2 ? 2 : 3;
    }
    const tree = { ...base, samples: { ...base.samples, records }, summary: { ...base.summary, processes: [] } };
    const page = renderHtmlReport(tree);
    const chart = (title: string): string => {
      const figures = page.split('<figure class="card chart-card">').slice(1);
      const f = figures.find((x) => x.includes(`>${title}<`));
      expect(f, title).toBeDefined();
      return f!;
    };
    const yTicks = (svg: string): string[] => [...svg.matchAll(/<text class="tick" x="[\d.]+" y="[\d.]+" text-anchor="end">([^<]*)<\/text>/g)].map((m) => m[1]!);
    for (const title of ['Threads', 'Processes', 'Open file descriptors']) {
      const ticks = yTicks(chart(title));
      expect(ticks.length, title).toBeGreaterThanOrEqual(2);
      for (const t of ticks) expect(t, `${title}: ${ticks.join(' ')}`).toMatch(/^[\d,]+$/);
    }
    expect(chart('Processes')).toContain('peak 3');
    expect(chart('Threads')).toContain('>all processes<'); // a tree's threads are a sum, said once
    expect(renderHtmlReport(base)).not.toContain('>Processes<'); // one process: no chart of one
  });

  it('every chart has a legend swatch per line, its y unit along the y axis and ms on the time axis', () => {
    const figures = html.split('<figure class="card chart-card">').slice(1).map((f) => f.slice(0, f.indexOf('</figure>')));
    expect(figures.length).toBeGreaterThanOrEqual(5);
    for (const f of figures) {
      const title = /<text class="ctitle"[^>]*>([^<]*)</.exec(f)![1]!;
      const lines = new Set([...f.matchAll(/<path class="line (s-[\w-]+)"/g)].map((m) => m[1]));
      const keys = new Set([...f.matchAll(/<g class="legend"><rect class="key (s-[\w-]+)"/g)].map((m) => m[1]));
      expect(keys, title).toEqual(lines);
      expect(f, title).toMatch(/<text class="tick unit yunit"[^>]*transform="rotate\(-90[^>]*>[^<]+</);
      expect(f, title).toMatch(/<text class="tick unit"[^>]*>ms</);
    }
  });

  it('draws no line over records that measured nothing (a failed read in the middle)', () => {
    const base = syntheticInput();
    const { stride, count: n } = base.samples;
    const records = base.samples.records.slice();
    const t = (i: number): number => records[i * stride + R.ROW + F.timestamp]! - START;
    const from = Math.floor(n * 0.4);
    const to = Math.floor(n * 0.6);
    for (let i = from; i < to; i++) records[i * stride + R.STATUS] = 1; // the read failed: nothing known
    const page = renderHtmlReport({ ...base, samples: { ...base.samples, records } });
    for (const title of ['CPU', 'Resident memory', 'Threads', 'Context switches']) {
      const f = chartNamed(page, title);
      const xOf = chartXOf(f);
      const lo = xOf(t(from)) + 1;
      const hi = xOf(t(to - 1)) - 1;
      // Every line segment's points, in order: none may lie inside the gap, and no segment may jump over it.
      for (const xs of lineXs(f)) {
        for (const x of xs) expect(x > lo && x < hi, `${title}: a point at x=${x} inside the gap ${lo}-${hi}`).toBe(false);
        for (let k = 1; k < xs.length; k++) expect(xs[k - 1]! <= lo && xs[k]! >= hi, `${title}: a line across the gap`).toBe(false);
      }
    }
  });

  it('breaks the line where the sampler left a long gap (no record for 200 ms)', () => {
    const base = syntheticInput();
    const { stride, count: n } = base.samples;
    const t = (i: number): number => base.samples.records[i * stride + R.ROW + F.timestamp]! - START;
    const from = Math.floor(n * 0.4);
    const to = Math.floor(n * 0.55); // before the fixture's own failed reads (1200-1209)
    // The records of [from, to) are gone: the ring has the ones before and after, nothing between.
    const kept = [...Array(n).keys()].filter((i) => i < from || i >= to);
    const records = new Float64Array(kept.length * stride);
    kept.forEach((i, k) => records.set(base.samples.records.subarray(i * stride, (i + 1) * stride), k * stride));
    expect(t(to) - t(from - 1)).toBeGreaterThanOrEqual(100);
    const page = renderHtmlReport({ ...base, samples: { ...base.samples, records, count: kept.length } });
    for (const title of ['Resident memory', 'Threads']) {
      const f = chartNamed(page, title);
      const xOf = chartXOf(f);
      const lo = xOf(t(from - 1)) + 1;
      const hi = xOf(t(to)) - 1;
      for (const xs of lineXs(f)) {
        for (let k = 1; k < xs.length; k++) expect(xs[k - 1]! <= lo && xs[k]! >= hi, `${title}: a line across the gap`).toBe(false);
      }
    }
  });

  it('lists the phase table, the suggestions with evidence, and the errors', () => {
    const tbody = /<tbody>([\s\S]*?)<\/tbody>/.exec(html)?.[1] ?? '';
    expect(count(tbody, /<tr/g)).toBe(5);
    expect(tbody).toMatch(/port_management[\s\S]*pill bad">failed/);
    expect(tbody).toContain(`EADDRINUSE: port 3000 ${ESCAPED}`);
    expect(count(html, /<li class="card sugg">/g)).toBe(2);
    expect(html).toContain('<b>share</b> 0.754');
    expect(html).toContain('<b>duration</b> 1,500 ms');
    expect(html).toContain('<b>note</b> single-threaded');
    expect(count(html, /<li class="card errcard">/g)).toBe(1);
    expect(html).toContain('+455 ms');
  });
});

// Breakouts from text, from either attribute quoting, from <title>, <style>, a comment and CDATA,
// event handlers, pre-encoded entities, and control characters.
const PAYLOADS = [
  '"><svg onload=alert(1)>', "'><img src=x onerror=alert(1)>", '</title><script>alert(2)</script>',
  '</style><script>alert(3)</script>', '<!--', ']]><iframe srcdoc=x>', '&#60;script&#62;alert(4)&#60;/script&#62;',
  'javascript:alert(5)', '<a href="https://evil.example" style="position:fixed">x</a>', '\x1b[2J\x00\r\n\u2028',
];
/** The same session with every piece of user text replaced by `text(k)`, k counting the pieces. */
function withText(text: (k: number) => string): { input: typeof input; opts: { title: string; command: string } } {
  let k = 0;
  const t = (): string => text(k++);
  const base = syntheticInput();
  const s = base.summary;
  // total_startup keeps its name: the report gives that phase its own role.
  const phases = s.phases.map((p) => ({ ...p, name: p.name === 'total_startup' ? p.name : t(), ...(p.errorMessage ? { errorMessage: t() } : {}) }));
  const metadata = Object.fromEntries(Object.keys(s.metadata).map((key) => [t(), key === 'attempt' ? [t(), { [t()]: t() }] : t()]));
  return {
    input: {
      summary: { ...s, id: t(), phases, metadata, errors: s.errors.map((e) => ({ ...e, message: t(), operation: t() })) },
      samples: { ...base.samples, gaugeNames: base.samples.gaugeNames.map(t) },
      suggestions: base.suggestions!.map((g) => ({ ...g, phase: t(), message: t(), evidence: Object.fromEntries(Object.entries(g.evidence).map(([, v]) => [t(), typeof v === 'number' ? v : t()])) })),
    },
    opts: { title: t(), command: t() },
  };
}
const plain = withText((k) => `text${k}`);
const hostile = withText((k) => `${PAYLOADS[k % PAYLOADS.length]}${k}`);
const plainDoc = renderHtmlReport(plain.input, plain.opts);
const hostileDoc = renderHtmlReport(hostile.input, hostile.opts);

describe('renderHtmlReport: hostile text changes no markup', () => {
  it('has tag for tag, attribute for attribute, the markup of the same session with plain text', () => {
    const a = skeleton(plainDoc);
    expect(a.length).toBeGreaterThan(100);
    expect(skeleton(hostileDoc)).toEqual(a);
    expect(hostileDoc).not.toMatch(/<(script|img|iframe|a)\b/i);
    expect(hostileDoc).not.toMatch(/<[^>]*\son[a-z]+\s*=/i);
  });

  it('shows every payload as text, unchanged', () => {
    const text = textOf(hostileDoc);
    for (let k = 0; k < PAYLOADS.length; k++) expect(text, PAYLOADS[k]).toContain(`${PAYLOADS[k]}${k}`);
  });
});

describeWith('chromium', 'hostile text in headless Chromium', () => {
  let dir = '';
  const dom: Record<'plain' | 'hostile', string> = { plain: '', hostile: '' };
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'procprobe-report-'));
    for (const [name, doc] of [['plain', plainDoc], ['hostile', hostileDoc]] as const) {
      writeFileSync(join(dir, `${name}.html`), doc);
      const r = await runChromium(['--dump-dom', `file://${join(dir, `${name}.html`)}`]);
      if (r.code !== 0) throw new Error(`chromium --dump-dom exited ${r.code}: ${r.stderr.slice(-2000)}`);
      dom[name] = r.stdout;
    }
  }, 150_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('parses into the same elements and attributes as the plain session, with every payload a text node', () => {
    expect(skeleton(dom.hostile)).toEqual(skeleton(dom.plain));
    expect(dom.hostile).not.toMatch(/<(script|img|iframe|a)\b/i);
    // The HTML parser's own normalisation aside (CR LF to LF; NUL dropped or U+FFFD, by context).
    const text = textOf(dom.hostile).replace(/\ufffd/g, '');
    for (let k = 0; k < PAYLOADS.length; k++) expect(text, PAYLOADS[k]).toContain(`${PAYLOADS[k]}${k}`.replace(/\x00/g, '').replace(/\r\n/g, '\n'));
  });
});

describe('renderHtmlReport: degenerate sessions', () => {
  it('a session without samples or resources gets notes instead of charts', () => {
    const s = input.summary;
    const bare = renderHtmlReport({
      summary: { ...s, resources: undefined, phases: s.phases.map(({ resources: _r, ...p }) => p), errors: [] },
      samples: { records: new Float64Array(0), stride: input.samples.stride, count: 0, gaugeNames: [] },
    });
    expect(bare).toContain('No resource samples were recorded');
    expect(bare).not.toContain('<svg class="chart"');
    expect(count(bare, /<rect class="bar/g)).toBe(5);
    expect(count(bare, /no samples cover this phase/g)).toBe(5);
    expect(bare).toContain('No suggestions for this session.');
    expect(bare).toContain('No errors were recorded.');
  });

  it('an incomplete session without phases, and a metric that was never measured', () => {
    const { records, stride } = input.samples;
    const noThreads = records.slice();
    for (let i = 0; i < input.samples.count; i++) noThreads[i * stride + R.ROW + F.threads] = NaN;
    const doc = renderHtmlReport({
      summary: { ...input.summary, phases: [], errors: [], endTime: NaN, durationMs: NaN, incomplete: true, metadata: {} },
      samples: { ...input.samples, records: noThreads },
    });
    expect(doc).toMatch(/<span class="badge warn">incomplete<\/span>/);
    expect(doc).toContain('No phases were timed in this session.');
    expect(doc).toContain('Threads: not measured in this session.');
    expect(count(doc, /<svg class="chart"/g)).toBe(5);
    expect(doc).toMatch(/≥ 1,999 ms \(not finished\)/);
  });
});

describe('decimation', () => {
  it('min/max buckets keep every extreme within about maxPoints points', () => {
    const n = 100_000;
    const xs = Array.from({ length: n }, (_, i) => i);
    const ys = xs.map((i) => Math.sin(i / 500) + (i === 31_337 ? 50 : 0) - (i === 77_777 ? 40 : 0));
    const d = decimateMinMax(xs, ys, 1000);
    expect(d.xs.length).toBeLessThanOrEqual(1000);
    expect(d.xs.length).toBeGreaterThan(900);
    expect(Math.max(...d.ys)).toBe(Math.max(...ys));
    expect(Math.min(...d.ys)).toBe(Math.min(...ys));
    expect(d.xs).toEqual([...d.xs].sort((a, b) => a - b));
    expect(decimateMinMax([1, 2, 3], [4, 5, 6], 1000)).toEqual({ xs: [1, 2, 3], ys: [4, 5, 6] });
    expect(d.ys.some(Number.isNaN)).toBe(false); // no gap in the input, none in the output
  });

  it('a run of failed reads stays a gap (one NaN point where the line must break), decimated or not', () => {
    const n = 10_000;
    const xs = Array.from({ length: n }, (_, i) => i);
    const ys = xs.map((i) => (i >= 4000 && i < 4100 ? NaN : i % 7));
    for (const max of [100, 100_000]) {
      const d = decimateMinMax(xs, ys, max);
      const nan = d.ys.flatMap((v, k) => (Number.isNaN(v) ? [k] : []));
      expect(nan, `maxPoints ${max}`).toHaveLength(1);
      // The points around the gap are on its two sides.
      expect(d.xs[nan[0]! - 1]!).toBeLessThan(4000);
      expect(d.xs[nan[nan.length - 1]! + 1]!).toBeGreaterThanOrEqual(4100);
    }
  });

  it('counter rates over at most maxPoints intervals', () => {
    const ts = Array.from({ length: 5000 }, (_, i) => i * 2);
    const cs = ts.map((t) => t * 3); // 3 per ms
    const r = counterRate(ts, cs, 1000, 1000);
    expect(r.xs.length).toBeLessThanOrEqual(1000);
    for (const v of r.ys) expect(v).toBeCloseTo(3000, 6);
    const back = counterRate([0, 1, 2], [5, 3, 4], 1, 1000);
    expect(back.ys[0]).toBeNaN();
    expect(back.ys[1]).toBe(1);
  });
});

describeWith('chromium', 'renderHtmlReport in headless Chromium', () => {
  let dir = '';
  let dom: ChromiumRun;
  let png: Buffer;
  let narrow: Buffer;
  const keep = process.env.PROCPROBE_REPORT_OUT;

  beforeAll(async () => {
    dir = keep ? (mkdirSync(keep, { recursive: true }), keep) : mkdtempSync(join(tmpdir(), 'procprobe-report-'));
    const file = join(dir, 'report.html');
    const shot = join(dir, 'report.png');
    writeFileSync(file, html);
    const shot800 = join(dir, 'report-800.png');
    const [d, s, n] = await Promise.all([
      runChromium(['--dump-dom', `file://${file}`]),
      runChromium([`--screenshot=${shot}`, '--window-size=1400,2400', `file://${file}`]),
      runChromium([`--screenshot=${shot800}`, '--window-size=800,2400', `file://${file}`]),
    ]);
    dom = d;
    for (const r of [s, n]) if (r.code !== 0) throw new Error(`chromium --screenshot exited ${r.code}: ${r.stderr.slice(-2000)}`);
    png = readFileSync(shot);
    narrow = readFileSync(shot800);
  }, 150_000);

  afterAll(() => {
    if (dir && !keep) rmSync(dir, { recursive: true, force: true });
  });

  it('builds a DOM with every phase name as text, one bar per phase and the charts', () => {
    expect(dom.code, dom.stderr.slice(-2000)).toBe(0);
    const doc = dom.stdout;
    expect(doc).toContain('<svg class="gantt"');
    const text = textOf(doc);
    for (const name of PHASE_NAMES) expect(text).toContain(name);
    expect(count(doc, /<rect class="bar[ "]/g)).toBe(PHASE_NAMES.length);
    expect(count(doc, /<svg class="chart"/g)).toBe(6);
    expect(count(doc, /<svg\b/g)).toBe(7);
    // The injected tag is a text node: the browser made no script element of it.
    expect(doc).not.toMatch(/<script/i);
    expect(text).toContain(INJECTED);
    expect(text).toContain(new Date(START).toISOString().slice(0, 10));
  });

  it('paints a screenshot that is not blank: many colours, red failed bar, amber slowest bar', () => {
    const img = decodePng(png);
    expect([img.width, img.height]).toEqual([1400, 2400]);
    const st = colourStats(img);
    expect(st.distinct).toBeGreaterThan(200);
    expect(1 - st.backgroundShare).toBeGreaterThan(0.15);
    expect(pixelsNear(img, 0xdc2626)).toBeGreaterThan(200); // failed phase
    expect(pixelsNear(img, 0xf59e0b)).toBeGreaterThan(200); // slowest phase
    expect(pixelsNear(img, 0x2563eb, 20)).toBeGreaterThan(200); // CPU line
  });

  it('paints at 800 px wide too: the same bars and lines, scaled into the narrow page', () => {
    const img = decodePng(narrow);
    expect([img.width, img.height]).toEqual([800, 2400]);
    const st = colourStats(img);
    expect(st.distinct).toBeGreaterThan(200);
    expect(pixelsNear(img, 0xdc2626)).toBeGreaterThan(50); // failed phase
    expect(pixelsNear(img, 0xf59e0b)).toBeGreaterThan(50); // slowest phase
    expect(pixelsNear(img, 0x2563eb, 20)).toBeGreaterThan(50); // CPU line
  });
});
