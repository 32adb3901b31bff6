/**
 * A one-shot command that runs short children one after another: the tree's CPU must include
 * every child, even those that lived far less than a sampling interval. Oracle: the command itself
 * (Python) reads getrusage(RUSAGE_SELF) and getrusage(RUSAGE_CHILDREN) at its end, the kernel's
 * own accounting of it and every child it waited for.
 */
import { existsSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanup, runCli } from './helpers/cli.js';
import { requireAddonFor } from './helpers/optional-readers.js';
import { tempDir } from './helpers/temp-dirs.js';

afterAll(cleanup);

// Debian's python3 is on every machine this project runs on (node-gyp needs it); a pyenv shim on
// PATH would add its own bash process per run, so the system one is named.
const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

describe('procprobe run: a tree of short-lived children', () => {
  requireAddonFor('native');

  it('40 children run one after another: process_startup CPU is the command\'s and its children\'s, to 3 % + 10 ms', async () => {
    const dir = tempDir('procprobe-cli-');
    const r = await runCli(['run', '--json', '--data-dir', dir, '--', PYTHON, 'test/fixtures/fork-serial.py', '40']);
    expect(r.code, r.stderr).toBe(0);
    const told = JSON.parse(/^\{"selfUs".*$/m.exec(r.stderr)![0]) as { selfUs: number; childrenUs: number; pids: number[] };
    expect(told.pids).toHaveLength(40);
    const p = JSON.parse(r.stdout).runs[0].phases.find((x: { name: string }) => x.name === 'process_startup');
    const theirsMs = (told.selfUs + told.childrenUs) / 1000;
    const line = `procprobe ${p.resources?.cpuMs} ms, the command says ${theirsMs} ms (children ${told.childrenUs / 1000})`;
    expect(p.resources, line).toBeDefined();
    // At least what the command had used when it printed; what is more is its exit after that.
    expect(p.resources.cpuMs, line).toBeGreaterThanOrEqual(theirsMs - 0.01);
    expect(p.resources.cpuMs, line).toBeLessThanOrEqual(theirsMs * 1.03 + 10);
  }, 60_000);
});
