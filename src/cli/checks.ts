/**
 * What `procprobe run` checks and waits for: the command on PATH, a free port (and who holds it
 * if not), a port accepting connections, a health URL answering 2xx. None of them spawns a
 * process: the sampler counts the CLI's descendants, and a helper process would be one.
 */
import { accessSync, constants, readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { request as requestHttps } from 'node:https';
import { connect, createServer } from 'node:net';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { watchPortNative } from '../probe/ready.js';

/** The executable a command name resolves to, or an error message. */
export function resolveCommand(command: string, cwd: string, env: NodeJS.ProcessEnv): { path: string } | { error: string } {
  const executable = (p: string): boolean => {
    try {
      accessSync(p, constants.X_OK);
      return statSync(p).isFile();
    } catch {
      return false;
    }
  };
  if (command.includes('/') || (process.platform === 'win32' && command.includes('\\'))) {
    const p = isAbsolute(command) ? command : resolve(cwd, command);
    return executable(p) ? { path: p } : { error: `${command}: not found or not executable` };
  }
  const exts = process.platform === 'win32' ? (env.PATHEXT ?? '.EXE;.CMD;.BAT').split(';') : [''];
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    for (const ext of exts) {
      const p = join(dir, command + ext);
      if (executable(p)) return { path: p };
    }
  }
  return { error: `${command}: command not found on PATH` };
}

/** Resolve when `port` is free on `host`; else the reason, naming the holder where the system tells. */
export function checkPortFree(port: number, host: string): Promise<{ free: true } | { free: false; reason: string }> {
  return new Promise((done) => {
    const server = createServer();
    server.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EADDRINUSE') return done({ free: false, reason: `port ${port}: ${err.code ?? err.message}` });
      const holder = portHolder(port);
      done({ free: false, reason: `port ${port} is already in use${holder ? ` by pid ${holder.pid} (${holder.name})` : ''}` });
    });
    server.listen({ port, host, exclusive: true }, () => server.close(() => done({ free: true })));
  });
}

/** The process listening on a TCP port, from /proc/net/tcp{,6} and /proc/*\/fd (Linux); null elsewhere. */
export function portHolder(port: number): { pid: number; name: string } | null {
  const inodes = new Set<string>();
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(file, 'latin1');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10 || f[3] !== '0A') continue; // 0A: LISTEN
      if (parseInt(f[1]!.split(':')[1]!, 16) === port) inodes.add(f[9]!);
    }
  }
  if (inodes.size === 0) return null;
  for (const pid of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (m && inodes.has(m[1]!)) return { pid: Number(pid), name: readFileSync(`/proc/${pid}/comm`, 'latin1').trim() };
      } catch {
        // the fd closed meanwhile
      }
    }
  }
  return null;
}

/** How often the port is tried: the interval of the oracle launcher the README compares with. */
export const PORT_POLL_MS = 0.5;

/**
 * Try to connect until it succeeds or `signal` aborts: the instant the first connect completed,
 * on the performance.now() clock (ms), or null when aborted first. With the addon a native thread
 * connects every 0.5 ms and stamps the success as it happens (probe/ready.ts); without it the
 * event loop tries every 5 ms and stamps the 'connect' event.
 */
export async function waitForPort(port: number, host: string, signal: AbortSignal): Promise<number | null> {
  const native = watchPortNative(host, port, PORT_POLL_MS, signal);
  const r = native ? await native : null;
  if (r?.ok) return r.atMono;
  if (r && r.error === undefined) return null; // stopped by the signal
  // No native watch, or it could not resolve the host: the event loop tries (and keeps trying a
  // name that may resolve later), as it always did.
  while (!signal.aborted) {
    const at = await new Promise<number | null>((done) => {
      const sock = connect({ port, host });
      sock.once('connect', () => {
        const t = performance.now();
        // A connection to a free port in the ephemeral range can be given that very port as its
        // own local port (TCP simultaneous open): connected to itself, not to the command.
        const self = sock.localPort === port && (sock.localAddress === sock.remoteAddress);
        sock.destroy();
        done(self ? null : t);
      });
      sock.once('error', () => done(null));
    });
    if (at !== null) return at;
    await sleep(5, undefined, { signal }).catch(() => undefined);
  }
  return null;
}

export interface HealthResult {
  ok: boolean;
  attempts: number;
  /** Last HTTP status, or the last network error (an attempt our own abort cut off is not one). */
  last: string;
}

/** GET `url` until it answers 2xx or `signal` aborts; backoff 10 ms x1.5 up to 250 ms. */
export async function waitForHealth(url: string, signal: AbortSignal): Promise<HealthResult> {
  let attempts = 0;
  let last = 'no attempt';
  let delay = 10;
  while (!signal.aborted) {
    attempts++;
    const status = await get(url, signal);
    // An attempt cut off by our own timeout or Ctrl-C tells nothing about the server: the last
    // answer it gave (e.g. HTTP 503) stays the one reported.
    if (signal.aborted && typeof status !== 'number' && attempts > 1) break;
    last = typeof status === 'number' ? `HTTP ${status}` : status;
    if (typeof status === 'number' && status >= 200 && status < 300) return { ok: true, attempts, last };
    await sleep(delay, undefined, { signal }).catch(() => undefined);
    delay = Math.min(250, delay * 1.5);
  }
  return { ok: false, attempts, last };
}

function get(url: string, signal: AbortSignal): Promise<number | string> {
  return new Promise((done) => {
    // agent: false: one connection per attempt, closed after it. A kept-alive socket would hold
    // the server's close() on SIGTERM until its idle timeout.
    const req = (url.startsWith('https:') ? requestHttps : request)(url, { method: 'GET', signal, timeout: 2000, agent: false }, (res) => {
      res.resume();
      done(res.statusCode ?? 0);
    });
    req.once('timeout', () => req.destroy(new Error('timed out after 2 s')));
    req.once('error', (err: NodeJS.ErrnoException) => done(err.code ?? err.message));
    req.end();
  });
}
