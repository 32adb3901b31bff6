/**
 * procprobe's end of the hooks channel (channel.cts is the child's): a FIFO in a fresh 0700 temp
 * directory, read while the run lasts, drained and removed at close(). The children find it by
 * PROCPROBE_NODE_HOOKS and load the preload through NODE_OPTIONS, appended to the user's own.
 *
 * `--require` rather than `--import`: procprobe cannot know which Node each descendant runs
 * (npm → sh → node, nvm), and `--require` of a CommonJS file is accepted by every version; the
 * preload then registers the ESM hooks where module.register exists (Node >= 20.6).
 *
 * Why procprobe opens the FIFO O_RDWR: it is then a writer too, so the pipe never reads as
 * ended between children (a FIFO with no writer left returns EOF), and a child's O_NONBLOCK open
 * for writing always finds a reader. Reading goes through a net.Socket (libuv polls the fd, no
 * thread blocked); close() pauses it and reads what is left synchronously until EAGAIN, so every
 * line written before the children exited is in.
 */
import { execFileSync } from 'node:child_process';
import { constants, mkdtempSync, openSync, readSync, rmSync } from 'node:fs';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildProfile } from './profile.js';
import type { HookMessage, NodeListen, NodeProfile } from './types.js';

/** Set to '1' in the children's environment: the preload registers the ES loader hooks too. */
export const ESM_HOOKS_ENV = 'PROCPROBE_NODE_ESM_HOOKS';

const PRELOAD = fileURLToPath(new URL('./preload.cjs', import.meta.url));

/** The lines procprobe keeps at most (a 300-module app sends about 20). */
const MAX_MESSAGES = 100_000;

export interface NodeHooks {
  /** `base` with PROCPROBE_NODE_HOOKS set and the preload appended to its NODE_OPTIONS. */
  env(base: NodeJS.ProcessEnv): NodeJS.ProcessEnv;
  /** The first listen() reported (on `port` when given); never settles if none comes. */
  listened(port?: number): Promise<NodeListen>;
  /** Stop reading, take what is left, remove the FIFO and its directory: the run's profile. */
  close(cwd: string): NodeProfile;
}

/** NODE_OPTIONS quoting: a path with spaces or quotes is one double-quoted, backslash-escaped word. */
export function nodeOptionsWith(existing: string | undefined, preload = PRELOAD): string {
  const word = `--require "${preload.replace(/["\\]/g, (c) => `\\${c}`)}"`;
  return existing && existing.trim() !== '' ? `${existing} ${word}` : word;
}

/**
 * A channel for one run, or null with the reason when the FIFO cannot be made (the run goes on
 * without hooks). `esmHooks`: the children also register the ES loader hooks (ESM_HOOKS_ENV), off
 * by default: on Node 20 they run on a thread of their own that every resolve and load crosses
 * to, which alone doubles the startup of a 300-module ES app (README, Benchmarks).
 */
export function openNodeHooks({ esmHooks = false }: { esmHooks?: boolean } = {}): NodeHooks | { error: string } {
  let dir: string | null = null;
  try {
    dir = mkdtempSync(join(tmpdir(), 'procprobe-hooks-')); // mode 0700: only this user
    const fifo = join(dir, 'channel');
    execFileSync('mkfifo', ['-m', '600', fifo], { stdio: 'ignore' }); // Node has no mkfifo of its own
    const fd = openSync(fifo, constants.O_RDWR | constants.O_NONBLOCK);
    return new Receiver(dir, fifo, fd, esmHooks);
  } catch (err) {
    if (dir) rmSync(dir, { recursive: true, force: true });
    return { error: `node hooks off: cannot make their channel (${(err as Error).message.split('\n')[0]})` };
  }
}

class Receiver implements NodeHooks {
  readonly #dir: string;
  readonly #fifo: string;
  readonly #fd: number;
  readonly #socket: Socket;
  readonly #messages: HookMessage[] = [];
  #partial = '';
  #bad = 0;
  #waiters: { port: number | undefined; done: (l: NodeListen) => void }[] = [];
  #listens: NodeListen[] = [];
  #closed = false;
  readonly #esmHooks: boolean;

  constructor(dir: string, fifo: string, fd: number, esmHooks: boolean) {
    this.#esmHooks = esmHooks;
    this.#dir = dir;
    this.#fifo = fifo;
    this.#fd = fd;
    this.#socket = new Socket({ fd, readable: true, writable: false });
    this.#socket.on('data', (chunk: Buffer) => this.#take(chunk.toString('utf8')));
    this.#socket.on('error', () => undefined); // read errors end the profile early, never the run
    this.#socket.unref();
  }

  env(base: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = { ...base, PROCPROBE_NODE_HOOKS: this.#fifo, NODE_OPTIONS: nodeOptionsWith(base.NODE_OPTIONS) };
    if (this.#esmHooks) env[ESM_HOOKS_ENV] = '1';
    else delete env[ESM_HOOKS_ENV]; // only this run's flag says
    return env;
  }

  listened(port?: number): Promise<NodeListen> {
    const seen = this.#listens.find((l) => port === undefined || l.port === port);
    if (seen) return Promise.resolve(seen);
    return new Promise((done) => this.#waiters.push({ port, done }));
  }

  close(cwd: string): NodeProfile {
    if (!this.#closed) {
      this.#closed = true;
      this.#socket.pause();
      this.#drain();
      this.#socket.destroy(); // closes the fd
      rmSync(this.#dir, { recursive: true, force: true });
    }
    return buildProfile(this.#messages, cwd, this.#bad);
  }

  /** What the pipe still holds, read synchronously (the fd is non-blocking: EAGAIN when empty). */
  #drain(): void {
    const buf = Buffer.allocUnsafe(64 * 1024);
    for (;;) {
      let n = 0;
      try {
        n = readSync(this.#fd, buf, 0, buf.length, null);
      } catch {
        break; // EAGAIN: empty
      }
      if (n <= 0) break;
      this.#take(buf.toString('utf8', 0, n));
    }
  }

  #take(text: string): void {
    const lines = (this.#partial + text).split('\n');
    this.#partial = lines.pop() ?? '';
    for (const line of lines) {
      if (line === '') continue;
      let m: HookMessage;
      try {
        m = JSON.parse(line) as HookMessage;
      } catch {
        this.#bad++;
        continue;
      }
      if (this.#messages.length >= MAX_MESSAGES) this.#bad++;
      else this.#messages.push(m);
      if (m.k === 'listen' && typeof m.t === 'number' && typeof m.b === 'number') this.#listen({ pid: m.pid, atMs: m.t, bindStartMs: m.b, port: m.port, address: m.address, family: m.family });
    }
  }

  #listen(l: NodeListen): void {
    this.#listens.push(l);
    const ready = this.#waiters.filter((w) => w.port === undefined || w.port === l.port);
    this.#waiters = this.#waiters.filter((w) => !ready.includes(w));
    for (const w of ready) w.done(l);
  }
}

