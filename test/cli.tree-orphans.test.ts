/**
 * Zombie orphans between runs: `procprobe run` is a child subreaper, so a double-forked orphan
 * is reparented to it and, once exited, stays a zombie until procprobe waits for it. Each run
 * reaps its tree's exited orphans (cli/daemon.ts reapOrphans), keeping their status and CPU.
 * Oracles: the kernel's /proc/*\/stat, read by a --cleanup hook (fixtures/zombie-census.py, whose
 * parent is procprobe) after every run while procprobe still lives; and the orphan's own account
 * of its pid, CPU and exit code (fixtures/double-fork.py).
 */
import { existsSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanup, runCli } from './helpers/cli.js';
import { requireAddonFor } from './helpers/optional-readers.js';
import { tempDir } from './helpers/temp-dirs.js';

afterAll(cleanup);

const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

describe('procprobe run --runs N of a double-forking command', () => {
  requireAddonFor('native');

  it('leaves no zombie children after any run; each orphan is reaped with its exit status and its wait4 CPU', async () => {
    const dir = tempDir('procprobe-cli-');
    const r = await runCli(['run', '--json', '--runs', '3', '--data-dir', dir, '--cleanup', `exec ${PYTHON} test/fixtures/zombie-census.py`, '--', PYTHON, 'test/fixtures/double-fork.py']);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
    const census = lines.filter((l) => 'census' in l) as { census: number; zombies: number[] }[];
    const told = lines.filter((l) => l.role === 'orphan') as { pid: number; cpuUs: number; exitCode: number }[];
    expect(census, r.stderr).toHaveLength(3);
    expect(told).toHaveLength(3);
    for (const c of census) expect(c.zombies, `zombie children of procprobe (pid ${c.census}) after a run`).toEqual([]);
    const runs = JSON.parse(r.stdout).runs as { orphansReaped?: { pid: number; exitCode: number | null; signal: string | null; cpuUs: number }[]; processes: { pid: number; exitCode: number | null }[] }[];
    expect(runs).toHaveLength(3);
    runs.forEach((run, i) => {
      const t = told[i]!;
      expect(run.orphansReaped?.map((o) => o.pid), JSON.stringify(run)).toEqual([t.pid]);
      const o = run.orphansReaped![0]!;
      expect({ exitCode: o.exitCode, signal: o.signal }).toEqual({ exitCode: t.exitCode, signal: null });
      // wait4's CPU (µs) includes the orphan's exit after it told its own: at least that (os.times
      // truncates the same counters to 10 ms ticks), and not a busy loop more (50 ms: a loaded machine).
      expect(o.cpuUs).toBeGreaterThanOrEqual(t.cpuUs - 1);
      expect(o.cpuUs).toBeLessThanOrEqual(t.cpuUs + 50_000);
      expect(run.processes.find((p) => p.pid === t.pid)?.exitCode).toBe(t.exitCode);
    });
  }, 90_000);
});
