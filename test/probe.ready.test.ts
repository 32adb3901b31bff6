/**
 * The readiness checks timed off the main thread (probe/ready.ts, native/ready.h): a port polled
 * by a native thread and a pipe read by one, each stamping its event while this thread is
 * blocked and could not. Oracle: the fixture that listens or writes stamps its own clock
 * (process.hrtime, CLOCK_MONOTONIC) around the event; the thread count is read from
 * /proc/self/task.
 */
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InvalidOptionError, spawnNative } from '../src/index.js';
import { loadNative } from '../src/probe/native.js';
import { chunkReadAt, watchPortNative } from '../src/probe/ready.js';
import { cleanup, freePortBelowEphemeral, ROOT, sleep } from './helpers/cli.js';
import { requireAddonFor } from './helpers/optional-readers.js';

afterAll(cleanup);

const FIXTURE = join(ROOT, 'test/fixtures/ready-report.mjs');
interface Stamp {
  hr: number;
  epoch: number;
}
interface Report {
  pid: number;
  event: 'line' | 'listen';
  before: Stamp;
  after: Stamp;
}

/** This process's performance.now() ms as process.hrtime ms (the fixture's clock): one clock, two origins. */
const toHr = (mono: number): number => mono + (Number(process.hrtime.bigint()) / 1e6 - performance.now());
/** Block this thread, as a busy CLI main thread would be: nothing on its event loop runs meanwhile. */
const block = (ms: number): void => void Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
const threads = (): number => readdirSync('/proc/self/task').length;

/** The fixture's report of `event` from its stderr. */
function reportOf(stderr: NodeJS.ReadableStream, event: Report['event']): Promise<Report> {
  return new Promise((done) => {
    let text = '';
    stderr.on('data', (c: Buffer) => {
      text += c.toString();
      for (const m of text.matchAll(/^\{"pid".*\}$/gm)) {
        const r = JSON.parse(m[0]) as Report;
        if (r.event === event) done(r);
      }
    });
  });
}

describe('readiness stamped where it happens, not when the main thread looks', () => {
  requireAddonFor('native');

  it('a port that starts accepting while this thread is blocked: the watch stamps the listen, 0.5 ms polls', async () => {
    const port = await freePortBelowEphemeral();
    const ac = new AbortController();
    const before = threads();
    const watch = watchPortNative('127.0.0.1', port, 0.5, ac.signal);
    expect(watch, 'native port watch available').not.toBeNull();
    const child = spawn(process.execPath, [FIXTURE, String(port), '100'], { stdio: ['ignore', 'ignore', 'pipe'] });
    const report = reportOf(child.stderr!, 'listen');
    try {
      block(1500); // the fixture boots (~50-300 ms) and listens 200 ms after its start
      const unblocked = toHr(performance.now());
      const r = await watch!;
      const rep = await report;
      const ready = toHr(r.atMono);
      const line = `ready ${ready.toFixed(3)}, listen ${rep.before.hr.toFixed(3)}..${rep.after.hr.toFixed(3)}, unblocked ${unblocked.toFixed(3)}, ${r.attempts} attempts`;
      expect(r.ok, line).toBe(true);
      expect(rep.after.hr, `the fixture listened during the block: ${line}`).toBeLessThan(unblocked);
      expect(ready, line).toBeGreaterThanOrEqual(rep.before.hr);
      // One 0.5 ms poll after the listen on an idle core; a loaded 2-core box may preempt the thread.
      expect(ready - rep.after.hr, line).toBeLessThan(50);
      // It polled on its own deadlines while this thread was blocked: hundreds of rounds.
      expect(r.attempts, line).toBeGreaterThan(50);
    } finally {
      child.kill('SIGTERM');
    }
    for (let i = 0; i < 100 && threads() > before; i++) await sleep(10);
    expect(threads(), 'the watch thread is gone once it reported').toBeLessThanOrEqual(before);
  }, 30_000);

  it('a port that never opens: abort stops the thread, which reports ok false; its thread is gone', async () => {
    const port = await freePortBelowEphemeral();
    const before = threads();
    const ac = new AbortController();
    const watch = watchPortNative('127.0.0.1', port, 0.5, ac.signal)!;
    await sleep(100);
    expect(threads()).toBe(before + 1);
    const t0 = performance.now();
    ac.abort();
    const r = await watch;
    expect(r.ok).toBe(false);
    expect(r.error).toBeUndefined();
    expect(r.atMono).toBeNaN();
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(r.attempts).toBeGreaterThan(10);
    for (let i = 0; i < 100 && threads() > before; i++) await sleep(10);
    expect(threads()).toBe(before);
  }, 30_000);

  it('a host that does not resolve: ok false with the resolver\'s reason, not a hang', async () => {
    const r = await watchPortNative('no-such-host.invalid', 80, 0.5, new AbortController().signal)!;
    expect(r.ok).toBe(false);
    expect(r.error).toMatch(/\S/);
  }, 30_000);

  it('a line written while this thread is blocked: its chunk carries the instant the reader thread read it', async () => {
    const c = spawnNative({ command: process.execPath, args: [FIXTURE, '0', '100'], stdio: ['ignore', 'pipe', 'pipe'] })!;
    const report = reportOf(c.stderr!, 'line');
    const chunks: Buffer[] = [];
    c.stdout!.on('data', (b: Buffer) => chunks.push(b));
    block(1500);
    const unblocked = toHr(performance.now());
    const rep = await report;
    for (let i = 0; i < 100 && chunks.length === 0; i++) await sleep(10);
    c.kill('SIGTERM');
    await c.exited;
    const first = chunks[0]!;
    expect(first.toString()).toBe('ready-report line\n');
    const read = toHr(chunkReadAt(first)!);
    const line = `read ${read.toFixed(3)}, written ${rep.before.hr.toFixed(3)}..${rep.after.hr.toFixed(3)}, unblocked ${unblocked.toFixed(3)}`;
    expect(rep.after.hr, `written during the block: ${line}`).toBeLessThan(unblocked);
    expect(read, line).toBeGreaterThanOrEqual(rep.before.hr);
    expect(read - rep.after.hr, line).toBeLessThan(50);
    expect(chunkReadAt(Buffer.from('not from a reader'))).toBeUndefined();
  }, 30_000);

  it('bad arguments are typed errors naming the argument and the value', () => {
    const native = loadNative().addon!;
    const cb = (): void => undefined;
    expect(() => native.portWatch!('127.0.0.1', 70_000, 0.5, cb)).toThrow(InvalidOptionError);
    expect(() => native.portWatch!('127.0.0.1', 70_000, 0.5, cb)).toThrow(/port.*70000/);
    expect(() => native.portWatch!('127.0.0.1', 80, 0, cb)).toThrow(/intervalMs/);
    expect(() => native.pipeRead!(-1, cb)).toThrow(/fd.*-1/);
    expect(() => native.readyStop!({})).toThrow(InvalidOptionError);
    expect(() => native.readyStop!({})).toThrow(/handle/);
  });
});
