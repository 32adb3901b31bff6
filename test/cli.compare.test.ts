/**
 * `procprobe compare` (issue 15 item 4) with the real binary: the order the commands really ran
 * in, as a fixture recorded it (ABBA), the argv each really got from its one-string command, the
 * ratio of `sleep 0.6` to `sleep 0.4` (the kernel's timers: 1.5, less the exec overhead both
 * share), and the exports, checked against the data dir's index decoded with msgpackr.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanup, oneLineFailure, readIndex, ROOT, runCli } from './helpers/cli.js';
import { tempDir } from './helpers/temp-dirs.js';

const T = 120_000;
const FIXTURE = join(ROOT, 'test/fixtures/sleep-ms.mjs');

afterAll(cleanup);

/** The index's sessions, oldest first: label and total_startup. */
function indexRuns(dataDir: string): { label: string; totalMs: number }[] {
  return readIndex(dataDir).map((s: { metadata: { label: string }; phases: { name: string; durationMs: number }[] }) => ({
    label: s.metadata.label,
    totalMs: s.phases.find((p) => p.name === 'total_startup')!.durationMs,
  }));
}

describe('procprobe compare', () => {
  const dir = tempDir('procprobe-compare-');

  it('runs the commands interleaved A B B A A B, each with the argv its string splits into, saved under its name', async () => {
    const record = join(dir, 'record.jsonl');
    const data = join(dir, 'data-order');
    const r = await runCli(
      ['compare', '--json', '--runs', '3', '--data-dir', data, '-n', 'first', `${process.execPath} ${FIXTURE} 'A one' x`, `${process.execPath} ${FIXTURE} "B \\"two\\""`],
      { env: { RECORD_FILE: record, SLEEP_MS: '0' } },
    );
    expect(r.code, r.stderr).toBe(0);
    const A = ['A one', 'x'];
    const B = ['B "two"'];
    const ran = readFileSync(record, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(ran).toEqual([A, B, B, A, A, B]);
    const second = `${process.execPath} ${FIXTURE} "B \\"two\\""`; // no -n: named by its string
    expect(indexRuns(data).map((s) => s.label)).toEqual(['first', second, second, 'first', 'first', second]);
    const doc = JSON.parse(r.stdout);
    expect(doc.order).toEqual(['first', second, second, 'first', 'first', second]);
    expect(doc.commands.map((c: { command: string[] }) => c.command)).toEqual([[process.execPath, FIXTURE, ...A], [process.execPath, FIXTURE, ...B]]);
  }, T);

  it("sleep 0.6 against sleep 0.4: a ratio of 1.5 ± 0.1 with its interval and p, in --json, Markdown and hyperfine's schema", async () => {
    const data = join(dir, 'data-ratio');
    const md = join(dir, 'compare.md');
    const hf = join(dir, 'hyperfine.json');
    const r = await runCli(['compare', '--json', '--runs', '6', '--data-dir', data, '--markdown', md, '--export-hyperfine', hf, 'sleep 0.4', 'sleep 0.6']);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    const total = doc.phases.find((p: { phase: string }) => p.phase === 'total_startup');
    const [a, b] = total.commands;
    expect(a).toMatchObject({ name: 'sleep 0.4', ratio: 1, ratioLow: null, p: null });
    expect(b.name).toBe('sleep 0.6');
    // 600/400 = 1.5 less the overhead both pay (exec, the wakeup, noticing the exit): 1.4 to 1.6.
    expect(b.ratio).toBeGreaterThan(1.4);
    expect(b.ratio).toBeLessThan(1.6);
    expect(b.ratioLow).toBeLessThan(b.ratio);
    expect(b.ratioHigh).toBeGreaterThan(b.ratio);
    expect(b.p).toBeLessThan(0.01);
    expect(b.verdict).toBe('regression');
    // The same durations as the index has, per command.
    const runs = indexRuns(data);
    const times = (label: string): number[] => runs.filter((s) => s.label === label).map((s) => s.totalMs / 1e3);
    const h = JSON.parse(readFileSync(hf, 'utf8'));
    expect(h.results.map((x: { command: string }) => x.command)).toEqual(['sleep 0.4', 'sleep 0.6']);
    expect(h.results[0].times).toEqual(times('sleep 0.4'));
    expect(h.results[1].times).toEqual(times('sleep 0.6'));
    for (const t of h.results[1].times) expect(t).toBeGreaterThanOrEqual(0.6);
    // Markdown: one table, every row as wide as its header, the second command's row with its ratio.
    const rows = readFileSync(md, 'utf8').split('\n').filter((l) => l.startsWith('|'));
    const cells = (row: string): string[] => row.slice(1, -1).split('|').map((c) => c.trim());
    for (const row of rows) expect(cells(row), row).toHaveLength(6);
    const ratioCell = rows.map(cells).find((c) => c[0] === 'total_startup' && c[1] === 'sleep 0.6')![4]!;
    expect(ratioCell).toMatch(/^1\.[4-5]\d× \[\d\.\d\d×, \d\.\d\d×\]$/);
  }, T);

  it('refuses one command, an unterminated quote, more names than commands and two commands of one name: one line, exit 2', async () => {
    const data = join(dir, 'data-never');
    const cases: [string[], string][] = [
      [['sleep 0.1'], "procprobe: compare needs two commands or more, each one string: procprobe compare 'node a.mjs' 'node b.mjs'"],
      [['sleep 0.1', "sleep '0.2"], `procprobe: command 2: unterminated ' in "sleep '0.2"`],
      [['-n', 'a', '-n', 'b', '-n', 'c', 'sleep 0.1', 'sleep 0.2'], 'procprobe: -n/--name given 3 times for 2 commands'],
      [['-n', 'x', '-n', 'x', 'sleep 0.1', 'sleep 0.2'], 'procprobe: two commands are named "x": give each its own -n NAME (it is their label in history)'],
    ];
    const results = await Promise.all(cases.map(([args]) => runCli(['compare', '--data-dir', data, ...args])));
    for (const [i, r] of results.entries()) {
      expect(r.code, r.stderr).toBe(2);
      expect(oneLineFailure(r)).toBe(cases[i]![1]);
    }
  }, T);
});
