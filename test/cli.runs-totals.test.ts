/**
 * `procprobe run --runs N`: each run is its own session from zero. The command burns a known
 * amount of CPU and prints its own total (process.cpuUsage(), its whole life) at its end: the
 * oracle. Every run's samples and its OpenMetrics export must stay within that run's own CPU,
 * not carry the earlier runs' (they did: 0.16 s, then 0.33 s, then 0.50 s).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { HistoryStore } from '../dist/index.js';
import { F } from '../dist/probe/layout.js';
import { R } from '../dist/ring/layout.js';
import { cleanup, runCli } from './helpers/cli.js';
import { tempDir } from './helpers/temp-dirs.js';

afterAll(cleanup);

describe('procprobe run --runs: each run from zero', () => {
  it('three runs of a 150 ms CPU burner: each session and export holds that run\'s CPU only', async () => {
    const dir = tempDir('procprobe-cli-');
    const r = await runCli(['run', '--json', '--runs', '3', '--data-dir', dir, '--', process.execPath, 'test/fixtures/cpu-burn-report.mjs', '150']);
    expect(r.code, r.stderr).toBe(0);
    const own = [...r.stderr.matchAll(/\{"pid":\d+,"cpuUs":(\d+),/g)].map((m) => Number(m[1]));
    expect(own, r.stderr).toHaveLength(3); // the command's stdout goes to stderr with --json
    const doc = JSON.parse(r.stdout);
    const store = new HistoryStore(dir);
    for (const [i, run] of (doc.runs as { sessionId: string }[]).entries()) {
      const s = (await store.loadSession(run.sessionId)).value!.samples;
      let max = 0;
      for (let k = 0; k < s.count; k++) {
        const at = k * s.stride;
        if (s.records[at + R.PROCESSES] === 0 || s.records[at + R.STATUS] !== 0) continue;
        max = Math.max(max, s.records[at + R.ROW + F.cpuUserUs]! + s.records[at + R.ROW + F.cpuSystemUs]!);
      }
      // The tree's CPU at its last reading is at most what the command says it used (a last
      // few ms after its report are allowed), and most of it (sampling catches the burn).
      expect(max, `run ${i + 1}`).toBeLessThanOrEqual(own[i]! + 20_000);
      expect(max, `run ${i + 1}`).toBeGreaterThan(own[i]! * 0.5);
      const om = await runCli(['export', run.sessionId, '--format', 'openmetrics', '--data-dir', dir]);
      expect(om.code, om.stderr).toBe(0);
      const cpu = [...om.stdout.matchAll(/^process_cpu_seconds_total(?:\{[^}]*\})? ([\d.e+-]+)/gm)].map((m) => Number(m[1]));
      expect(cpu.length, om.stdout.slice(0, 400)).toBeGreaterThan(0);
      expect(Math.max(...cpu) * 1e6, `run ${i + 1} openmetrics`).toBeLessThanOrEqual(own[i]! + 20_000);
    }
  }, 60_000);
});
