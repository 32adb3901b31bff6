/**
 * `procprobe run` when startup fails (exit 1, a report naming the failed phase, the session saved
 * with success false) and when the command line is wrong (exit 2, one line on stderr, nothing
 * created). Independent facts: a marker file the command would write, the kernel's listener
 * table, a health server of the test's own that counts the requests it gets.
 */
import { existsSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  cleanup,
  dataDirIds,
  FIXTURE_SERVER,
  freePort,
  freePortBelowEphemeral,
  lineMatching,
  listeners,
  newDataDir,
  oneLineFailure,
  readIndex,
  runCli,
} from './helpers/cli.js';
import { tempDir } from './helpers/temp-dirs.js';

interface Phase {
  name: string;
  durationMs: number;
  success: boolean;
  errorMessage?: string;
}
const servers: (Server | HttpServer)[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
  await cleanup();
});
const T = 120_000;

/** A node -e script that writes `marker` when it runs: proof the command was (not) started. */
const writes = (marker: string): string[] => ['node', '-e', `require('fs').writeFileSync(${JSON.stringify(marker)}, 'ran')`];

/** The one saved session: failed, not incomplete, with `phase` failed and its message. */
function savedFailure(dir: string, phase: string): { phases: Phase[]; message: string } {
  const ids = dataDirIds(dir);
  expect(ids.sessions).toHaveLength(1);
  expect(ids.index).toEqual(ids.sessions);
  const [s] = readIndex(dir);
  expect(s.success).toBe(false);
  expect(s.incomplete).toBe(false);
  const p = (s.phases as Phase[]).find((x) => x.name === phase);
  expect(p?.success).toBe(false);
  return { phases: s.phases, message: p!.errorMessage ?? '' };
}

describe('procprobe run: failed phases (exit 1, saved with success false)', () => {
  it('a command that does not exist fails environment_validation with "not found"', async () => {
    const dir = newDataDir();
    const r = await runCli(['run', '--data-dir', dir, '--', 'procprobe-no-such-command-xyz', '--flag']);
    expect(r.code, r.stderr).toBe(1);
    const line = lineMatching(r.stdout, /^✗ /);
    expect(line).toContain('environment_validation failed');
    expect(line).toContain('procprobe-no-such-command-xyz');
    expect(line).toContain('not found');
    const { phases, message } = savedFailure(dir, 'environment_validation');
    expect(message).toContain('not found');
    expect(phases.map((p) => p.name)).toEqual(['environment_validation']); // nothing was started
  }, T);

  it('--require-env MISSING_VAR_XYZ fails environment_validation naming the variable; the command never runs', async () => {
    const marker = join(tempDir('procprobe-cli-'), 'marker');
    const dir = newDataDir();
    const r = await runCli(['run', '--require-env', 'MISSING_VAR_XYZ', '--data-dir', dir, '--', ...writes(marker)], { env: { MISSING_VAR_XYZ: undefined } });
    expect(r.code, r.stderr).toBe(1);
    expect(lineMatching(r.stdout, /^✗ /)).toMatch(/environment_validation failed: .*MISSING_VAR_XYZ/);
    expect(savedFailure(dir, 'environment_validation').message).toContain('MISSING_VAR_XYZ');
    expect(existsSync(marker)).toBe(false);

    // Control: with the variable set, the same command runs and writes the marker.
    const ok = await runCli(['run', '--require-env', 'MISSING_VAR_XYZ', '--data-dir', newDataDir(), '--', ...writes(marker)], { env: { MISSING_VAR_XYZ: '1' } });
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    expect(existsSync(marker)).toBe(true);
  }, T);

  it('a port held by this test process fails port_management naming the holder pid (the kernel agrees)', async () => {
    const port = await freePort();
    const holder = createServer();
    servers.push(holder);
    await new Promise<void>((r) => holder.listen({ port, host: '127.0.0.1' }, r));
    expect(listeners(port)).toEqual([process.pid]); // from /proc, independently of procprobe
    const marker = join(tempDir('procprobe-cli-'), 'marker');
    const dir = newDataDir();
    const r = await runCli(['run', '--port', String(port), '--data-dir', dir, '--', ...writes(marker)]);
    expect(r.code, r.stderr).toBe(1);
    const line = lineMatching(r.stdout, /^✗ /);
    expect(line).toContain('port_management failed');
    expect(line).toContain(`port ${port} is already in use by pid ${process.pid}`);
    const { phases, message } = savedFailure(dir, 'port_management');
    expect(message).toContain(`pid ${process.pid}`);
    expect(phases.map((p) => p.name)).toEqual(['environment_validation', 'port_management']);
    expect(existsSync(marker)).toBe(false);
  }, T);

  it('a health URL nobody answers: health_verification fails at --timeout 1500 with the attempts count', async () => {
    const port = await freePort();
    const deadPort = await freePort(); // nobody listens there
    const dir = newDataDir();
    const url = `http://127.0.0.1:${deadPort}/health`;
    const r = await runCli(['run', '--port', String(port), '--health-url', url, '--timeout', '1500', '--data-dir', dir, '--', 'node', FIXTURE_SERVER, String(port)]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toContain(`cli-server pid`); // the server did start
    const line = lineMatching(r.stdout, /^✗ /);
    expect(line).toContain('health_verification failed');
    const m = /did not answer 2xx after (\d+) attempts \(last: ECONNREFUSED\); timeout after 1500 ms/.exec(line);
    expect(m, line).not.toBeNull();
    expect(Number(m![1])).toBeGreaterThanOrEqual(2);
    const { phases, message } = savedFailure(dir, 'health_verification');
    expect(message).toContain(`${m![1]} attempts`);
    expect(phases.find((p) => p.name === 'process_startup')?.success).toBe(true);
    const total = phases.find((p) => p.name === 'total_startup')!;
    expect(total.success).toBe(false);
    expect(total.durationMs).toBeGreaterThanOrEqual(1495); // gave up at the timeout, not before
    expect(total.durationMs).toBeLessThan(1500 + 3000);
    expect(listeners(port)).toEqual([]); // and the server was stopped
  }, T);

  it('a health URL answering 503: the attempts count equals the requests the health server saw', async () => {
    const port = await freePort();
    const healthPort = await freePort();
    let requests = 0;
    const health = createHttpServer((req, res) => {
      requests++;
      res.writeHead(503).end('not yet');
    });
    servers.push(health);
    await new Promise<void>((r) => health.listen({ port: healthPort, host: '127.0.0.1' }, r));
    const dir = newDataDir();
    const url = `http://127.0.0.1:${healthPort}/health`;
    const r = await runCli(['run', '--port', String(port), '--health-url', url, '--timeout', '1500', '--data-dir', dir, '--', 'node', FIXTURE_SERVER, String(port)]);
    expect(r.code, r.stderr).toBe(1);
    const m = /health_verification failed: .* after (\d+) attempts \(last: HTTP 503\)/.exec(lineMatching(r.stdout, /^✗ /));
    expect(m, r.stdout).not.toBeNull();
    const attempts = Number(m![1]);
    expect(requests).toBeGreaterThanOrEqual(2);
    // The last attempt may be cut off by the timeout before it reaches the server.
    expect(attempts).toBeGreaterThanOrEqual(requests);
    expect(attempts).toBeLessThanOrEqual(requests + 1);
    savedFailure(dir, 'health_verification');
  }, T);

  // Regression: when the command exited before its port accepted, the port poller was never
  // cancelled and procprobe printed its report but never exited. The port is below the ephemeral
  // range so that a hang would be deterministic.
  it('a command crashing during startup with --port: process_startup fails with "code 5", exit 1', async () => {
    const port = await freePortBelowEphemeral();
    const dir = newDataDir();
    const r = await runCli(['run', '--port', String(port), '--data-dir', dir, '--', 'node', '-e', 'process.exit(5)'], { timeoutMs: 15_000 });
    expect(r.stdout).toMatch(/✗ process_startup failed: .*code 5/); // the report is printed...
    const { message } = savedFailure(dir, 'process_startup');
    expect(message).toContain('code 5');
    expect(r.timedOut).toBe(false); // ...but procprobe does not exit
    expect(r.code).toBe(1);
  }, T);
});

describe('procprobe: bad usage (exit 2, one line on stderr)', () => {
  const cases: [string, (dir: string) => string[], RegExp[]][] = [
    ['no command after --', (d) => ['run', '--data-dir', d, '--'], [/no command after --/]],
    ['no -- at all', (d) => ['run', '--data-dir', d, 'node', 'x.js'], [/no command after --/]],
    ['unknown option --bogus', (d) => ['run', '--bogus', '--data-dir', d, '--', 'node', '-e', '1'], [/--bogus/]],
    ['--port abc', (d) => ['run', '--port', 'abc', '--data-dir', d, '--', 'node', '-e', '1'], [/--port/, /"abc"/]],
    ['--runs 0', (d) => ['run', '--runs', '0', '--data-dir', d, '--', 'node', '-e', '1'], [/--runs/, /"0"/]],
    ['unknown subcommand', (d) => ['frobnicate', '--data-dir', d], [/unknown command "frobnicate"/]],
  ];
  it.each(cases)('%s', async (_name, args, patterns) => {
    const dir = newDataDir();
    const r = await runCli(args(dir));
    expect(r.code, r.stdout + r.stderr).toBe(2);
    const line = oneLineFailure(r);
    for (const p of patterns) expect(line).toMatch(p);
    expect(existsSync(dir)).toBe(false); // nothing started, nothing created
  }, T);
});
