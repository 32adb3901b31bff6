/**
 * Repeated runs and history, end to end: --runs/--warmup statistics (checked against the runs'
 * own durations, computed here), the comparison with earlier invocations, and the history
 * commands (sessions, show, stats) checked against the data dir's files decoded here.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, dataDirIds, freePort, lineMatching, newDataDir, notNodeHooks, PHASES, readIndex, runCli } from './helpers/cli.js';
import { SCHEMA_VERSION } from '../dist/schema.js';
import { median } from './helpers/numbers.js';

interface Phase {
  name: string;
  durationMs: number;
  success: boolean;
}
interface Summary {
  id: string;
  success: boolean;
  incomplete: boolean;
  metadata: { label: string; warmup: boolean; run: number };
  phases: Phase[];
}
afterEach(cleanup);
const T = 240_000;

const totalOf = (s: { phases: Phase[] }): number => s.phases.find((p) => p.name === 'total_startup')!.durationMs;
const mean = (v: number[]): number => v.reduce((a, b) => a + b, 0) / v.length;
/** "795 ms" / "1.23 s" -> ms, and the precision it was printed with. */
const parseMs = (text: string): { ms: number; step: number } => {
  const m = /^([\d.]+) (ms|s)$/.exec(text.trim());
  if (!m) throw new Error(`not a duration: ${text}`);
  const decimals = m[1]!.split('.')[1]?.length ?? 0;
  const unit = m[2] === 's' ? 1000 : 1;
  return { ms: Number(m[1]) * unit, step: 10 ** -decimals * unit };
};

describe('procprobe run --runs / --warmup', () => {
  it('--runs 5 --warmup 1 prints a statistics table; --json has the statistics and the comparison; history holds every run', async () => {
    const port = await freePort();
    const dir = newDataDir();
    const url = `http://127.0.0.1:${port}/health`;
    const cmd = ['--port', String(port), '--health-url', url, '--data-dir', dir, '--', 'node', 'examples/server.mjs', String(port)];
    const label = `node examples/server.mjs ${port}`;

    const r = await runCli(['run', '--runs', '5', '--warmup', '1', ...cmd]);
    expect(r.code, r.stderr).toBe(0);
    for (const step of ['warmup 1/1', 'run 1/5', 'run 2/5', 'run 3/5', 'run 4/5', 'run 5/5']) expect(r.stdout).toContain(step);
    expect(r.stdout.match(/^listening on /gm)).toHaveLength(6); // the server really started six times
    expect(r.stdout).toContain('\n5 runs\n');
    const section = r.stdout.slice(r.stdout.indexOf('\n5 runs\n'));
    const header = lineMatching(section, /^phase\s+mean ± σ/);
    for (const col of ['min … max', 'p50', 'p90', 'p99']) expect(header).toContain(col);
    for (const name of PHASES) expect(lineMatching(section, new RegExp(`^${name}\\s`))).toMatch(/ ms ± [\d.]+ ms/);

    // History: 1 warmup + 5 runs, each a whole startup (the port was free again before each).
    const first = readIndex(dir) as Summary[];
    expect(dataDirIds(dir).sessions).toHaveLength(6);
    expect(first.map((s) => s.metadata.label)).toEqual([`${label} (warmup)`, label, label, label, label, label]);
    expect(first.map((s) => s.metadata.warmup)).toEqual([true, false, false, false, false, false]);
    expect(first.map((s) => s.metadata.run)).toEqual([1, 1, 2, 3, 4, 5]);
    for (const s of first) {
      expect(s.success).toBe(true);
      expect(s.phases.find((p) => p.name === 'port_management')?.success).toBe(true);
    }
    const firstTotals = first.slice(1).map(totalOf);

    // Same label again, as JSON: statistics over these 5 runs, compared with the 5 before.
    const j = await runCli(['run', '--json', '--runs', '5', ...cmd]);
    expect(j.code, j.stderr).toBe(0);
    const doc = JSON.parse(j.stdout);
    expect(doc.schemaVersion).toBe(SCHEMA_VERSION);
    expect(doc.runs).toHaveLength(5);
    const totals = doc.runs.map((x: { totalStartupMs: number }) => x.totalStartupMs) as number[];
    const stat = (doc.statistics as { name: string; durations: { count: number; mean: number; min: number; max: number; median: number } }[]).find(
      (s) => s.name === 'total_startup',
    )!;
    expect(stat.durations.count).toBe(5);
    expect(stat.durations.mean).toBeCloseTo(mean(totals), 6);
    expect(stat.durations.median).toBeCloseTo(median(totals), 6);
    expect(stat.durations.min).toBe(Math.min(...totals));
    expect(stat.durations.max).toBe(Math.max(...totals));
    expect(doc.statistics.map((s: { name: string }) => s.name).filter(notNodeHooks).sort()).toEqual([...PHASES].sort());
    expect(doc.comparison.baselineCount).toBe(5); // the warmup is not a baseline
    expect(doc.comparison.baselineMedianMs).toBeCloseTo(median(firstTotals), 6);
    expect(doc.comparison.currentMedianMs).toBeCloseTo(median(totals), 6);
    expect(dataDirIds(dir).sessions).toHaveLength(11);
  }, T);

  it('a second invocation prints "vs history" against the first one', async () => {
    const dir = newDataDir();
    const cmd = ['run', '--data-dir', dir, '--', 'node', '-e', 'setTimeout(()=>{},50)'];
    const a = await runCli(cmd);
    expect(a.code, a.stderr).toBe(0);
    expect(a.stdout).toContain('history: no earlier successful run of this command to compare with');
    expect(a.stdout).not.toContain('vs history');
    const [firstSession] = readIndex(dir) as Summary[];

    const b = await runCli(cmd);
    expect(b.code, b.stderr).toBe(0);
    const m = /^vs history \(1 earlier runs, median ([\d.]+ m?s)\): ([\d.]+ m?s) [+-][\d.]+%/m.exec(b.stdout);
    expect(m, b.stdout).not.toBeNull();
    const printed = parseMs(m![1]!);
    expect(Math.abs(printed.ms - totalOf(firstSession!))).toBeLessThanOrEqual(printed.step / 2 + 1e-9);
    const second = (readIndex(dir) as Summary[])[1]!;
    const now = parseMs(m![2]!);
    expect(Math.abs(now.ms - totalOf(second))).toBeLessThanOrEqual(now.step / 2 + 1e-9);
  }, T);
});

describe('procprobe sessions / show / stats', () => {
  it('list, show and summarise what the data dir holds', async () => {
    const dir = newDataDir();
    for (const code of [0, 0, 3]) {
      const r = await runCli(['run', '--quiet', '--data-dir', dir, '--', 'node', '-e', `process.exit(${code})`]);
      expect(r.code, r.stderr).toBe(code === 0 ? 0 : 1);
    }
    const ids = dataDirIds(dir).sessions;
    expect(ids).toHaveLength(3);
    const index = readIndex(dir) as Summary[];

    const list = await runCli(['sessions', '--data-dir', dir]);
    expect(list.code, list.stderr).toBe(0);
    const rows = list.stdout.trimEnd().split('\n');
    expect(rows).toHaveLength(1 + 3);
    ids.forEach((id, i) => {
      expect(rows[i + 1]!.startsWith(id)).toBe(true);
      expect(rows[i + 1]!).toMatch(new RegExp(`\\s${index[i]!.success ? 'ok' : 'failed'}\\s+${index[i]!.metadata.label.replace(/[()'.]/g, '\\$&')}$`));
    });

    const listJson = await runCli(['sessions', '--json', '--data-dir', dir]);
    expect(listJson.code, listJson.stderr).toBe(0);
    const listDoc = JSON.parse(listJson.stdout) as { schemaVersion: number; sessions: Summary[] };
    expect(Object.keys(listDoc)).toEqual(['schemaVersion', 'sessions']); // an object, not a bare array
    expect(listDoc.schemaVersion).toBe(SCHEMA_VERSION);
    const listed = listDoc.sessions;
    expect(listed.map((s) => s.id)).toEqual(ids);
    // JSON has no NaN: a figure with no value (CPU % of a phase with no interval) is null there.
    const asJson = <V>(v: V): V => JSON.parse(JSON.stringify(v)) as V;
    expect(listed).toEqual(asJson(index));

    for (const s of index) {
      const show = await runCli(['show', s.id, '--data-dir', dir]);
      expect(show.code, show.stderr).toBe(0);
      expect(show.stdout.split('\n')[0]).toContain(s.id);
      expect(show.stdout.split('\n')[0]).toContain(s.success ? 'ok' : 'failed');
      const header = lineMatching(show.stdout, /^phase\s+start\s+duration/);
      expect(header).toContain('peak RSS');
      for (const p of s.phases) expect(show.stdout).toMatch(new RegExp(`^\\s*${p.name}\\b`, 'm'));
      if (!s.success) expect(lineMatching(show.stdout, /^error /)).toMatch(/\[process_startup\] .*code 3/);
      const showJson = await runCli(['show', s.id, '--json', '--data-dir', dir]);
      expect(showJson.code, showJson.stderr).toBe(0);
      const { schemaVersion, ...shown } = JSON.parse(showJson.stdout);
      expect(schemaVersion).toBe(SCHEMA_VERSION); // beside the summary's own fields
      expect(shown).toEqual(asJson(s));
    }

    // Two commands (exit 0 twice, exit 3 once): two labels, each with its own figures.
    const failedLabel = index.find((s) => !s.success)!.metadata.label;
    const stats = await runCli(['stats', '--json', '--label', failedLabel, '--data-dir', dir]);
    expect(stats.code, stats.stderr).toBe(0);
    const st = JSON.parse(stats.stdout);
    expect(st.schemaVersion).toBe(SCHEMA_VERSION);
    expect(st.sessionCount).toBe(1);
    expect(st.successCount).toBe(0);
    expect(st.incompleteCount).toBe(0);
    expect(st.errorsByOperation).toEqual({ process_startup: 1 });
    const okLabel = index.find((s) => s.success)!.metadata.label;
    const okStats = JSON.parse((await runCli(['stats', '--json', '--label', okLabel, '--data-dir', dir])).stdout);
    const okTotals = index.filter((s) => s.success).map(totalOf);
    expect(okStats.sessionCount).toBe(2);
    expect(okStats.totalStartup.count).toBe(okTotals.length);
    expect(okStats.totalStartup.mean).toBeCloseTo(mean(okTotals), 6);

    const missing = await runCli(['show', 'no-such-session', '--data-dir', dir]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^procprobe: no session no-such-session/);
  }, T);
});
