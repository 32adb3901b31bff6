/**
 * PSS on disk (history format version 3): a tree session's PSS readings are stored with its
 * samples, so a session loaded from its file has them. Oracles: the session file decoded here
 * (msgpackr's own unpackMultiple, helpers/session-helpers.ts rawRecords, with the delta coding
 * undone in this file), and the fixture's own reads of its tree's smaps_rollup
 * (fixtures/pss-fork.py with linger_ms).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { HistoryStore } from '../dist/index.js';
import { R } from '../dist/ring/layout.js';
import { cleanup, runCli } from './helpers/cli.js';
import { requireAddonFor } from './helpers/optional-readers.js';
import { rawRecords } from './helpers/session-helpers.js';
import { tempDir } from './helpers/temp-dirs.js';

afterAll(cleanup);

const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

/** A chunk's `p` with its delta coding undone: the first value as is, then each a difference (null: no reading). */
function undelta(p: (number | null)[]): number[] {
  let prev = NaN;
  return p.map((v) => {
    if (v === null) return NaN;
    prev = Number.isNaN(prev) ? v : prev + v;
    return prev;
  });
}

describe('history: PSS readings in the session file', () => {
  requireAddonFor('native');

  it('are written with the samples (format 3), read back by the loader as written, and are the PSS the tree read of itself', async () => {
    const dir = tempDir('procprobe-hist-');
    const data = join(dir, 'data');
    const out = join(dir, 'account.json');
    const r = await runCli(['run', '--json', '--data-dir', data, '--', PYTHON, 'test/fixtures/pss-fork.py', '50', '4', out, '1000']);
    expect(r.code, r.stderr).toBe(0);
    const told = JSON.parse(readFileSync(out, 'utf8')) as { pssMin: number; pssMax: number };
    const id = JSON.parse(r.stdout).runs[0].sessionId as string;
    const recs = rawRecords(join(data, 'sessions', `${id}.pps`));
    expect(recs[0]).toMatchObject({ t: 'H', v: 3 });
    const chunks = recs.filter((x) => x.t === 'S') as { n: number; p?: (number | null)[] }[];
    const onDisk = chunks.flatMap((c) => (c.p ? undelta(c.p) : new Array<number>(c.n).fill(NaN)));
    const readings = onDisk.filter((v) => !Number.isNaN(v));
    expect(readings.length, 'PSS readings on disk (every 250 ms over ~1 s)').toBeGreaterThanOrEqual(2);
    const peak = Math.max(...readings);
    // The readings while the five lived are the PSS the tree read of itself. Not every one: a
    // tree's sum is one reading per member over a few ticks, and one taken as the parent kills
    // its children adds the parent's grown share to the children's old ones (75.8 MB once, for
    // 61.8 MB told at load 3).
    const steady = readings.filter((v) => v >= told.pssMin * 0.97 && v <= told.pssMax * 1.05);
    expect(steady.length, JSON.stringify({ told, readings })).toBeGreaterThanOrEqual(Math.ceil(readings.length / 2));

    const loaded = (await new HistoryStore(data).loadSession(id)).value!;
    expect(loaded.samples.count).toBe(onDisk.length);
    const back = Array.from({ length: loaded.samples.count }, (_, i) => loaded.samples.records[i * loaded.samples.stride + R.PSS_BYTES]!);
    expect(back).toEqual(onDisk);
    expect(loaded.summary.resources?.pssPeakBytes).toBe(peak);
  }, 90_000);
});
