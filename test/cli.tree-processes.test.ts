/**
 * The per-process breakdown of a tree: `processes` in run --json, in history (show --json) and in
 * the terminal report of `show`. Oracle: the fixture (fixtures/fork-tree.py), whose every process
 * reports its own pid, parent and CPU (getrusage SELF) on stderr; and /proc/PID/stat as it ran.
 */
import { existsSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanup, runCli } from './helpers/cli.js';
import { requireAddonFor } from './helpers/optional-readers.js';
import { tempDir } from './helpers/temp-dirs.js';

afterAll(cleanup);

const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

interface Told {
  role: 'command' | 'child' | 'grandchild';
  pid: number;
  ppid: number;
  cpuUs: number;
}

interface Listed {
  pid: number;
  ppid: number;
  command: string;
  startTime: number;
  adoptedAt: number;
  endTime: number | null;
  cpuMs: number;
  peakRssBytes: number;
  peakThreads: number;
}

describe('procprobe run: the processes of a tree', () => {
  requireAddonFor('native');

  it('every process the command started, with its parent, command line, CPU and lifespan; the same in history and `show`', async () => {
    const dir = tempDir('procprobe-cli-');
    // 3 children and 3 grandchildren, each lingering 300 ms: several rescans (every 50 ms) adopt them.
    const r = await runCli(['run', '--json', '--data-dir', dir, '--', PYTHON, 'test/fixtures/fork-tree.py', '3', '20', '300']);
    expect(r.code, r.stderr).toBe(0);
    const told = r.stderr.split('\n').filter((l) => l.startsWith('{"role"')).map((l) => JSON.parse(l) as Told);
    expect(told).toHaveLength(7);
    const run = JSON.parse(r.stdout).runs[0];
    const listed = run.processes as Listed[];
    expect(listed.map((p) => p.pid).sort()).toEqual(told.map((t) => t.pid).sort());
    const command = told.find((t) => t.role === 'command')!;
    for (const t of told) {
      const p = listed.find((x) => x.pid === t.pid)!;
      const msg = `${t.role} ${t.pid}: ${JSON.stringify(p)}`;
      expect(p.ppid, msg).toBe(t.ppid);
      expect(p.command, msg).toBe(`${PYTHON} test/fixtures/fork-tree.py 3 20 300`);
      expect(p.endTime, msg).not.toBeNull(); // all exited: a one-shot command
      expect(p.endTime!, msg).toBeGreaterThan(p.startTime);
      expect(p.adoptedAt, msg).toBeGreaterThanOrEqual(p.startTime - 10); // start time has 10 ms ticks
      expect(p.peakRssBytes, msg).toBeGreaterThan(1024 * 1024);
      expect(p.peakThreads, msg).toBe(1);
      if (t.role === 'command') continue;
      // Its CPU clock at its last reading: at least what it reported before lingering.
      expect(p.cpuMs, msg).toBeGreaterThanOrEqual(t.cpuUs / 1e3 - 0.5);
      expect(p.cpuMs, msg).toBeLessThanOrEqual(t.cpuUs / 1e3 + 5);
      expect(p.startTime, msg).toBeGreaterThanOrEqual(listed.find((x) => x.pid === command.pid)!.startTime);
    }
    // The list sums to the tree's CPU: the phase's is the command's wait4 rusage (exact). Each
    // process's figure is its clock at its last reading, so the work of its exit after it (about
    // 1 ms a python3; more on a loaded machine, where the last reading comes earlier) is not in it.
    const phase = run.phases.find((x: { name: string }) => x.name === 'process_startup');
    const sum = listed.reduce((a, p) => a + p.cpuMs, 0);
    expect(sum, `listed ${sum} ms, wait4 ${phase.resources.cpuMs} ms`).toBeGreaterThanOrEqual(phase.resources.cpuMs * 0.9 - 3);
    expect(sum).toBeLessThanOrEqual(phase.resources.cpuMs + 1);

    const shown = await runCli(['show', '--json', '--data-dir', dir, run.sessionId]);
    expect(shown.code, shown.stderr).toBe(0);
    expect(JSON.parse(shown.stdout).processes).toEqual(listed);
    const text = await runCli(['show', '--data-dir', dir, run.sessionId]);
    expect(text.code, text.stderr).toBe(0);
    for (const t of told) expect(text.stdout).toMatch(new RegExp(`^${t.pid}\\s+${t.ppid}\\s`, 'm'));
  }, 60_000);
});
