/**
 * A node child holding 1,000 extra open fds: openFds against a listing of /proc/PID/fd read here,
 * and every other field against ps and the kernel's files.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createProbe, type Probe } from '../dist/index.js';
import { expectMatchesKernel, fdCount, FIXTURES, kernelView, killChildren, quietRead, spawnReady } from './helpers/readers.js';
import { need, requireAddonFor } from './helpers/optional-readers.js';

describe.each(['native', 'builtin'] as const)('a child holding 1,000 open fds (%s)', (backend) => {
  requireAddonFor(backend);
  let probe: Probe | undefined;
  afterEach(async () => {
    probe?.close();
    probe = undefined;
    await killChildren();
  });

  it('counts its fds like /proc/PID/fd (>= 1000) and matches ps and /proc', async (ctx) => {
    need(ctx, 'ps');
    const child = await spawnReady(process.execPath, [join(FIXTURES, 'open-fds.mjs'), '1000']);
    const pid = child.pid;
    probe = createProbe({ pid, backend });
    const p = probe;
    const { before: k, probed: s } = await quietRead(() => kernelView(pid), () => p.sampleSync());
    expect(k.fds).toBeGreaterThanOrEqual(1000);
    expect(s.openFds).toBeGreaterThanOrEqual(1000);
    expect(s.openFds).toBe(fdCount(pid));
    expectMatchesKernel(s, k, pid, backend);
  });

  it('counts a small fd table exactly too', async () => {
    const child = await spawnReady(process.execPath, [join(FIXTURES, 'open-fds.mjs'), '10']);
    const pid = child.pid;
    probe = createProbe({ pid, backend });
    const p = probe;
    const small = await quietRead(() => fdCount(pid), () => p.sampleSync().openFds);
    expect(small.probed).toBe(small.before);
    expect(small.probed).toBeGreaterThanOrEqual(10);
    expect(small.probed).toBeLessThan(1000);
  });
});
