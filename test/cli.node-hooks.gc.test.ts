/**
 * The node hooks' GC pauses and event-loop utilisation (issue 14 item 3), against what the
 * fixture measured itself: the instants around its forced gc() call, and the time it kept the
 * loop busy in a timer (test/fixtures/node-hooks/gc-app.cjs).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { cleanup, runCli } from './helpers/cli.js';
import { HOOKS, hooked } from './helpers/node-hooks.js';

afterAll(cleanup);

describe('node hooks: GC and the event loop', () => {
  it('a forced major GC is reported inside the gc() call; the loop at exit counts at least the busy timer', async () => {
    const h = await hooked(['node', 'gc-app.cjs'], HOOKS, [], { NODE_OPTIONS: '--expose-gc' });
    const forced = h.oracle.other.find((l) => 'gcStart' in l)!;
    const busy = h.oracle.other.find((l) => 'busyLoopMs' in l)!;
    const pid = forced.pid;
    const majors = h.node.gc.filter((g) => g.pid === pid && g.kind === 'major' && g.startTime >= forced.gcStart - 0.5 && g.startTime <= forced.gcEnd);
    expect(majors.length, JSON.stringify(h.node.gc)).toBeGreaterThanOrEqual(1);
    for (const g of majors) {
      expect(g.durationMs).toBeGreaterThan(0);
      expect(g.startTime + g.durationMs).toBeLessThanOrEqual(forced.gcEnd + 0.5);
    }
    const atExit = h.node.loop.find((l) => l.pid === pid && l.at === 'exit')!;
    expect(atExit.activeMs).toBeGreaterThanOrEqual(busy.busyLoopMs - 1);
    expect(atExit.atMs).toBeLessThan(h.t1);
    // The terminal line, from the same session through history.
    const shown = await runCli(['show', h.run.sessionId, '--data-dir', JSON.parse(h.r.stdout).dataDir]);
    expect(shown.stdout).toMatch(/^GC: \d+ pauses?, [\d.]+ ms in all, longest [\d.]+ ms \((major|minor|incremental|weakcb|other)\)/m);
  }, 120_000);
});
