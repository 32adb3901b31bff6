/**
 * What the exports and the HTML report show of records that measured no process (the CLI's tree
 * before the spawn: status OK, processes 0, and the counters a previous run left) and of a process
 * being torn down (RSS 0, fds 0): no figure from the first, no level from the second. The
 * records are written by hand here; the expected cells are read off them, not off procprobe.
 */
import { describe, expect, it } from 'vitest';
import { exportSession } from '../dist/export/index.js';
import { F } from '../dist/probe/layout.js';
import { R } from '../dist/ring/layout.js';
import { renderHtmlReport } from '../dist/report/html.js';
import { makeInput } from './fixtures/export-session.js';

const PRE = 3; // records before the spawn
const TEARDOWN = 2; // last records: the process is going

function input() {
  const inp = makeInput();
  const { records, stride, count } = inp.samples;
  for (let i = 0; i < PRE; i++) {
    const b = i * stride;
    records[b + R.PROCESSES] = 0;
    records[b + R.ROW + F.cpuUserUs] = 126_790; // what earlier runs' reaped children left in the tree's total
    records[b + R.ROW + F.rssBytes] = 0;
  }
  for (let i = count - TEARDOWN; i < count; i++) {
    const b = i * stride;
    records[b + R.ROW + F.rssBytes] = 0;
    records[b + R.ROW + F.openFds] = 0;
  }
  return inp;
}

describe('records that measured no process, and a teardown', () => {
  it('csv: empty measurement cells before the spawn, empty levels in the teardown, counters kept there', () => {
    const inp = input();
    const lines = (exportSession(inp, 'csv') as string).trimEnd().split('\r\n');
    const head = lines[0]!.split(',');
    const col = (line: string, name: string) => line.split(',')[head.indexOf(name)]!;
    const rows = lines.slice(1);
    for (const r of rows.slice(0, PRE)) {
      expect(col(r, 'processes')).toBe('0');
      expect(col(r, 'cpuUserUs')).toBe('');
      expect(col(r, 'rssBytes')).toBe('');
      expect(col(r, 'timestamp')).not.toBe('');
    }
    expect(col(rows[PRE]!, 'cpuUserUs')).toBe(String(inp.samples.records[PRE * inp.samples.stride + R.ROW + F.cpuUserUs]));
    for (const r of rows.slice(-TEARDOWN)) {
      expect(col(r, 'rssBytes')).toBe('');
      expect(col(r, 'openFds')).toBe('');
      expect(col(r, 'cpuUserUs')).not.toBe('');
    }
  });

  it('json: null there; chrome-trace: no counter point before the spawn and no level 0 at the end', () => {
    const inp = input();
    const doc = JSON.parse(exportSession(inp, 'json') as string) as { samples: Record<string, number | null>[] };
    expect(doc.samples.slice(0, PRE).map((s) => s.cpuUserUs)).toEqual([null, null, null]);
    expect(doc.samples.slice(-TEARDOWN).map((s) => [s.rssBytes, s.openFds])).toEqual([[null, null], [null, null]]);
    expect(doc.samples.at(-1)!.cpuUserUs).not.toBeNull();

    const trace = JSON.parse(exportSession(inp, 'chrome-trace') as string) as { traceEvents: { ph: string; name: string; ts: number; args: { value: number } }[] };
    const rss = trace.traceEvents.filter((e) => e.ph === 'C' && e.name === 'rssBytes');
    expect(rss.length).toBe(inp.samples.count - PRE - TEARDOWN);
    expect(rss.every((e) => e.args.value > 0)).toBe(true);
  });

  it('html: the memory and fd charts end at the last live reading, not the teardown\'s 0', () => {
    const inp = input();
    const html = renderHtmlReport(inp);
    const { records, stride, count } = inp.samples;
    const lastLive = (count - TEARDOWN - 1) * stride + R.ROW;
    const mib = (records[lastLive + F.rssBytes]! / 2 ** 20).toFixed(1);
    expect(html).toContain(`end ${mib} MiB`);
    expect(html).toContain(`end ${records[lastLive + F.openFds]}`);
    expect(html).not.toContain('end 0.0 MiB');
  });
});
