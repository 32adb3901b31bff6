/**
 * The native spawn (native/spawn_posix.cc, src/probe/spawn.ts) against readers that are not the
 * addon: the child's own report of its pid, clocks and CPU (test/fixtures/spawn-child.mjs), GNU
 * time's wait4 of the same command, the kernel's /proc files (pgid, fds, signal masks, children,
 * threads) read here, and child_process for what the host's event loop does.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, type TestContext } from 'vitest';
import { SpawnError, spawnNative, type NativeChild, type NativeSpawnOptions } from '../dist/index.js';
import { need } from './helpers/optional-readers.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/spawn-child.mjs', import.meta.url));
const HOST = fileURLToPath(new URL('./fixtures/spawn-host-exit.mjs', import.meta.url));
const NODE = process.execPath;

function start(ctx: TestContext, opts: NativeSpawnOptions): NativeChild {
  need(ctx, 'addon');
  const c = spawnNative(opts);
  if (c === null) throw new Error('spawnNative returned null on Linux with the addon built');
  return c;
}

function text(s: Readable | null): Promise<string> {
  if (s === null) throw new Error('no pipe');
  return new Promise((ok, fail) => {
    let out = '';
    s.setEncoding('utf8');
    s.on('data', (d: string) => (out += d));
    s.on('error', fail);
    s.on('close', () => ok(out));
  });
}

/** Our children as the kernel lists them (every thread's children file). */
function children(): number[] {
  return readdirSync('/proc/self/task').flatMap((t) =>
    readFileSync(`/proc/self/task/${t}/children`, 'utf8').split(' ').filter(Boolean).map(Number));
}

const statusField = (name: string): string => new RegExp(`^${name}:\\s*(.*)$`, 'm').exec(readFileSync('/proc/self/status', 'utf8'))![1]!;

describe('spawnNative timing and rusage', () => {
  it('stamps spawn before the child started and exit after its last act; rusage covers its own CPU', async (ctx) => {
    const c = start(ctx, { command: NODE, args: [FIXTURE, 'burn', '200'], stdio: ['ignore', 'pipe', 'inherit'] });
    const [out, e] = await Promise.all([text(c.stdout), c.exited]);
    const me = JSON.parse(out) as { pid: number; timeOrigin: number; startNow: number; cpuUs: number; maxRssKiB: number; endNow: number };
    expect(me.pid).toBe(c.pid);
    expect(e.code).toBe(0);
    expect(e.signal).toBeNull();
    // Date.now() is whole ms (floored); performance.timeOrigin is derived from it at startup.
    expect(Math.floor(c.spawnedAtMs)).toBeLessThanOrEqual(me.startNow);
    expect(c.spawnedAtMs).toBeLessThanOrEqual(me.timeOrigin + 1);
    expect(c.spawnReturnedAtMs).toBeGreaterThanOrEqual(c.spawnedAtMs);
    expect(e.exitedAtMs).toBeGreaterThanOrEqual(me.endNow);
    // The child's teardown after its last Date.now(): a few ms; 50 on a loaded machine.
    expect(e.exitedAtMs - me.endNow, `exit stamped ${(e.exitedAtMs - me.endNow).toFixed(2)} ms after the child's last read`).toBeLessThan(50);
    const total = e.rusage.userUs + e.rusage.systemUs;
    expect(total).toBeGreaterThanOrEqual(me.cpuUs);
    expect(total, `rusage ${total} µs vs the child's own ${me.cpuUs} µs`).toBeLessThan(me.cpuUs * 1.05 + 30_000);
    expect(e.rusage.maxRssKiB).toBeGreaterThanOrEqual(me.maxRssKiB);
  });

  it("agrees with GNU time's wait4 of the same command (time runs as our child, node as its child)", async (ctx) => {
    need(ctx, 'time');
    const c = start(ctx, {
      command: '/usr/bin/time',
      args: ['-f', '%e %U %S %F %R %c %w %M', NODE, FIXTURE, 'burn', '200'],
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const [out, err, e] = await Promise.all([text(c.stdout), text(c.stderr), c.exited]);
    expect(e.code, err).toBe(0);
    const [el, u, s, majflt, minflt, invol, vol, maxrss] = err.trim().split('\n').at(-1)!.split(' ').map(Number) as number[];
    const me = JSON.parse(out) as { cpuUs: number };
    // time prints seconds with 2 decimals; ours also holds time's own CPU and faults.
    const theirs = (u! + s!) * 1e6;
    const ours = e.rusage.userUs + e.rusage.systemUs;
    expect(ours).toBeGreaterThanOrEqual(theirs);
    expect(ours, `ours ${ours} µs, time's ${theirs} µs`).toBeLessThan(theirs * 1.05 + 25_000);
    expect(ours).toBeGreaterThanOrEqual(me.cpuUs);
    expect(e.rusage.userUs).toBeGreaterThanOrEqual(u! * 1e6);
    expect(e.rusage.minorFaults).toBeGreaterThanOrEqual(minflt!);
    expect(e.rusage.minorFaults).toBeLessThan(minflt! * 1.2 + 1000);
    expect(e.rusage.majorFaults).toBeGreaterThanOrEqual(majflt!);
    expect(e.rusage.voluntaryCtx).toBeGreaterThanOrEqual(vol!);
    expect(e.rusage.involuntaryCtx).toBeGreaterThanOrEqual(invol!);
    expect(e.rusage.maxRssKiB).toBeGreaterThanOrEqual(maxrss!);
    const wall = e.exitedAtMs - c.spawnedAtMs;
    expect(wall).toBeGreaterThanOrEqual(el! * 1000 - 10);
    expect(wall, `ours ${wall.toFixed(1)} ms, time's ${el} s`).toBeLessThan(el! * 1000 + 60);
  });
});

describe('spawnNative exit, errors and stdio', () => {
  it('reports an exit status, and a signal with no code', async (ctx) => {
    const a = start(ctx, { command: NODE, args: [FIXTURE, 'exit', '7'], stdio: 'ignore' });
    expect(await a.exited).toMatchObject({ code: 7, signal: null });
    const b = start(ctx, { command: '/bin/sleep', args: ['10'], stdio: 'ignore' });
    expect(b.kill('SIGTERM')).toBe(true);
    expect(await b.exited).toMatchObject({ code: null, signal: 'SIGTERM' });
    expect(b.kill('SIGTERM')).toBe(false);
  });

  it('leads a new process group when asked, and kill(sig, true) reaches the group', async (ctx) => {
    const c = start(ctx, { command: '/bin/sleep', args: ['10'], stdio: 'ignore', newProcessGroup: true });
    const stat = readFileSync(`/proc/${c.pid}/stat`, 'utf8');
    const pgrp = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
    expect(pgrp).toBe(c.pid);
    const d = start(ctx, { command: '/bin/sleep', args: ['10'], stdio: 'ignore' });
    const st2 = readFileSync(`/proc/${d.pid}/stat`, 'utf8');
    expect(Number(st2.slice(st2.lastIndexOf(')') + 2).split(' ')[2])).toBe(Number(readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ')[2]));
    expect(c.kill('SIGKILL', true)).toBe(true);
    expect(await c.exited).toMatchObject({ signal: 'SIGKILL' });
    d.kill('SIGKILL');
    await d.exited;
  });

  it('leads a new session when asked: its own sid, pgid and (with autogroup scheduling) autogroup, read from /proc', async (ctx) => {
    const c = start(ctx, { command: '/bin/sleep', args: ['10'], stdio: 'ignore', newSession: true });
    const fields = (pid: number | 'self'): string[] => {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      return stat.slice(stat.lastIndexOf(')') + 2).split(' '); // [0] is field 3 (state)
    };
    expect(Number(fields(c.pid)[2]), 'pgrp').toBe(c.pid);
    expect(Number(fields(c.pid)[3]), 'session').toBe(c.pid);
    expect(Number(fields('self')[3])).not.toBe(c.pid);
    if (readFileSync('/proc/sys/kernel/sched_autogroup_enabled', 'utf8').trim() === '1') {
      expect(readFileSync(`/proc/${c.pid}/autogroup`, 'utf8')).not.toBe(readFileSync('/proc/self/autogroup', 'utf8'));
    }
    expect(c.kill('SIGKILL', true)).toBe(true);
    expect(await c.exited).toMatchObject({ signal: 'SIGKILL' });
  });

  it('throws typed errors for a missing file, a file without exec rights, a bad cwd and an unknown name, leaving no child', (ctx) => {
    need(ctx, 'addon');
    const before = children();
    const cases: [NativeSpawnOptions, Partial<SpawnError>][] = [
      [{ command: '/nonexistent/procprobe-cmd' }, { step: 'exec', errno: 'ENOENT', path: '/nonexistent/procprobe-cmd' }],
      [{ command: '/etc/passwd' }, { step: 'exec', errno: 'EACCES' }],
      [{ command: '/bin/true', cwd: '/nonexistent-dir' }, { step: 'cwd', errno: 'ENOENT', path: '/nonexistent-dir' }],
      [{ command: '/bin/true', cwd: '/etc/passwd' }, { step: 'cwd', errno: 'ENOTDIR' }],
      [{ command: 'procprobe-no-such-command', env: { PATH: '/bin:/usr/bin' } }, { step: 'path', errno: 'ENOENT' }],
    ];
    for (const [opts, want] of cases) {
      let got: unknown;
      try {
        spawnNative(opts);
      } catch (err) {
        got = err;
      }
      expect(got, JSON.stringify(opts)).toBeInstanceOf(SpawnError);
      expect(got).toMatchObject({ code: 'ERR_PROCPROBE_SPAWN', ...want });
    }
    expect(children()).toEqual(before);
  });

  it('round-trips data through stdin and stdout pipes, and passes stderr separately', async (ctx) => {
    const c = start(ctx, { command: '/bin/sh', args: ['-c', 'cat; echo done >&2'] });
    const data = 'x'.repeat(200_000) + '\n';
    c.stdin!.end(data);
    const [out, err, e] = await Promise.all([text(c.stdout), text(c.stderr), c.exited]);
    expect(out).toBe(data);
    expect(err).toBe('done\n');
    expect(e.code).toBe(0);
  });

  it("gives 'ignore' fds /dev/null and 'inherit' fds this process's own, and resets signal masks and dispositions", async (ctx) => {
    const c = start(ctx, { command: '/bin/sleep', args: ['10'], stdio: ['ignore', 'inherit', 'ignore'] });
    expect(readlinkSync(`/proc/${c.pid}/fd/0`)).toBe('/dev/null');
    expect(readlinkSync(`/proc/${c.pid}/fd/2`)).toBe('/dev/null');
    // Inherited even where this process holds it close-on-exec (a vitest worker's may be).
    expect(readlinkSync(`/proc/${c.pid}/fd/1`)).toBe(readlinkSync('/proc/self/fd/1'));
    c.kill('SIGKILL');
    await c.exited;
    // Node ignores SIGPIPE; the child must not inherit that (cat reads its own status file).
    expect(statusField('SigIgn')).not.toBe('0000000000000000');
    const s = start(ctx, { command: '/bin/cat', args: ['/proc/self/status'], stdio: ['ignore', 'pipe', 'inherit'] });
    const status = await text(s.stdout);
    expect(/^SigIgn:\s*(\S+)/m.exec(status)![1]).toBe('0000000000000000');
    expect(/^SigBlk:\s*(\S+)/m.exec(status)![1]).toBe('0000000000000000');
  });

  it('passes exactly the env and argv given (spaces, empty strings, unicode) and the cwd', async (ctx) => {
    const env = { A: 'x y', EMPTY: '', UNI: 'é ✓', 'WITH=EQ': 'no' };
    const args = ['a b', '', ' ', 'tab\there', 'é'];
    const dir = tmpdir();
    const c = start(ctx, { command: NODE, args: [FIXTURE, 'echo', ...args], env: { ...env, DROPPED: undefined }, cwd: dir, stdio: ['ignore', 'pipe', 'inherit'] });
    const got = JSON.parse(await text(c.stdout)) as { argv: string[]; env: Record<string, string>; cwd: string };
    expect(got.argv).toEqual(args);
    // 'WITH=EQ' becomes WITH = 'EQ=no' in the child: an environment cannot hold '=' in a name.
    expect(got.env).toEqual({ A: 'x y', EMPTY: '', UNI: 'é ✓', WITH: 'EQ=no' });
    expect(got.cwd).toBe(dir);
    expect((await c.exited).code).toBe(0);
  });

  it('finds a bare name on the PATH of the child env, not this process', async (ctx) => {
    const path = '/nonexistent:/bin';
    const c = start(ctx, { command: 'sleep', args: ['10'], env: { PATH: path }, stdio: 'ignore' });
    // sh's own lookup with the same PATH (sleep is no builtin in dash); /bin may be a link to /usr/bin.
    const p = spawnSync('/bin/sh', ['-c', 'command -v sleep'], { env: { PATH: path }, encoding: 'utf8' });
    expect(readlinkSync(`/proc/${c.pid}/exe`)).toBe(realpathSync(p.stdout.trim()));
    c.kill('SIGKILL');
    await c.exited;
  });
});

describe('spawnNative and its host', () => {
  it('keeps the host alive while the child runs, and not after its exit was delivered', (ctx) => {
    need(ctx, 'addon');
    for (const mode of ['await', 'detach']) {
      const t0 = Date.now();
      const r = spawnSync(NODE, [HOST, mode], { encoding: 'utf8', timeout: 10_000 });
      const ended = Date.now();
      expect(r.status, `${mode}: ${r.stderr}`).toBe(0);
      const line = JSON.parse(r.stdout) as { exitedAtMs: number; printedAt: number };
      expect(line.exitedAtMs - t0).toBeGreaterThanOrEqual(mode === 'await' ? 50 : 300);
      expect(ended - line.printedAt, `${mode}: host lived ${ended - line.printedAt} ms after the exit`).toBeLessThan(1000);
    }
  });

  it('leaks no fd and no thread over 200 spawns with three pipes each', async (ctx) => {
    need(ctx, 'addon');
    const once = async (): Promise<void> => {
      const c = start(ctx, { command: '/bin/true' });
      c.stdin!.end();
      await Promise.all([c.exited, text(c.stdout), text(c.stderr), new Promise((ok) => c.stdin!.on('close', ok))]);
    };
    for (let i = 0; i < 5; i++) await once();
    const fds = readdirSync('/proc/self/fd').length;
    // Counted once the warm-up's last waiter thread has ended (100 ms without a change): it may
    // still be running its last call, more so under ASan (npm run test:asan).
    let threads = Number(statusField('Threads'));
    for (let same = 0, i = 0; same < 5 && i < 100; i++) {
      await new Promise((ok) => setTimeout(ok, 20));
      const now = Number(statusField('Threads'));
      same = now === threads ? same + 1 : 0;
      threads = now;
    }
    for (let i = 0; i < 200; i++) await once();
    // A detached waiter ends just after its last call: give the last ones a moment (5 s on a
    // loaded machine).
    for (let i = 0; i < 250 && Number(statusField('Threads')) > threads; i++) await new Promise((ok) => setTimeout(ok, 20));
    expect(readdirSync('/proc/self/fd').length).toBe(fds);
    // A leaked waiter per spawn would be 200 threads. One more is allowed: V8 and libuv may start a
    // helper thread of their own during the loop (CI once saw 11 -> 12 with every fd back).
    expect(Number(statusField('Threads')) - threads).toBeLessThanOrEqual(1);
  });
});
