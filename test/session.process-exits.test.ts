/**
 * finishSession's `exits`: a library user who reaped a child of the tree itself tells its status,
 * and the session's `processes` entry carries it into history. Oracles: the child's exit as
 * Node's own child_process reports it (libuv's waitpid), and the index entry decoded here with
 * msgpackr (helpers/cli.ts readIndex).
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { afterAll, describe, expect, it } from 'vitest';
import { PerformanceMonitor } from '../dist/index.js';
import { readIndex } from './helpers/cli.js';
import { closeMonitors, tracked } from './helpers/session-helpers.js';
import { removeTempDirs, tempDir } from './helpers/temp-dirs.js';

afterAll(async () => {
  await closeMonitors();
  removeTempDirs();
});

describe('finishSession({ exits })', () => {
  it('the status of a child the caller reaped lands in its processes entry; a pid not in the tree is ignored', async () => {
    const dir = tempDir('procprobe-exits-');
    const pm = tracked(new PerformanceMonitor({ dataDir: dir, pid: process.pid, tree: true, excludeRoot: true, nodeBootstrap: false, resourceSamplingIntervalMs: 5 }));
    pm.startSession({ label: 'exits' });
    await pm.samplingReady();
    // Lives 400 ms: long enough for rescans (every 50 ms) on a loaded machine to adopt it.
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => process.exit(7), 400)'], { stdio: 'ignore' });
    pm.rescan();
    const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
    expect([code, signal]).toEqual([7, null]);
    const session = await pm.finishSession(true, { exits: [{ pid: child.pid!, exitCode: code, signal }, { pid: 0x7fffffff, exitCode: 1, signal: null }] });
    const [entry] = readIndex(dir);
    const listed = entry.processes.find((p: { pid: number }) => p.pid === child.pid);
    expect(listed, JSON.stringify(entry.processes)).toBeDefined();
    expect({ exitCode: listed.exitCode, signal: listed.signal }).toEqual({ exitCode: 7, signal: null });
    expect(entry.processes.some((p: { pid: number }) => p.pid === 0x7fffffff)).toBe(false);
    expect(session.processes!.list.find((p) => p.pid === child.pid)!.exitCode).toBe(7);
  }, 30_000);
});
