/**
 * The node-hooks suites' runner (test/cli.node-hooks*.test.ts): `procprobe run --json` over a
 * fixture app in test/fixtures/node-hooks, with its own TMPDIR (checked empty after: nothing left
 * behind) and the oracle file the fixtures write their own measurements to (oracle.cjs).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { newDataDir, runCli, type CliResult } from './cli.js';
import { FIXTURES } from './readers.js';
import { tempDir } from './temp-dirs.js';
import type { NodeModule, NodeProfile } from '../../src/node-hooks/types.js';

export const HOOKS = join(FIXTURES, 'node-hooks');
export const ESM = join(HOOKS, 'esm-app');
export const CJS = join(HOOKS, 'cjs-app');

export interface Oracle {
  busy: { pid: number; file: string; ms: number }[];
  entries: { pid: number; ppid: number; what: string; timeOrigin: number; at: number; threads: number }[];
  /** Anything else a fixture recorded (gc-app.cjs: its gc() call). */
  other: Record<string, any>[];
}

export interface Hooked {
  r: CliResult;
  run: any;
  node: NodeProfile;
  oracle: Oracle;
  /** The test's clock around procprobe's life: every child instant lies inside. */
  t0: number;
  t1: number;
}

/** `procprobe run --json … -- cmd` in `cwd`, with its own TMPDIR (checked empty after) and oracle file. */
export async function hooked(cmd: string[], cwd: string, flags: string[] = [], env: Record<string, string> = {}): Promise<Hooked> {
  const dir = tempDir('procprobe-nodehooks-');
  const tmp = join(dir, 'tmp');
  mkdirSync(tmp);
  const oracleFile = join(dir, 'oracle.jsonl');
  const t0 = performance.timeOrigin + performance.now();
  const r = await runCli(['run', '--json', '--data-dir', newDataDir(), '--cwd', cwd, ...flags, '--', ...cmd], { env: { TMPDIR: tmp, ORACLE_FILE: oracleFile, ...env } });
  const t1 = performance.timeOrigin + performance.now();
  expect(r.code, r.stderr).toBe(0);
  // Nothing left behind: the channel's directory and FIFO are gone.
  expect(readdirSync(tmp)).toEqual([]);
  const lines = existsSync(oracleFile) ? readFileSync(oracleFile, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l)) : [];
  const run = JSON.parse(r.stdout).runs[0];
  const oracle = { busy: lines.filter((l) => 'ms' in l), entries: lines.filter((l) => 'what' in l), other: lines.filter((l) => !('ms' in l) && !('what' in l)) };
  return { r, run, node: run.node, oracle, t0, t1 };
}

export function moduleAt(node: NodeProfile, path: string): NodeModule {
  const m = node.modules.find((x) => x.path === path);
  if (!m) throw new Error(`no module ${path} in ${node.modules.map((x) => x.path).join(', ')}`);
  return m;
}

/** The threads the entry had when its body ran, started without procprobe (the kernel's /proc/self/task). */
export function threadsWithoutHooks(cwd: string, file: string): number {
  const oracleFile = join(tempDir('procprobe-nodehooks-'), 'oracle.jsonl');
  const r = spawnSync(process.execPath, [file], { cwd, env: { ...process.env, NODE_OPTIONS: '', ORACLE_FILE: oracleFile } });
  expect(r.status, r.stderr.toString()).toBe(0);
  return readFileSync(oracleFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l)).find((l) => l.what === 'main').threads;
}

