/**
 * The per-process breakdown of a tree: `processes` in run --json, in history (show --json) and in
 * the terminal report of `show`. Oracle: the fixture (fixtures/fork-tree.py), whose every process
 * reports its own pid, parent and CPU (getrusage SELF) on stderr; and /proc/PID/stat as it ran.
 * Exit statuses: fixtures/fork-exits.py, whose every process says how it is about to end.
 */
import { existsSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanup, runCli } from './helpers/cli.js';
import { requireAddonFor } from './helpers/optional-readers.js';
import { tempDir } from './helpers/temp-dirs.js';
import type { TreeProcess as Listed } from '../dist/sampler/processes.js';

afterAll(cleanup);

const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

interface Told {
  role: 'command' | 'child' | 'grandchild';
  pid: number;
  ppid: number;
  cpuUs: number;
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

  it("every process's exit status: the command (its wait4), an orphan it adopted, and children reaped by their own parent (the kernel's exit events)", async () => {
    const dir = tempDir('procprobe-cli-');
    const r = await runCli(['run', '--json', '--data-dir', dir, '--', PYTHON, 'test/fixtures/fork-exits.py']);
    expect(r.code, r.stderr).toBe(1); // the command exits 4: its startup failed
    type Line = { role: string; pid: number; child?: number; exitCode?: number | null; signal?: string | null };
    const lines = r.stderr.split('\n').filter((l) => l.startsWith('{"role"')).map((l) => JSON.parse(l) as Line);
    const told = lines.filter((t) => t.role !== 'waited');
    const waited = lines.filter((t) => t.role === 'waited');
    expect(told.map((t) => t.role).sort()).toEqual(['coded', 'command', 'killed', 'orphan', 'parent']);
    const run = JSON.parse(r.stdout).runs[0];
    const listed = run.processes as Listed[];
    expect(listed.map((p) => p.pid).sort()).toEqual(told.map((t) => t.pid).sort());
    const of = (role: string) => {
      const t = told.find((x) => x.role === role)!;
      const p = listed.find((x) => x.pid === t.pid)!;
      return { t, p: { exitCode: p.exitCode, signal: p.signal } };
    };
    // The command (procprobe's own wait4) and the orphan (reparented to procprobe): what each said it would do.
    for (const role of ['command', 'orphan']) {
      const { t, p } = of(role);
      expect(p, role).toEqual({ exitCode: t.exitCode, signal: null });
    }
    // Reaped by their own parent: exactly what that parent's waitpid got (the fixture's own record).
    expect(waited.map((w) => w.child).sort()).toEqual(['coded', 'killed', 'parent'].map((role) => of(role).t.pid).sort());
    for (const w of waited) {
      const p = listed.find((x) => x.pid === w.child)!;
      expect({ exitCode: p.exitCode, signal: p.signal }, `child ${w.child}`).toEqual({ exitCode: w.exitCode, signal: w.signal });
    }
    expect(of('killed').p.signal).toBe('SIGKILL');
    expect(of('coded').p.exitCode).toBe(3);
    expect(run.childExit).toBe('code 4');

    // Kept in history, shown in the terminal table.
    const shown = await runCli(['show', '--json', '--data-dir', dir, run.sessionId]);
    expect(shown.code, shown.stderr).toBe(0);
    expect(JSON.parse(shown.stdout).processes).toEqual(listed);
    const text = await runCli(['show', '--data-dir', dir, run.sessionId]);
    expect(text.stdout).toMatch(new RegExp(`^${of('command').t.pid}\\s.*\\scode 4\\s`, 'm'));
    expect(text.stdout).toMatch(new RegExp(`^${of('orphan').t.pid}\\s.*\\scode 5\\s`, 'm'));
  }, 60_000);

  it('a command killed by a signal: its signal, no exit code', async () => {
    const dir = tempDir('procprobe-cli-');
    const r = await runCli(['run', '--json', '--data-dir', dir, '--', 'sh', '-c', 'echo "$$" >&2; sleep 0.3; kill -USR1 $$']);
    expect(r.code, r.stderr).toBe(1);
    const pid = Number(r.stderr.split('\n').find((l) => /^\d+$/.test(l)));
    const run = JSON.parse(r.stdout).runs[0];
    const p = (run.processes as Listed[]).find((x) => x.pid === pid);
    expect(p, JSON.stringify(run.processes)).toBeDefined();
    expect({ exitCode: p!.exitCode, signal: p!.signal }).toEqual({ exitCode: null, signal: 'SIGUSR1' });
  }, 60_000);
});
