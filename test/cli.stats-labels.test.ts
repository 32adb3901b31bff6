/**
 * `stats` keeps commands apart and `sessions` stays readable: checked against the index files
 * decoded here (which sessions each label has, their durations), /bin/sh reading a default label
 * back into the words it was made from, and the printed lines' widths.
 */
import { spawnSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanup, lineMatching, newDataDir, oneLineFailure, readIndex, runCli } from './helpers/cli.js';
import { median } from './helpers/numbers.js';

afterAll(cleanup);
const T = 120_000;

interface Summary {
  success: boolean;
  metadata: { label: string };
  phases: { name: string; durationMs: number }[];
}
const totalOf = (s: Summary): number => s.phases.find((p) => p.name === 'total_startup')!.durationMs;

describe('procprobe stats without --label', () => {
  it('one row per label with its own count, median and trend; --json has each label apart', async () => {
    const dir = newDataDir();
    const commands = [['node', '-e', 'setTimeout(() => {}, 80)'], ['node', '-e', '1']];
    for (let i = 0; i < 3; i++) for (const c of commands) expect((await runCli(['run', '--quiet', '--data-dir', dir, '--', ...c])).code).toBe(0);
    const index = readIndex(dir) as Summary[];
    const labels = [...new Set(index.map((s) => s.metadata.label))].sort();
    expect(labels).toHaveLength(2);

    const j = await runCli(['stats', '--json', '--data-dir', dir]);
    expect(j.code, j.stderr).toBe(0);
    const doc = JSON.parse(j.stdout) as { labels: { label: string; stats: { sessionCount: number; totalStartup: { median: number } } }[] };
    expect(doc.labels.map((l) => l.label)).toEqual(labels);
    for (const l of doc.labels) {
      const mine = index.filter((s) => s.metadata.label === l.label);
      expect(l.stats.sessionCount).toBe(mine.length);
      expect(l.stats.totalStartup.median).toBeCloseTo(median(mine.map(totalOf)), 6);
    }

    const t = await runCli(['stats', '--data-dir', dir], { env: { NO_COLOR: '1' } });
    expect(t.code, t.stderr).toBe(0);
    expect(t.stdout).not.toMatch(/NaN|undefined/);
    for (const label of labels) {
      const row = lineMatching(t.stdout, new RegExp(`^${label.replace(/[()'.]/g, '\\$&')}\\s`));
      expect(row).toMatch(/\s3\s+100%\s/); // n, share successful
    }
  }, T);

  it('--label that matches nothing: exit 1, one line saying so', async () => {
    const dir = newDataDir();
    expect((await runCli(['run', '--quiet', '--data-dir', dir, '--', 'node', '-e', '1'])).code).toBe(0);
    const r = await runCli(['stats', '--label', 'no such command', '--data-dir', dir]);
    expect(r.code).toBe(1);
    expect(oneLineFailure(r)).toMatch(/^procprobe: no sessions labelled "no such command" in 7 days/);
  }, T);
});

describe('procprobe sessions', () => {
  it('fits 100 columns with a long label, cut in the middle; the default label pastes back into a shell', async () => {
    const dir = newDataDir();
    // An empty word, a quote, spaces: words a plain join would lose or merge.
    const words = ['node', '-e', "setTimeout(() => {}, 1) // it's", '', `x${'y'.repeat(150)}z`];
    expect((await runCli(['run', '--quiet', '--data-dir', dir, '--', ...words])).code).toBe(0);
    const [s] = readIndex(dir) as Summary[];
    const label = s!.metadata.label;
    const back = spawnSync('/bin/sh', ['-c', `for w in ${label}; do printf '%s\\0' "$w"; done`], { encoding: 'utf8' });
    expect(back.stdout.split('\0').slice(0, -1)).toEqual(words);

    const r = await runCli(['sessions', '--data-dir', dir], { env: { NO_COLOR: '1' } });
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    for (const line of lines) expect([...line].length, line).toBeLessThanOrEqual(100);
    const row = lines[1]!;
    expect(row).toContain('node -e ');
    expect(row).toMatch(/…y+z$/);
  }, T);
});
