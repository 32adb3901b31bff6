/**
 * `procprobe run`'s node hooks (src/node-hooks/) end to end, with the real binary and the fixture
 * apps in test/fixtures/node-hooks. The independent readers: each busy module measures its own
 * busy-wait and appends it to $ORACLE_FILE (busy.cjs), as does each entry its pid, clock origin
 * and the instant it ran; the test's own TCP connects for readiness; the bytes a shell redirect
 * wrote for the child's output, against the same command run without procprobe; a user preload
 * that marks the processes it ran in; the temp dir procprobe was given (TMPDIR) for leftovers.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanup, freePortBelowEphemeral, listeners, newDataDir, oneLineFailure, runCli, startCli } from './helpers/cli.js';
import { CJS, ESM, HOOKS, hooked, moduleAt, threadsWithoutHooks, type Hooked } from './helpers/node-hooks.js';
import { tempDir } from './helpers/temp-dirs.js';
import { nodeOptionsWith } from '../src/node-hooks/receiver.js';
import type { NodeProfile } from '../src/node-hooks/types.js';

const T = 120_000;

/** Each busy module's self time against what it measured itself: within 10 % + 5 ms. */
function expectBusyTimes(h: Hooked, cwd: string): void {
  expect(h.oracle.busy.length).toBe(3);
  for (const b of h.oracle.busy) {
    const m = moduleAt(h.node, b.file.slice(cwd.length + 1));
    expect(m.pid).toBe(b.pid);
    expect(Math.abs(m.selfMs - b.ms), `${m.path}: reported ${m.selfMs} ms, measured ${b.ms} ms`).toBeLessThanOrEqual(0.1 * b.ms + 5);
  }
}

/** Milestones in order, inside the process's life as the test and the process itself saw it. */
function expectMilestones(h: Hooked): void {
  const entry = h.oracle.entries.find((e) => e.what === 'main')!;
  const p = h.node.processes.find((x) => x.pid === entry.pid)!;
  const m = p.milestones!;
  expect(m.timeOrigin).toBeCloseTo(entry.timeOrigin, 3);
  const order = [m.timeOrigin, m.nodeStart, m.v8Start, m.environment, m.bootstrapComplete];
  for (let i = 1; i < order.length; i++) expect(order[i]!).toBeGreaterThanOrEqual(order[i - 1]!);
  expect(m.timeOrigin).toBeGreaterThan(h.t0);
  expect(m.bootstrapComplete!).toBeLessThanOrEqual(entry.at); // the entry module ran after bootstrap
  if (m.loopStart !== null) expect(m.loopStart).toBeGreaterThanOrEqual(m.bootstrapComplete!);
  expect(m.loopStart ?? m.bootstrapComplete!).toBeLessThan(h.t1);
  // As sub-phases of process_startup.
  const ps = h.run.phases.find((x: any) => x.name === 'process_startup');
  for (const name of ['node:v8_start', 'node:environment', 'node:bootstrap']) {
    const ph = h.run.phases.find((x: any) => x.name === name);
    expect(ph, name).toBeDefined();
    expect(ph.startOffsetMs).toBeGreaterThanOrEqual(ps.startOffsetMs);
    expect(ph.startOffsetMs + ph.durationMs).toBeLessThanOrEqual(ps.startOffsetMs + ps.durationMs + 1e-6);
  }
}

afterAll(cleanup);

describe('node hooks: module times and milestones', () => {
  it('an ES module app: busy modules as they measured themselves, the light one near 0, kinds, parents, totals, a package', async () => {
    const h = await hooked(['node', 'main.mjs'], ESM, ['--node-esm-hooks']);
    expectBusyTimes(h, ESM);
    // An ES entry: one thread more, the loader's hooks thread.
    expect(h.oracle.entries[0]!.threads).toBe(threadsWithoutHooks(ESM, 'main.mjs') + 1);
    expectMilestones(h);
    expect(moduleAt(h.node, 'light.mjs').selfMs).toBeLessThan(15);
    expect(moduleAt(h.node, 'main.mjs')).toMatchObject({ kind: 'esm', parent: null, failed: false });
    expect(moduleAt(h.node, 'node:http').kind).toBe('builtin');
    // oracle.cjs sits outside the cwd: shown absolute; an ES import of CommonJS.
    expect(moduleAt(h.node, join(HOOKS, 'oracle.cjs')).kind).toBe('commonjs');
    const inner = moduleAt(h.node, 'node_modules/fakepkg/inner.js');
    const index = moduleAt(h.node, 'node_modules/fakepkg/index.js');
    expect(inner.parent).toBe('node_modules/fakepkg/index.js');
    expect(index.totalMs).toBeCloseTo(index.selfMs + inner.totalMs, 6);
    const busy = h.oracle.busy.reduce((s, b) => s + b.ms, 0);
    expect(moduleAt(h.node, 'main.mjs').totalMs).toBeGreaterThanOrEqual(busy);
  }, T);

  it('an ES module app without --node-esm-hooks: no loader thread, no ES module timed, the rest as before', async () => {
    const h = await hooked(['node', 'main.mjs'], ESM);
    expect(h.oracle.entries[0]!.threads).toBe(threadsWithoutHooks(ESM, 'main.mjs'));
    expect(h.node.modules.filter((m) => m.kind === 'esm')).toEqual([]);
    // The CommonJS it imports still goes through require's cache: timed as with the hooks.
    expect(moduleAt(h.node, join(HOOKS, 'oracle.cjs')).kind).toBe('commonjs');
    expectMilestones(h);
  }, T);

  it('a CommonJS app: the same, JSON as its own kind, self = total − children', async () => {
    const h = await hooked(['node', 'main.cjs'], CJS);
    expectBusyTimes(h, CJS);
    // A CommonJS entry: no hooks thread is started (it costs ~50 ms of CPU, README).
    expect(h.oracle.entries[0]!.threads).toBe(threadsWithoutHooks(CJS, 'main.cjs'));
    expectMilestones(h);
    expect(moduleAt(h.node, 'light.cjs').selfMs).toBeLessThan(15);
    expect(moduleAt(h.node, 'data.json')).toMatchObject({ kind: 'json', parent: 'main.cjs' });
    const main = moduleAt(h.node, 'main.cjs');
    const kids = h.node.modules.filter((m) => m.parent === 'main.cjs');
    expect(main.totalMs).toBeCloseTo(main.selfMs + kids.reduce((s, k) => s + k.totalMs, 0), 6);
    expect(moduleAt(h.node, 'node_modules/fakepkg/inner.js').parent).toBe('node_modules/fakepkg/index.js');
  }, T);

  it('an ES module that require()s CommonJS (createRequire): its self time leaves the CommonJS module\'s out', async () => {
    const h = await hooked(['node', 'mixed-main.mjs'], ESM, ['--node-esm-hooks']);
    expect(h.oracle.busy.length).toBe(2);
    for (const b of h.oracle.busy) {
      const m = moduleAt(h.node, b.file.startsWith(ESM) ? b.file.slice(ESM.length + 1) : b.file);
      expect(Math.abs(m.selfMs - b.ms), `${m.path}: reported ${m.selfMs} ms, measured ${b.ms} ms`).toBeLessThanOrEqual(0.1 * b.ms + 5);
    }
    expect(moduleAt(h.node, join(CJS, 'busy40.cjs')).kind).toBe('commonjs');
  }, T);

  it('the report and `show` (through history) list the slowest modules and the package under node_modules', async () => {
    const data = newDataDir();
    const r = await runCli(['run', '--data-dir', data, '--cwd', CJS, '--', 'node', 'main.cjs']);
    expect(r.code, r.stderr).toBe(0);
    const id = /procprobe show (\S+)\)/.exec(r.stdout)![1]!;
    const shown = await runCli(['show', id, '--data-dir', data]);
    for (const text of [r.stdout, shown.stdout]) {
      expect(text).toMatch(/^modules: \d+ loaded in/m);
      expect(text).toMatch(/^busy60\.cjs\s+commonjs\s/m);
      expect(text).toMatch(/^fakepkg\s+\S+ ms\s+2\s+node_modules\/fakepkg\/inner\.js$/m);
      expect(text).toMatch(/^@fake\/scoped\s+\S+ ms\s+1\s+node_modules\/@fake\/scoped\/index\.js$/m);
    }
    const json = JSON.parse((await runCli(['show', id, '--data-dir', data, '--json'])).stdout);
    expect(json.node.modules.length).toBeGreaterThan(5);
  }, T);
});

describe('node hooks: readiness from listen()', () => {
  /** The test's own connects every few ms while procprobe runs: when each started, ended, and whether it connected. */
  function probePort(port: number, stop: Promise<unknown>): Promise<{ start: number; end: number; ok: boolean }[]> {
    const tries: { start: number; end: number; ok: boolean }[] = [];
    let done = false;
    void stop.then(() => (done = true));
    const now = (): number => performance.timeOrigin + performance.now();
    return new Promise((resolve) => {
      const once = (): void => {
        if (done) return resolve(tries);
        const start = now();
        const s = connect({ port, host: '127.0.0.1' });
        const end = (ok: boolean): void => {
          s.destroy();
          tries.push({ start, end: now(), ok });
          setTimeout(once, 3);
        };
        s.once('connect', () => end(true));
        s.once('error', () => end(false));
      };
      once();
    });
  }

  it.each([
    ['without --port (no polling)', [] as string[]],
    ['with --port', ['--port']],
  ])('%s: process_startup ends at the listen() instant, which agrees with the port becoming connectable', async (_, flag) => {
    const port = await freePortBelowEphemeral();
    const flags = flag.length > 0 ? ['--port', String(port)] : [];
    // --keep: the server stays up after procprobe exits (stopped by pid after), so every connect
    // the test starts after listen() must succeed.
    try {
      await readinessRun(port, flags);
    } finally {
      stopKept(port);
    }
  }, T);

  /** The server --keep left running: killed by pid (cleanup() stops only what runs in the repository root). */
  function stopKept(port: number): void {
    for (const pid of listeners(port)) {
      if (readlinkSync(`/proc/${pid}/cwd`).startsWith(HOOKS)) process.kill(pid, 'SIGKILL');
    }
  }

  async function readinessRun(port: number, flags: string[]): Promise<void> {
    const dir = tempDir('procprobe-nodehooks-');
    const started = startCli(['run', '--json', '--keep', '--data-dir', newDataDir(), '--cwd', CJS, ...flags, '--', 'node', 'main.cjs'], { env: { PORT: String(port), ORACLE_FILE: join(dir, 'o') } });
    const tries = await probePort(port, started.result);
    const r = await started.result;
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    const run = doc.runs[0];
    const l = run.node.listen;
    expect(l).toMatchObject({ port, address: '127.0.0.1', family: 'IPv4' });
    const server = JSON.parse(readFileSync(join(dir, 'o'), 'utf8').trim().split('\n').find((x) => x.includes('"main"'))!);
    expect(l.pid).toBe(server.pid);
    const ps = run.phases.find((x: any) => x.name === 'process_startup');
    const show = JSON.parse((await runCli(['show', run.sessionId, '--data-dir', doc.dataDir, '--json'])).stdout);
    // From the spawn on (with --port, port_management's own check binds the port before it).
    const spawnedAt = show.startTime + ps.startOffsetMs;
    const after = tries.filter((t) => t.start > spawnedAt);
    // Never connectable before the bind+listen call began; every attempt started after it returned connected.
    const oks = after.filter((t) => t.ok);
    expect(oks.length, 'the test connected at least once').toBeGreaterThan(0);
    expect(l.bindStartMs).toBeLessThanOrEqual(l.atMs);
    for (const t of oks) expect(t.end).toBeGreaterThanOrEqual(l.bindStartMs);
    for (const t of after.filter((x) => x.start > l.atMs)) expect(t.ok).toBe(true);
    // process_startup ends at exactly that instant: session start + offset + duration.
    expect(spawnedAt + ps.durationMs).toBeCloseTo(l.atMs, 2);
  }

  it('a Node server started by another Node process (npm start → node): the grandchild reports its listen() and modules on the same channel', async () => {
    const port = await freePortBelowEphemeral();
    const h = await hooked(['node', join(HOOKS, 'spawner.mjs')], ESM, ['--node-esm-hooks'], { PORT: String(port) });
    const server = h.oracle.entries.find((e) => e.what === 'main')!;
    expect(h.node.listen).toMatchObject({ pid: server.pid, port });
    expect(h.node.processes.map((p) => p.pid).sort()).toEqual([server.pid, server.ppid].sort());
    expect(h.node.processes.find((p) => p.pid === server.pid)!.ppid).toBe(server.ppid);
    expect(h.node.modules.some((m) => m.pid === server.ppid && m.path === join(HOOKS, 'spawner.mjs'))).toBe(true);
    expectBusyTimes(h, ESM);
  }, T);
});

describe('node hooks: invisible to the child', () => {
  /** `sh -c 'node file >out 2>err'` in `cwd`: the bytes it wrote and its status, with or without procprobe. */
  async function outputOf(cwd: string, file: string, via: 'procprobe' | 'direct', env: Record<string, string> = {}): Promise<{ out: Buffer; err: Buffer; status: string }> {
    const dir = tempDir('procprobe-nodehooks-');
    const script = `node "$1" >"$2/out" 2>"$2/err"; echo "exit $?" >"$2/status"`;
    if (via === 'direct') spawnSync('/bin/sh', ['-c', script, 'sh', file, dir], { cwd, env: { ...process.env, NODE_OPTIONS: '', ...env } });
    // ES apps with the ES loader hooks, which append to every module's source: the stricter case.
    else await runCli(['run', '--data-dir', newDataDir(), '--cwd', cwd, ...(cwd === ESM ? ['--node-esm-hooks'] : []), '--', '/bin/sh', '-c', script, 'sh', file, dir], { env });
    return { out: readFileSync(join(dir, 'out')), err: readFileSync(join(dir, 'err')), status: readFileSync(join(dir, 'status'), 'utf8') };
  }

  it.each([
    [ESM, 'main.mjs'],
    [CJS, 'main.cjs'],
    [ESM, 'throws.mjs'],
    [CJS, 'throws.cjs'],
    [ESM, 'worker-app.mjs'],
  ])('%s/%s: stdout, stderr (a stack trace included) and exit status byte-identical to a run without procprobe', async (cwd, file) => {
    const [direct, hookedRun] = [await outputOf(cwd, file, 'direct'), await outputOf(cwd, file, 'procprobe')];
    expect(hookedRun.status).toBe(direct.status);
    expect(hookedRun.out.equals(direct.out), `${hookedRun.out}\n---\n${direct.out}`).toBe(true);
    expect(hookedRun.err.equals(direct.err), `${hookedRun.err}\n---\n${direct.err}`).toBe(true);
  }, T);

  it('a listen() on a port in use: the uncaught EADDRINUSE and its stack byte-identical too (no wrapper of ours in it)', async () => {
    const port = await freePortBelowEphemeral();
    const holder = createServer();
    await new Promise<void>((ok) => holder.listen(port, '127.0.0.1', ok));
    try {
      const env = { PORT: String(port) };
      const [direct, hookedRun] = [await outputOf(CJS, 'main.cjs', 'direct', env), await outputOf(CJS, 'main.cjs', 'procprobe', env)];
      expect(direct.err.toString()).toContain('EADDRINUSE');
      expect(hookedRun.status).toBe(direct.status);
      expect(hookedRun.err.equals(direct.err), `${hookedRun.err}\n---\n${direct.err}`).toBe(true);
    } finally {
      holder.close();
    }
  }, T);

  it.each([
    [ESM, 'throws.mjs', 'bad.mjs', 'busy40.mjs'],
    [CJS, 'throws.cjs', 'bad.cjs', 'busy40.cjs'],
  ])('%s/%s: a module that throws at load is reported as failed, with its importer; the one before it is not', async (cwd, entry, bad, before) => {
    const r = await runCli(['run', '--json', '--data-dir', newDataDir(), '--cwd', cwd, ...(cwd === ESM ? ['--node-esm-hooks'] : []), '--', 'node', entry]);
    expect(r.code).toBe(1);
    const node: NodeProfile = JSON.parse(r.stdout).runs[0].node;
    expect(moduleAt(node, bad).failed).toBe(true);
    expect(moduleAt(node, entry).failed).toBe(true);
    expect(moduleAt(node, before).failed).toBe(false);
    expect(moduleAt(node, before).selfMs).toBeGreaterThan(35);
  }, T);

  it("the user's NODE_OPTIONS still applies (its preload runs in the child), the hooks' are appended; --no-node-hooks adds nothing", async () => {
    const dir = tempDir('procprobe-nodehooks-');
    const marker = join(dir, 'marker');
    const userOptions = `--require ${join(HOOKS, 'user-preload.cjs')}`;
    const h = await hooked(['node', 'main.cjs'], CJS, [], { NODE_OPTIONS: userOptions, USER_MARKER: marker });
    const child = h.oracle.entries.find((e) => e.what === 'main')!;
    // procprobe itself runs with the user's NODE_OPTIONS too (its workers without): the child is the other pid.
    expect(readFileSync(marker, 'utf8').trim().split('\n').map(Number)).toContain(child.pid);
    expect(h.node.modules.length).toBeGreaterThan(5);
    // What the child's environment held, as a shell prints it.
    const envFile = join(dir, 'env');
    for (const flags of [[], ['--no-node-hooks']]) {
      const r = await runCli(['run', '--json', '--data-dir', newDataDir(), ...flags, '--', '/bin/sh', '-c', 'printf "%s\\n%s\\n" "$NODE_OPTIONS" "${PROCPROBE_NODE_HOOKS-unset}" > "$0"', envFile], { env: { NODE_OPTIONS: userOptions } });
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout).runs[0].node).toBeNull(); // no Node process in it: no profile
      const [options, channel] = readFileSync(envFile, 'utf8').split('\n');
      if (flags.length === 0) {
        expect(options!.startsWith(`${userOptions} --require "`)).toBe(true);
        expect(options!.endsWith('/dist/node-hooks/preload.cjs"')).toBe(true);
        expect(existsSync(channel!)).toBe(false); // removed after the run
      } else {
        expect(options).toBe(userOptions);
        expect(channel).toBe('unset');
      }
    }
  }, T);

  it('--node-esm-hooks with --no-node-hooks is refused, one line naming both, before anything runs', async () => {
    const marker = join(tempDir('procprobe-nodehooks-'), 'ran');
    const r = await runCli(['run', '--no-node-hooks', '--node-esm-hooks', '--data-dir', newDataDir(), '--', '/bin/sh', '-c', `touch ${marker}`]);
    expect(r.code).toBe(2);
    expect(oneLineFailure(r)).toBe('procprobe: --node-esm-hooks needs the node hooks: it cannot go with --no-node-hooks');
    expect(existsSync(marker)).toBe(false);
  }, T);

  it('lines that are not the preload\'s (another writer on the FIFO) are counted as dropped, never trusted', async () => {
    const h = await hooked(['/bin/sh', '-c', 'printf \'garbage\\n{"k":"cjs","pid":7,"l":[[1]]}\\n{"k":"listen","pid":-1}\\n\' > "$PROCPROBE_NODE_HOOKS"'], CJS);
    expect(h.node).toMatchObject({ modules: [], listen: null, dropped: 3 });
  }, T);
});

describe('nodeOptionsWith', () => {
  it('quotes a preload path with spaces, quotes and backslashes so that Node loads exactly that file', () => {
    const dir = join(tempDir('procprobe-nodehooks-'), 'a dir "with" \\ odd');
    mkdirSync(dir);
    const preload = join(dir, 'p.cjs');
    const marker = join(dir, 'ran');
    writeFileSync(preload, `require('node:fs').writeFileSync(${JSON.stringify(marker)}, 'yes');\n`);
    const r = spawnSync(process.execPath, ['-e', ''], { env: { ...process.env, NODE_OPTIONS: nodeOptionsWith('--no-warnings', preload) } });
    expect(r.status, r.stderr.toString()).toBe(0);
    expect(readFileSync(marker, 'utf8')).toBe('yes');
    expect(nodeOptionsWith(undefined, '/x/p.cjs')).toBe('--require "/x/p.cjs"');
    expect(nodeOptionsWith('  ', '/x/p.cjs')).toBe('--require "/x/p.cjs"');
  });
});
