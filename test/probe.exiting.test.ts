/**
 * A process being torn down is not its own end state: while the kernel unmaps its memory and
 * closes its files (PF_EXITING set in /proc/PID/stat's flags), the probe reads its levels (RSS,
 * VMS, fds, threads) as the end of teardown, 0, not the falling values. Oracle: the fixture prints its own RSS (its
 * statm) and exits at once; it touched 512 MiB, which takes the kernel milliseconds to free.
 */
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { createProbe, ProbeStatus } from '../dist/index.js';
import { F, FIELD_COUNT } from '../dist/probe/layout.js';
import { requireAddonFor } from './helpers/optional-readers.js';

describe('a process in its teardown', () => {
  requireAddonFor('native');
  it('512 MiB freed at exit: no live reading between its RSS and 0, the teardown reads 0 at once', async () => {
    let torn = 0;
    for (let trial = 0; trial < 3; trial++) {
      const child = spawn(process.execPath, ['test/fixtures/big-then-exit.mjs', '512'], { stdio: ['ignore', 'pipe', 'inherit'] });
      let said = '';
      child.stdout.on('data', (d) => (said += d));
      const probe = createProbe({ pid: child.pid!, backend: 'native' });
      const row = new Float64Array(FIELD_COUNT);
      const rows: { st: number; rss: number; fds: number }[] = [];
      // Read as fast as possible from the moment it has said its RSS until it is gone.
      while (!said.includes('\n')) await new Promise((r) => setImmediate(r));
      const told = JSON.parse(said) as { rssBytes: number };
      for (;;) {
        const st = probe.sampleInto(row, 0);
        rows.push({ st, rss: row[F.rssBytes]!, fds: row[F.openFds]! });
        if (st !== ProbeStatus.OK) break;
      }
      probe.close();
      await new Promise((r) => child.once('exit', r));
      const live = rows.filter((r) => r.st === ProbeStatus.OK && r.rss > 0);
      const teardown = rows.filter((r) => r.st === ProbeStatus.OK && r.rss === 0);
      torn += teardown.length;
      // Every live reading is the process as it was, not on its way to 0.
      for (const r of live) expect(r.rss, JSON.stringify({ told: told.rssBytes, r })).toBeGreaterThan(told.rssBytes * 0.9);
      for (const r of teardown) expect(r.fds).toBe(0);
    }
    // Over three exits the probe caught teardown readings at least once (512 MiB takes ms to free).
    expect(torn).toBeGreaterThan(0);
  }, 30_000);
});
