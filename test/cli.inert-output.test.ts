/**
 * What the CLI prints is inert: control characters in labels, phase names, error messages, file
 * names and process names reach the terminal as visible `\xHH` text, never as the raw bytes that
 * would move the cursor, retitle the window or overwrite a line. One test per class of control
 * character (C0, DEL, C1) through `sessions`, `show`, `stats` and `--json`, then `run` with a
 * hostile --label and a port held by a process whose name (/proc/PID/comm, read here) carries
 * ESC and BEL, then a planted file name in a warning. Every check reads the raw bytes written.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PerformanceMonitor } from '../dist/index.js';
import { escapeControls } from '../dist/cli/terminal.js';
import { cleanup, freePort, newDataDir, readIndex, runCli, sleep, type CliResult } from './helpers/cli.js';
import { waitForSamples } from './helpers/session-helpers.js';

const T = 120_000;
const range = (from: number, to: number): string => String.fromCharCode(...Array.from({ length: to - from + 1 }, (_, i) => from + i));
/** The classes of control characters, Unicode's Cc: C0 (NUL..US: BEL, BS, TAB, LF, CR, ESC...), DEL, C1 (PAD..APC: NEL, CSI, OSC...). */
const CLASSES = [
  { name: 'C0', chars: range(0x00, 0x1f) },
  { name: 'DEL', chars: '\x7f' },
  { name: 'C1', chars: range(0x80, 0x9f) },
];
/** What the README promises a control character looks like: `\x` and two lower-case hex digits. */
const visible = (s: string): string => [...s].map((c) => (/\p{Cc}/u.test(c) ? `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}` : c)).join('');

/**
 * The offending bytes of terminal output, with their offsets: any C0 byte but LF, DEL, and the
 * UTF-8 encoding of a C1 control (C2 80..C2 9F). Read from the bytes, not through a decoder.
 */
function controlBytes(buf: Buffer): string[] {
  const bad: string[] = [];
  for (let i = 0; i < buf.length; i++) {
    const b = buf[i]!;
    if ((b < 0x20 && b !== 0x0a) || b === 0x7f) bad.push(`0x${b.toString(16)} at ${i}`);
    else if (b === 0xc2 && buf[i + 1]! >= 0x80 && buf[i + 1]! <= 0x9f) bad.push(`C1 0x${buf[i + 1]!.toString(16)} at ${i}`);
  }
  return bad;
}

function expectInert(r: CliResult): void {
  expect(controlBytes(r.stdoutBytes), r.stdout).toEqual([]);
  expect(controlBytes(r.stderrBytes), r.stderr).toEqual([]);
}

describe('escapeControls', () => {
  it('escapes exactly Unicode\'s control characters (Cc), as \\xHH, and leaves every other code point', () => {
    const wrong: string[] = [];
    for (let cp = 0; cp <= 0x10ffff; cp += cp < 0x10000 ? 1 : 0x3f1) {
      if (cp >= 0xd800 && cp <= 0xdfff) continue; // lone surrogates are not characters
      const ch = String.fromCodePoint(cp);
      const want = /\p{Cc}/u.test(ch) ? `\\x${cp.toString(16).padStart(2, '0')}` : ch;
      if (escapeControls(`a${ch}b`) !== `a${want}b`) wrong.push(cp.toString(16));
    }
    expect(wrong).toEqual([]);
    expect(escapeControls('\x1b]0;pwned\x07\r\x9b2J')).toBe('\\x1b]0;pwned\\x07\\x0d\\x9b2J');
  });
});

// One data dir, one session per class: the label, a phase name, a failed phase's message and a
// recorded error (message and operation) all carry every character of the class.
const dir = newDataDir();
const sessions = new Map<string, { id: string; label: string; phase: string; message: string; op: string }>();

beforeAll(async () => {
  const pm = new PerformanceMonitor({ dataDir: dir, nodeBootstrap: false, flushIntervalMs: 20 });
  for (const { name, chars } of CLASSES) {
    // NUL is no argv character: the label (given back to `stats --label`) holds the rest of C0.
    const s = { label: `label-${name}[${chars.replace('\0', '')}]`, phase: `phase-${name}[${chars}]`, message: `message-${name}[${chars}]`, op: `op-${name}[${chars}]`, id: '' };
    s.id = pm.startSession({ label: s.label });
    await waitForSamples(pm);
    pm.finishTiming(pm.startTiming(s.phase), true);
    pm.finishTiming(pm.startTiming(`failed-${s.phase}`), false, s.message);
    pm.recordError(s.message, s.op);
    await pm.finishSession(true);
    sessions.set(name, s);
  }
  await pm.close();
  // What the index holds, decoded here: the strings arrived unchanged.
  const index = readIndex(dir);
  for (const s of sessions.values()) expect(index.find((x) => x.id === s.id)?.metadata.label).toBe(s.label);
}, T);
afterAll(cleanup);

describe.each(CLASSES)('the $name controls', ({ name }) => {
  it('sessions, show and stats print them as visible \\xHH text, and --json as JSON escapes', async () => {
    const s = sessions.get(name)!;
    const list = await runCli(['sessions', '--data-dir', dir]);
    expect(list.code, list.stderr).toBe(0);
    expectInert(list);
    // sessions cuts a long label in the middle (to fit 100 columns): its start and its end show, escaped.
    const shown = visible(s.label);
    expect(list.stdout).toContain(shown.length <= 24 ? shown : shown.slice(0, 11));
    expect(list.stdout).toContain(shown.length <= 24 ? shown : `${shown.slice(-11)}\n`);

    const show = await runCli(['show', s.id, '--data-dir', dir]);
    expect(show.code, show.stderr).toBe(0);
    expectInert(show);
    for (const text of [s.label, s.phase, `failed-${s.phase}`, `[${s.op}] ${s.message}`]) expect(show.stdout).toContain(visible(text));

    const stats = await runCli(['stats', '--label', s.label, '--data-dir', dir]);
    expect(stats.code, stats.stderr).toBe(0);
    expectInert(stats);
    expect(stats.stdout).toMatch(/^1 sessions in 7 days/);
    for (const text of [s.phase, `${s.op}: 1`]) expect(stats.stdout).toContain(visible(text));

    // --json: still the exact strings once parsed, with no raw control byte on the way.
    const json = await runCli(['show', s.id, '--json', '--data-dir', dir]);
    expect(json.code, json.stderr).toBe(0);
    expectInert(json);
    const doc = JSON.parse(json.stdoutBytes.toString('utf8'));
    expect(doc.metadata.label).toBe(s.label);
    expect(doc.errors[0]).toMatchObject({ message: s.message, operation: s.op });
  }, T);
});

describe('procprobe run', () => {
  let holder: ChildProcess | null = null;
  afterEach(() => {
    holder?.kill('SIGKILL');
    holder = null;
  });

  it('a hostile --label and a port held by a process named with ESC and BEL are printed escaped', async () => {
    const port = await freePort();
    const runDir = newDataDir();
    // The holder retitles itself: on Linux libuv also sets /proc/PID/comm (prctl PR_SET_NAME).
    holder = spawn(process.execPath, ['-e', `process.title = 'h\\x1b[2J\\x07\\rz'; require('net').createServer().listen(${port}, '127.0.0.1', () => console.log('up'))`], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise((r) => holder!.stdout!.once('data', r));
    await sleep(50);
    const comm = readFileSync(`/proc/${holder.pid}/comm`, 'latin1').replace(/\n$/, '');
    expect(comm).toBe('h\x1b[2J\x07\rz'); // the kernel holds the raw bytes procprobe will read
    const label = 'app\x1b]0;pwned\x07\r\x9b31m';

    const r = await runCli(['run', '--label', label, '--port', String(port), '--data-dir', runDir, '--', 'node', '-e', '0'], { timeoutMs: T });
    expect(r.code, r.stderr).toBe(1); // port_management failed
    expectInert(r);
    expect(r.stdout).toContain(`procprobe run — ${visible(label)}`);
    expect(r.stdout).toContain(`✗ port_management failed: port ${port} is already in use by pid ${holder.pid} (${visible(comm)})`);

    // The same reason, from history.
    const [summary] = readIndex(runDir);
    const show = await runCli(['show', summary.id, '--data-dir', runDir]);
    expectInert(show);
    expect(show.stdout).toContain(`(${visible(comm)})`);
  }, T);
});

describe('warnings', () => {
  it('a planted file whose name holds ESC and CR is named escaped in the warning', async () => {
    const planted = newDataDir();
    for (const sub of ['sessions', 'index']) mkdirSync(join(planted, sub), { recursive: true, mode: 0o700 });
    const name = 'evil\x1b[1A\x1b[2K\r';
    writeFileSync(join(planted, 'sessions', `${name}.pps`), 'not a session');
    const r = await runCli(['sessions', '--data-dir', planted]);
    expectInert(r);
    expect(r.stderr).toContain(visible(name));
  }, T);
});
