/**
 * src/report/processes.ts: the HTML report's per-process Gantt. Oracles: the synthetic tree
 * (fixtures/process-list.ts), whose fields the test reads itself; the phase Gantt of the same
 * page for where an instant lies on the shared time axis; the tag skeleton of the same page with
 * a plain command line; the DOM headless Chromium builds from it; and a real run of
 * fixtures/fork-tree.py, whose every process reports its own pid on stderr.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderHtmlReport } from '../dist/report/html.js';
import { MAX_GANTT_PROCESSES } from '../dist/report/processes.js';
import type { TreeProcess } from '../dist/sampler/processes.js';
import { runChromium } from './helpers/chromium.js';
import { skeleton, textOf } from './helpers/html.js';
import { cleanup, runCli } from './helpers/cli.js';
import { describeWith, requireAddonFor } from './helpers/optional-readers.js';
import { tempDir } from './helpers/temp-dirs.js';
import { HOSTILE, processList } from './fixtures/process-list.js';
import { START, syntheticInput } from './fixtures/report-input.js';

afterAll(cleanup);

// Not a `python3` found on PATH: a pyenv shim runs helper processes of its own, which are in the tree too.
const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

const DROPPED = 12;

function page(processes: TreeProcess[] | undefined, dropped = DROPPED): string {
  const input = syntheticInput();
  return renderHtmlReport({ ...input, summary: { ...input.summary, ...(processes ? { processes, processesDropped: dropped } : {}) } });
}

const list = processList(START, 200);
const html = page(list);

/** Each process row: its label's pid (or the tail's label), its tooltip, its bar's class and extent. */
function rows(doc: string): { label: string; tip: string; cls: string; x: number; end: number }[] {
  const svg = /<svg class="gantt procs"[\s\S]*?<\/svg>/.exec(doc)?.[0] ?? '';
  return [...svg.matchAll(/<g class="row"><title>([^<]*)<\/title><text class="plabel proc"[^>]*>([^<]*)<\/text><rect class="bar pbar ([^"]*)" x="([\d.]+)" y="[\d.]+" width="([\d.]+)"/g)].map((m) => ({
    tip: m[1]!,
    label: m[2]!,
    cls: m[3]!,
    x: Number(m[4]),
    end: Number(m[4]) + Number(m[5]),
  }));
}

const pidOf = (label: string): number => Number(label.split(' ', 1)[0]);

describe('renderHtmlReport: the process Gantt', () => {
  const r = rows(html);
  const own = r.slice(0, -1);

  it(`one bar per process for the ${MAX_GANTT_PROCESSES} with the most CPU, in start order, then one for the other ${200 - MAX_GANTT_PROCESSES + DROPPED}`, () => {
    expect(r).toHaveLength(MAX_GANTT_PROCESSES + 1);
    const shown = own.map((x) => list.find((p) => p.pid === pidOf(x.label))!);
    expect(shown.every(Boolean)).toBe(true);
    const threshold = Math.min(...shown.map((p) => p.cpuMs));
    const rest = list.filter((p) => !shown.includes(p));
    for (const p of rest) expect(p.cpuMs).toBeLessThanOrEqual(threshold);
    expect(shown.map((p) => p.startTime)).toEqual(shown.map((p) => p.startTime).sort((a, b) => a - b));
    // Bars start where their process started: later start, bar further right.
    for (let i = 1; i < own.length; i++) if (shown[i]!.startTime > shown[i - 1]!.startTime) expect(own[i]!.x).toBeGreaterThan(own[i - 1]!.x);
    const tail = r.at(-1)!;
    expect(tail.label).toBe(`other ${rest.length + DROPPED} processes`);
    const dates = rest.filter((p) => p.command.startsWith('/bin/date')).length;
    expect(tail.tip).toContain(`other ${rest.length + DROPPED} processes (${DROPPED} ended ones not kept): ${dates} × date, ${rest.length - dates} × sh`);
    expect(html).toContain(`${200 + DROPPED} processes, the ${MAX_GANTT_PROCESSES} that used the most CPU, in start order`);
  });

  it('each tooltip has pid, parent, the whole command, CPU, peak RSS, threads and how it ended', () => {
    for (const x of own) {
      const p = list.find((q) => q.pid === pidOf(x.label))!;
      expect(textOf(x.tip)).toContain(`pid ${p.pid} (parent ${p.ppid}): ${p.command}\n`);
      expect(x.tip).toMatch(/\nCPU [\d.,]+ ms · peak RSS [\d.,]+ MiB · \d+ threads\nfrom /);
      const ending = p.endTime === null ? 'still running at the end' : p.signal ? `exit: ${p.signal}` : p.exitCode !== null ? `exit: code ${p.exitCode}` : 'exit status unknown';
      expect(x.tip).toContain(ending);
    }
    const command = own.find((x) => pidOf(x.label) === 1000)!;
    expect(command.tip).toContain('CPU 250 ms · peak RSS 80.0 MiB · 11 threads');
  });

  it('a running process ends where the session does, as total_startup on the phase Gantt; red for a signal or a non-zero exit', () => {
    const total = /<rect class="bar [^"]*total" x="([\d.]+)" y="[\d.]+" width="([\d.]+)"/.exec(html)!;
    const totalEnd = Number(total[1]) + Number(total[2]);
    const running = own.find((x) => pidOf(x.label) === 1000)!;
    expect(running.end).toBeCloseTo(totalEnd, 0);
    expect(running.cls).toContain('running');
    const workers = own.filter((x) => [1001, 1002, 1003, 1004].includes(pidOf(x.label)));
    for (const w of workers) expect(w.end).toBeCloseTo(workers[0]!.end, 0); // all end at +900 ms
    for (const x of own) {
      const p = list.find((q) => q.pid === pidOf(x.label))!;
      const bad = p.signal !== null || (p.exitCode !== null && p.exitCode !== 0);
      expect(x.cls.split(' ').includes('failed'), `${p.pid} ${x.cls}`).toBe(bad);
    }
  });

  it('a hostile command line is text: the markup is that of the same page with a plain one, the text shows it whole', () => {
    const plain = page(list.map((p) => (p.command === HOSTILE ? { ...p, command: 'plain words' } : p)));
    expect(skeleton(html)).toEqual(skeleton(plain));
    expect(html).not.toContain('<script>');
    expect(textOf(html)).toContain(HOSTILE);
  });

  it('a session of one process (no list) has no process section; a short list has no tail row', () => {
    const none = page(undefined);
    expect(none).not.toContain('<h2>Processes</h2>');
    expect(none).not.toContain('class="bar pbar');
    const few = rows(page(processList(START, 6), 0));
    expect(few.map((x) => pidOf(x.label)).sort()).toEqual([1000, 1001, 1002, 1003, 1004, 1005]);
  });
});

describeWith('chromium', 'the process Gantt in headless Chromium', () => {
  let dir = '';
  let dom = '';
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'procprobe-report-'));
    writeFileSync(join(dir, 'report.html'), html);
    const r = await runChromium(['--dump-dom', `file://${join(dir, 'report.html')}`]);
    if (r.code !== 0) throw new Error(`chromium --dump-dom exited ${r.code}: ${r.stderr.slice(-2000)}`);
    dom = r.stdout;
  }, 150_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('builds every bar and label, the hostile command a text node', () => {
    const built = rows(dom);
    // The serializer writes &lt; where the report wrote &#60;: compare the text.
    expect(built.map((x) => textOf(x.label))).toEqual(rows(html).map((x) => textOf(x.label)));
    expect(built.map((x) => x.cls)).toEqual(rows(html).map((x) => x.cls));
    expect(dom).not.toMatch(/<script/i);
    expect(textOf(dom)).toContain(HOSTILE);
  });
});

describe('procprobe report --html of a real run', () => {
  requireAddonFor('native');

  it('a bar for every process the command started, labelled with the pid it reports', async () => {
    const dir = tempDir('procprobe-cli-');
    const r = await runCli(['run', '--json', '--data-dir', dir, '--', PYTHON, 'test/fixtures/fork-tree.py', '2', '10', '300']);
    expect(r.code, r.stderr).toBe(0);
    const told = r.stderr.split('\n').filter((l) => l.startsWith('{"role"')).map((l) => JSON.parse(l) as { pid: number });
    expect(told).toHaveLength(5);
    const out = `${dir}/report.html`;
    const rep = await runCli(['report', JSON.parse(r.stdout).runs[0].sessionId, '--html', out, '--data-dir', dir]);
    expect(rep.code, rep.stderr).toBe(0);
    const built = rows(readFileSync(out, 'utf8'));
    expect(built.map((x) => pidOf(x.label)).sort()).toEqual(told.map((t) => t.pid).sort());
    for (const x of built) {
      expect(textOf(x.label)).toMatch(/^\d+ python3 test\/fix/); // the program's directory left out, to fit
      expect(textOf(x.tip)).toContain(`: ${PYTHON} test/fixtures/fork-tree.py 2 10 300\n`);
    }
  }, 60_000);
});
