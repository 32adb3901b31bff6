/**
 * Independent readers that come from outside npm (Debian packages): what each needs, how to tell
 * whether this machine has it, and the one policy for a test that needs one.
 *
 * - Present: the test runs.
 * - Missing on a developer's machine: the test is reported as skipped with a note naming what is
 *   missing and the package that brings it (`ctx.skip(note)`); test/helpers/skip-reporter.ts lists
 *   every such note at the end of the run. Never a silent skip.
 * - Missing with CI=true (as .ci/run runs): the test fails with the same words, so CI can never
 *   go green without the readers it promises.
 *
 * Nothing here imports procprobe.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeEach, describe, it, type TestContext } from 'vitest';
import { CHROMIUM } from './chromium.js';

export interface Reader {
  /** What it is and what the tests read with it. */
  what: string;
  /** The Debian package that brings it. */
  pkg: string;
  /** How to get it, when installing a package is not the way (default: apt-get install pkg). */
  how?: string;
  available(): boolean;
}

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** Where the loader finds the addon (src/probe/native.ts), checked here without loading it. */
const ADDON_FILES = process.env.PROCPROBE_ADDON_PATH
  ? [process.env.PROCPROBE_ADDON_PATH]
  : [`${ROOT}build/Release/procprobe.node`, `${ROOT}build/Debug/procprobe.node`, `${ROOT}prebuilds/${process.platform}-${process.arch}/procprobe.node`];

function onPath(cmd: string): boolean {
  return spawnSync('sh', ['-c', 'command -v "$1"', 'sh', cmd], { encoding: 'utf8' }).stdout.trim() !== '';
}

/** A python3 that imports `module`; pyenv's shim first, then Debian's. */
export function pythonWith(module: string): string | null {
  for (const py of ['python3', '/usr/bin/python3']) {
    if (spawnSync(py, ['-c', `import ${module}`], { stdio: 'ignore' }).status === 0) return py;
  }
  return null;
}

/** Mount and unmount a 64 KiB tmpfs in a temp dir: what the full-disk tests do, tried once. */
function canMountTmpfs(): boolean {
  if (process.platform !== 'linux' || !onPath('mount')) return false;
  const dir = mkdtempSync(join(tmpdir(), 'procprobe-mnt-'));
  try {
    if (spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', dir], { stdio: 'ignore' }).status !== 0) return false;
    spawnSync('umount', [dir], { stdio: 'ignore' });
    return true;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export const READERS = {
  chromium: {
    what: "Debian's headless Chromium (renders the HTML report)",
    pkg: 'chromium',
    available: () => existsSync(CHROMIUM),
  },
  prometheus_client: {
    what: "prometheus_client's reference Prometheus/OpenMetrics text parsers",
    pkg: 'python3-prometheus-client',
    available: () => pythonWith('prometheus_client') !== null,
  },
  python3: {
    what: 'python3 (children with exact thread counts, RSS spikes, a leader thread that exits)',
    pkg: 'python3',
    available: () => pythonWith('sys') !== null,
  },
  ps: {
    what: 'ps (RSS and thread counts read by procps)',
    pkg: 'procps',
    available: () => onPath('ps'),
  },
  time: {
    what: "GNU time (/usr/bin/time: its child's wait4 rusage, a second reader of the same numbers)",
    pkg: 'time',
    available: () => existsSync('/usr/bin/time'),
  },
  addon: {
    what: 'the native addon, compiled by npm install (node-gyp needs a C++ toolchain)',
    pkg: 'g++ make python3',
    available: () => ADDON_FILES.some((f) => existsSync(f)),
  },
  tmpfs: {
    what: 'a small tmpfs mounted by the test (a file system that really fills: ENOSPC from the kernel)',
    pkg: 'mount',
    how: 'run as root where mount(2) is allowed (CI runs as root)',
    available: canMountTmpfs,
  },
  pidns: {
    what: 'unshare -p (a process in a pid namespace of its own, as in a container: the proc connector ignores it)',
    pkg: 'util-linux',
    how: 'run as root with util-linux installed (CI runs as root)',
    available: () => onPath('unshare') && spawnSync('unshare', ['-p', '-f', 'true'], { stdio: 'ignore' }).status === 0,
  },
  hyperfine: {
    what: "hyperfine (its own --export-json: the field names procprobe's hyperfine export must have)",
    pkg: 'hyperfine',
    available: () => onPath('hyperfine'),
  },
  compiler: {
    what: "a C++ toolchain for node-gyp (makes the package's prebuilt addon at npm pack)",
    pkg: 'g++ make python3',
    available: () => onPath('g++') && onPath('make') && pythonWith('sys') !== null,
  },
} as const satisfies Record<string, Reader>;

export type ReaderName = keyof typeof READERS;

const known = new Map<ReaderName, boolean>();
/** Whether this machine has the reader (asked once per test file). */
export function has(name: ReaderName): boolean {
  let ok = known.get(name);
  if (ok === undefined) known.set(name, (ok = READERS[name].available()));
  return ok;
}

/** CI as .ci/run and most CI services set it. */
export function inCI(): boolean {
  const v = process.env.CI;
  return v !== undefined && v !== '' && v !== '0' && v.toLowerCase() !== 'false';
}

/** The skip note; skip-reporter.ts groups by it, so its first words are stable. */
export function missingNote(name: ReaderName): string {
  const r = READERS[name];
  return `missing ${name}: ${'how' in r ? r.how : `apt-get install ${r.pkg}`} (${r.what})`;
}

/**
 * Call first in a test that needs `name`: returns when it is there, otherwise skips the test
 * with a note, or fails it when CI=true.
 */
export function need(ctx: TestContext, name: ReaderName): void {
  if (has(name)) return;
  if (inCI()) throw new Error(`CI=true requires every independent reader: ${missingNote(name)}`);
  ctx.skip(missingNote(name));
}

/**
 * A describe block that needs `name` as a whole (its beforeAll uses it): without it the block is
 * replaced by one test that skips with the note (or fails with CI=true).
 */
export function describeWith(name: ReaderName, title: string, body: () => void): void {
  if (has(name)) describe(title, body);
  else describe(title, () => it(`needs ${name}`, (ctx) => need(ctx, name)));
}

/** In a describe block run once per backend: the 'native' runs need the addon. */
export function requireAddonFor(backend: string): void {
  beforeEach((ctx) => {
    if (backend === 'native') need(ctx, 'addon');
  });
}
