/**
 * The command's lifecycle around procprobe, end to end: Ctrl-C (SIGINT to procprobe) stops the
 * command's whole process group and saves the session as incomplete; --keep leaves it running;
 * and the machine-level commands doctor and bench. Facts come from /proc (who listens on the
 * port, process groups, parents) and from the server fixture's own output (its pid).
 */
import { existsSync } from 'node:fs';
import { get } from 'node:http';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { HistoryStore } from '../dist/history/store.js';
import { SCHEMA_VERSION } from '../dist/schema.js';
import {
  alive,
  cleanup,
  FIXTURE_SERVER,
  freePort,
  groupMembers,
  lineMatching,
  listeners,
  newDataDir,
  portAccepts,
  procStat,
  ROOT,
  runCli,
  sleep,
  startCli,
} from './helpers/cli.js';
import { waitFor } from './helpers/readers.js';
import { need } from './helpers/optional-readers.js';

afterEach(cleanup);
const T = 120_000;

/** Start `run ...args -- node examples/server.mjs P`, wait until it listens and ~1 s has passed, SIGINT procprobe. */
async function interruptWhileWaiting(port: number, dir: string, args: string[]) {
  const t0 = Date.now();
  const h = startCli(['run', ...args, '--data-dir', dir, '--', 'node', 'examples/server.mjs', String(port)]);
  await waitFor(`a listener on ${port}`, () => (listeners(port).length > 0 ? true : undefined), 60_000);
  const [serverPid] = listeners(port) as [number];
  // The server is procprobe's child, in a process group of its own.
  expect(procStat(serverPid)).toMatchObject({ ppid: h.child.pid, pgid: serverPid });
  // ~1 s after the start, and at least 300 ms after the port opened (procprobe polls it every 5 ms).
  await sleep(Math.max(300, 1000 - (Date.now() - t0)));
  expect(h.child.exitCode).toBeNull(); // still waiting
  h.child.kill('SIGINT');
  const r = await h.result;
  return { r, serverPid };
}

async function expectIncompleteSession(dir: string) {
  const { value } = await new HistoryStore(dir).loadSummaries(0);
  expect(value).toHaveLength(1);
  expect(value[0]!.incomplete).toBe(true);
  expect(value[0]!.success).toBe(false);
  const listed = await runCli(['sessions', '--json', '--data-dir', dir]);
  expect(listed.code, listed.stderr).toBe(0);
  expect(JSON.parse(listed.stdout).sessions.map((s: { id: string; incomplete: boolean }) => [s.id, s.incomplete])).toEqual([[value[0]!.id, true]]);
  return value[0]!;
}

describe('Ctrl-C', () => {
  it('while waiting for a --ready-pattern that never comes: exit 1, the server group is gone, the session saved incomplete', async () => {
    const port = await freePort();
    const dir = newDataDir();
    const { r, serverPid } = await interruptWhileWaiting(port, dir, ['--ready-pattern', 'never-printed-xyz']);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toContain(`listening on http://127.0.0.1:${port}`); // it did start
    expect(r.stderr).toContain('interrupted, stopping the command and saving the session');
    expect(r.stdout).toContain('✗ interrupted: the command was stopped and the session saved as incomplete');
    expect(alive(serverPid)).toBe(false);
    expect(groupMembers(serverPid)).toEqual([]);
    expect(listeners(port)).toEqual([]);
    expect(await portAccepts(port)).toBe(false);
    const s = await expectIncompleteSession(dir);
    expect(s.phases.find((p) => p.name === 'process_startup')?.success).toBe(false);
  }, T);

  it('during health_verification (health URL never answers): same outcome', async () => {
    const port = await freePort();
    const deadPort = await freePort();
    const dir = newDataDir();
    const url = `http://127.0.0.1:${deadPort}/health`;
    const { r, serverPid } = await interruptWhileWaiting(port, dir, ['--port', String(port), '--health-url', url]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toContain('✗ interrupted');
    expect(alive(serverPid)).toBe(false);
    expect(groupMembers(serverPid)).toEqual([]);
    expect(await portAccepts(port)).toBe(false);
    const s = await expectIncompleteSession(dir);
    expect(s.phases.find((p) => p.name === 'process_startup')?.success).toBe(true);
    expect(s.phases.some((p) => p.name === 'health_verification')).toBe(true);
  }, T);
});

describe('--keep', () => {
  it('leaves the server running after procprobe exits 0 (the test then stops it)', async () => {
    const port = await freePort();
    const dir = newDataDir();
    const url = `http://127.0.0.1:${port}/health`;
    const h = startCli(['run', '--keep', '--port', String(port), '--health-url', url, '--data-dir', dir, '--', 'node', FIXTURE_SERVER, String(port)]);
    const procprobePid = h.child.pid;
    const r = await h.result;
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('✓ started and healthy');
    const pid = Number(/cli-server pid (\d+) listening on (\d+)/.exec(r.stdout)![1]);
    // The pid the server printed is the one the kernel lists as listening, procprobe is gone, and
    // the server lives on in its own process group, no longer procprobe's child.
    expect(listeners(port)).toEqual([pid]);
    expect(alive(procprobePid!)).toBe(false);
    const st = procStat(pid)!;
    expect(alive(pid)).toBe(true);
    expect(st.pgid).toBe(pid);
    expect(st.ppid).not.toBe(procprobePid);
    expect(await portAccepts(port)).toBe(true);
    const body = await new Promise<string>((done, fail) => {
      get(`http://127.0.0.1:${port}/`, (res) => {
        let b = '';
        res.on('data', (d) => (b += d));
        res.on('end', () => done(b));
      }).once('error', fail);
    });
    expect(body).toBe(`cli-server ${pid}\n`);
    const [s] = (await new HistoryStore(dir).loadSummaries(0)).value;
    expect(s!.success).toBe(true);

    process.kill(-pid, 'SIGTERM');
    await waitFor(`server ${pid} to stop`, () => (!alive(pid) ? true : undefined), 10_000);
    expect(listeners(port)).toEqual([]);
    expect(await portAccepts(port)).toBe(false);
  }, T);
});

describe('doctor and bench', () => {
  it('doctor exits 0 and reports the native tier loaded from the built addon', async (ctx) => {
    need(ctx, 'addon');
    const addon = join(ROOT, 'build/Release/procprobe.node');
    expect(existsSync(addon)).toBe(true);
    const r = await runCli(['doctor']);
    expect(r.code, r.stderr).toBe(0);
    expect(lineMatching(r.stdout, /^probe tier: /)).toMatch(/^probe tier: native — .*procprobe\.node/);
    expect(r.stdout).toContain(`node ${process.version} on linux`);
    const j = await runCli(['doctor', '--json']);
    expect(j.code, j.stderr).toBe(0);
    const doc = JSON.parse(j.stdout);
    expect(doc.schemaVersion).toBe(SCHEMA_VERSION);
    expect(doc.backend).toBe('native');
    expect(doc.node).toBe(process.version);
    expect(doc.features).not.toBeNull();
    expect(doc.sampler1kHz.samples).toBeGreaterThan(100); // 1 s at 1 kHz, even on a loaded VM
  }, T);

  it('bench --quick exits 0 and prints a table of measures against their baselines', async (ctx) => {
    need(ctx, 'addon');
    const r = await runCli(['bench', '--quick']);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^measure\s+procprobe\s+baseline\s+ratio\s+baseline is$/);
    expect(lines.length).toBeGreaterThanOrEqual(2);
    const row = lineMatching(r.stdout, /^one sample, sampleInto/);
    const m = /\(µs\)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)×/.exec(row);
    expect(m, row).not.toBeNull();
    const [a, b, ratio] = [Number(m![1]), Number(m![2]), Number(m![3])];
    expect(a).toBeGreaterThan(0);
    expect(b).toBeGreaterThan(0);
    // The ratio column is the quotient of the two columns (up to their 2-decimal rounding).
    expect(Math.abs(ratio - a / b)).toBeLessThanOrEqual(0.01 + ratio * (0.006 / Math.min(a, b)) * 2);

    const j = await runCli(['bench', '--quick', '--json']);
    expect(j.code, j.stderr).toBe(0);
    const doc = JSON.parse(j.stdout);
    expect(doc.schemaVersion).toBe(SCHEMA_VERSION);
    expect(doc.rows[0][0]).toBe('one sample, sampleInto (µs)');
  }, T);
});
