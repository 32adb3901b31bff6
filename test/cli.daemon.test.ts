/**
 * A command that daemonizes: `sh -c 'setsid node server &'` exits 0 at once while the server
 * lives on in a session of its own, the way nginx (daemon on), redis-server --daemonize yes and
 * pg_ctl start do. procprobe must follow it (a child subreaper adopts the orphan), time its
 * readiness, sample it, say so, and stop it unless --keep. Oracles: TCP connects to the port, the
 * kernel's socket table (/proc/net/tcp: who holds the port), and /proc/PID for the process.
 */
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { alive, cleanup, FIXTURE_SERVER, freePort, listeners, portAccepts, runCli } from './helpers/cli.js';
import { requireAddonFor } from './helpers/optional-readers.js';
import { tempDir } from './helpers/temp-dirs.js';

const left: number[] = [];
afterAll(async () => {
  for (const pid of left) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  await cleanup();
});

const daemonize = (port: number): string[] => ['sh', '-c', `setsid ${process.execPath} ${FIXTURE_SERVER} ${port} >/dev/null 2>&1 &`];

describe('procprobe run: a command that forks into the background', () => {
  requireAddonFor('native');

  it('followed to readiness, sampled, named in the report, and stopped at the end', async () => {
    const port = await freePort();
    const dir = tempDir('procprobe-cli-');
    const r = await runCli(['run', '--json', '--port', String(port), '--data-dir', dir, '--', ...daemonize(port)]);
    expect(r.code, r.stderr).toBe(0);
    const run = JSON.parse(r.stdout).runs[0];
    expect(run.childExit).toBe('code 0');
    expect(run.daemon.pids).toHaveLength(1);
    expect(run.daemon.note).toMatch(/^sh forked into the background and exited 0: procprobe followed pid \d+/);
    expect(run.daemon.kept).toBe(false);
    const p = run.phases.find((x: { name: string }) => x.name === 'process_startup');
    expect(p.success).toBe(true);
    // The tree held the Node server, not just the shell (~1-2 MiB).
    expect(p.resources.rssPeakBytes).toBeGreaterThan(20 * 2 ** 20);
    // Stopped: nothing holds or answers the port, the process is gone.
    expect(listeners(port)).toEqual([]);
    expect(await portAccepts(port)).toBe(false);
    expect(alive(run.daemon.pids[0])).toBe(false);
  }, 60_000);

  it('--keep: left running, and the pid reported is the one holding the port', async () => {
    const port = await freePort();
    const dir = tempDir('procprobe-cli-');
    const r = await runCli(['run', '--keep', '--port', String(port), '--data-dir', dir, '--', ...daemonize(port)]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/! sh forked into the background and exited 0: procprobe followed pid (\d+).*; left running \(--keep\)/);
    const pid = Number(/followed pid (\d+)/.exec(r.stdout)![1]);
    left.push(pid);
    expect(alive(pid)).toBe(true);
    expect(await portAccepts(port)).toBe(true);
    expect(listeners(port)).toContain(pid);
    // In a session of its own (setsid), as a daemon is: field 6 of /proc/PID/stat.
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    expect(Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[3])).toBe(pid);
  }, 60_000);
});
