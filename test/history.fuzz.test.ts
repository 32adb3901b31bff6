/**
 * Seeded fuzz of the history loader: three real sessions (PerformanceMonitor, with samples,
 * timings, a failed timing, an error, metadata) and a fourth whose host was killed with SIGKILL
 * mid-session (test/fixtures/session-crash.mjs: no end record, recovered as incomplete and
 * indexed), then hundreds of truncations, bit flips, zero-fills and overwrites (random bytes, or
 * a range copied from another real file) of their session files and index entries, one at a
 * time, each undone before the next. Every kind of mutation reaches both kinds of file and every
 * session, and the run counts them to prove it.
 *
 * The oracle is what the fixture knows: which file it mutated (so which sessions are untouched)
 * and what every session loaded as before. After each mutation every consumer runs on what
 * loads (stats, every export format, the HTML report, `show`'s table, sparklines and JSON) and
 * none may throw; the untouched sessions load exactly as before; every warning names the
 * mutated session; a damaged index entry of an intact session file is rebuilt to the summary it
 * had. The sessions are new each run, so the seed alone does not replay a failure: its message
 * names the seed, the mutation, and a copy of the mutated file it leaves in the temp dir.
 * PROCPROBE_FUZZ_SEED and PROCPROBE_FUZZ_MUTATIONS change the run (e.g. a long one locally).
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { crc32 } from 'node:zlib';
import { Packr, Unpackr } from 'msgpackr';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { HistoryStore, PerformanceMonitor, renderHtmlReport, type LoadedSession, type SessionSummary } from '../dist/index.js';
import { consumeSession as consume } from './helpers/consumers.js';
import { mulberry32 } from './helpers/prng.mjs';
import { burnCpu, waitForSamples } from './helpers/session-helpers.js';
import { removeTempDirs, tempDir } from './helpers/temp-dirs.js';
import { FIXTURES, killChildren, sleep, spawnReady } from './helpers/readers.js';

const SEED = Number(process.env.PROCPROBE_FUZZ_SEED ?? 0x17f022);
const MUTATIONS = Number(process.env.PROCPROBE_FUZZ_MUTATIONS ?? 500);
const SESSIONS = 3;
const KINDS = ['truncate', 'flip', 'zero', 'random', 'copy'] as const;

let store: HistoryStore;
let ids: string[] = [];
const before = new Map<string, { summary: SessionSummary; count: number }>();

beforeAll(async () => {
  const dataDir = tempDir('procprobe-fuzz-');
  store = new HistoryStore(dataDir);
  const pm = new PerformanceMonitor({ dataDir, nodeBootstrap: false, flushIntervalMs: 15 });
  for (let i = 0; i < SESSIONS; i++) {
    ids.push(pm.startSession({ label: 'fuzz', i, nested: { list: [1, 2.5, 'three'], ok: true } }));
    await waitForSamples(pm);
    await pm.timeOperation('load', () => burnCpu(2000));
    await pm.timeOperation('connect', () => sleep(40));
    const t = pm.startTiming('warmup');
    pm.finishTiming(t, false, 'cache cold');
    pm.recordError('port 8080 busy', 'listen');
    await pm.finishSession(i !== 1);
  }
  await pm.close();
  // The crashed host's session: its first load recovers it as incomplete and writes its index entry.
  const host = await spawnReady(process.execPath, [join(FIXTURES, 'session-crash.mjs'), dataDir]);
  await sleep(400); // past its 250 ms flush: samples and finished timings are on disk
  const killed = new Promise((resolve) => host.once('exit', resolve));
  host.kill('SIGKILL');
  await killed;
  const crashed = (await store.loadSummaries(-Infinity)).value.filter((s) => !ids.includes(s.id));
  expect(crashed.map((s) => s.incomplete)).toEqual([true]);
  ids.push(crashed[0]!.id);
  for (const id of ids) {
    const s = (await store.loadSession(id)).value!;
    before.set(id, { summary: s.summary, count: s.samples.count });
  }
});

afterAll(async () => {
  await killChildren();
  removeTempDirs();
});

interface Mutation {
  id: string;
  path: string;
  index: boolean;
  kind: (typeof KINDS)[number];
  what: string;
  bytes: Buffer;
}

/** Draw one mutation of one session's file or index entry (the file's original bytes untouched). */
function drawMutation(rnd: () => number, originals: Map<string, Buffer>): Mutation {
  const int = (n: number): number => Math.floor(rnd() * n);
  const id = ids[int(ids.length)]!;
  const index = rnd() < 0.3;
  const path = index ? store.indexPath(id) : store.sessionPath(id);
  const bytes = Buffer.from(originals.get(path)!);
  const at = int(bytes.length);
  const len = 1 + int(Math.min(64, bytes.length - at));
  const kind = KINDS[int(KINDS.length)]!;
  const m = { id, path, index, kind };
  if (kind === 'truncate') return { ...m, what: `truncate to ${at}`, bytes: bytes.subarray(0, at) };
  if (kind === 'flip') {
    const flips = Array.from({ length: 1 + int(4) }, () => [int(bytes.length), int(8)] as const);
    for (const [i, bit] of flips) bytes[i]! ^= 1 << bit;
    return { ...m, what: `flip bits ${flips.map(([i, b]) => `${i}.${b}`).join(' ')}`, bytes };
  }
  if (kind === 'zero') return { ...m, what: `zero ${len} bytes at ${at}`, bytes: bytes.fill(0, at, at + len) };
  if (kind === 'random') {
    for (let i = at; i < at + len; i++) bytes[i] = int(256);
    return { ...m, what: `${len} random bytes at ${at}`, bytes };
  }
  // A range of another real file: well-formed msgpack in the wrong place (another session's records).
  const donorPath = [...originals.keys()][int(originals.size)]!;
  const donor = originals.get(donorPath)!;
  const from = int(donor.length);
  const n = donor.copy(bytes, at, from, from + len);
  return { ...m, what: `${n} bytes of ${donorPath} from ${from} copied to ${at}`, bytes };
}

describe('user metadata of any msgpack type', () => {
  // Found by this fuzz (a bit flip made a metadata number a uint64): msgpack's 64-bit integers
  // load as bigints, which JSON.stringify refuses; `show --json` and the report threw.
  // startSession refuses a bigint now, so the file is rewritten here: a real session's records
  // with the metadata swapped, each packed again and followed by its CRC (format.ts's framing).
  it('a bigint in the metadata reaches every consumer without a throw', async () => {
    const dataDir = tempDir('procprobe-fuzz-');
    const pm = new PerformanceMonitor({ dataDir, nodeBootstrap: false });
    const id = pm.startSession({ label: 'big' });
    await pm.finishSession();
    await pm.close();
    const path = join(dataDir, 'sessions', `${id}.pps`);
    const metadata = { big: 2n ** 60n, label: 'big' };
    const records = (new Unpackr({ sequential: true }).unpackMultiple(readFileSync(path)) as unknown[]).filter((v) => typeof v === 'object');
    const packr = new Packr({ sequential: true });
    const framed = records.map((r: any) => {
      const b = Buffer.from(packr.pack(r.t === 'H' ? { ...r, metadata } : r.t === 'Z' ? { ...r, summary: { ...r.summary, metadata } } : r));
      const sum = Buffer.alloc(5, 0xce);
      sum.writeUInt32BE(crc32(b), 1);
      return Buffer.concat([b, sum]);
    });
    writeFileSync(path, Buffer.concat(framed));
    rmSync(join(dataDir, 'index', `${id}.ppi`));
    const history = new HistoryStore(dataDir);
    const s = (await history.loadSession(id)).value!;
    expect(s.summary.metadata.big).toBe(2n ** 60n);
    const summaries = (await history.loadSummaries()).value;
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      expect(() => consume(s, summaries)).not.toThrow();
      expect(String(out.mock.calls.at(-1)?.[0])).toContain(`"big": "${2n ** 60n}"`);
    } finally {
      out.mockRestore();
    }
    expect(renderHtmlReport(s)).toContain(String(2n ** 60n));
  });
});

describe(`history fuzz (seed ${SEED})`, () => {
  it(`${MUTATIONS} mutations of real session files and index entries: no consumer throws, no untouched session lost`, async () => {
    const originals = new Map<string, Buffer>();
    for (const id of ids) for (const p of [store.sessionPath(id), store.indexPath(id)]) originals.set(p, readFileSync(p));
    const rnd = mulberry32(SEED);
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const tally: Tally = { detected: 0, files: 0, kept: 0, lost: 0, entries: 0, rebuilt: 0 };
    const drawn = new Map<string, number>();
    const count = (key: string): void => void drawn.set(key, (drawn.get(key) ?? 0) + 1);
    try {
      for (let i = 0; i < MUTATIONS; i++) {
        const m = drawMutation(rnd, originals);
        count(`${m.kind} of ${m.index ? 'index entries' : 'session files'}`);
        count(m.id);
        const context = `seed ${SEED}, mutation ${i}: ${m.what} of ${m.path}`;
        writeFileSync(m.path, m.bytes);
        try {
          await checkOne(m, context, tally);
        } catch (err) {
          const copy = join(tmpdir(), `procprobe-fuzz-${SEED}-${i}-${basename(m.path)}`);
          writeFileSync(copy, m.bytes);
          throw new Error(`${(err as Error).message}\nthe mutated file: ${copy}`, { cause: err });
        } finally {
          writeFileSync(m.path, originals.get(m.path)!);
          // The loader may have rebuilt the index entry: put back the original, byte for byte.
          writeFileSync(store.indexPath(m.id), originals.get(store.indexPath(m.id))!);
        }
      }
    } finally {
      out.mockRestore();
    }
    console.log(
      `[fuzz] seed ${SEED}: ${MUTATIONS} mutations, ${tally.detected} with a warning; ${tally.files} of session files ` +
        `(the session still loads after ${tally.kept}, skipped after ${tally.lost}), ${tally.entries} of index entries (${tally.rebuilt} rebuilt); ` +
        [...drawn].filter(([k]) => !ids.includes(k)).map(([k, n]) => `${n} ${k}`).join(', '),
    );
    expect(tally.detected).toBeGreaterThan(MUTATIONS / 2); // the mutations do damage
    // Every kind reached both kinds of file, and every session (the crashed one too), many times.
    for (const kind of KINDS) {
      for (const file of ['session files', 'index entries']) expect(drawn.get(`${kind} of ${file}`), `${kind} of ${file}`).toBeGreaterThanOrEqual(MUTATIONS / 50);
    }
    for (const id of ids) expect(drawn.get(id), id).toBeGreaterThanOrEqual(MUTATIONS / 10);
  }, 120_000);
});

type Tally = Record<'detected' | 'files' | 'kept' | 'lost' | 'entries' | 'rebuilt', number>;

async function checkOne(m: Mutation, context: string, tally: Tally): Promise<void> {
  // -Infinity: a flipped startTime must not hide a summary behind the since filter.
  const { value: summaries, warnings } = await store.loadSummaries(-Infinity);
  const byId = new Map(summaries.map((s) => [s.id, s]));
  for (const id of ids) if (id !== m.id) expect(byId.get(id), context).toEqual(before.get(id)!.summary);
  for (const w of warnings) expect(w, context).toContain(m.id);
  tally[m.index ? 'entries' : 'files']++;
  if (m.index) {
    expect(byId.has(m.id), `${context}: the session file is intact`).toBe(true);
    if (warnings.some((w) => w.includes(m.path))) {
      expect(byId.get(m.id), `${context}: rebuilt`).toEqual(before.get(m.id)!.summary);
      tally.rebuilt++;
    }
  }
  const loaded = new Map<string, LoadedSession | null>();
  const loadWarnings: string[] = [];
  for (const id of ids) {
    const r = await store.loadSession(id);
    loaded.set(id, r.value);
    loadWarnings.push(...r.warnings);
    if (id === m.id && !m.index) continue;
    expect(r.value?.summary, `${context}: ${id}`).toEqual(before.get(id)!.summary);
    expect(r.value?.samples.count, `${context}: ${id}`).toBe(before.get(id)!.count);
  }
  for (const w of loadWarnings) expect(w, context).toContain(m.id);
  if (warnings.length + loadWarnings.length > 0) tally.detected++;
  const mutated = loaded.get(m.id);
  if (!m.index) tally[mutated ? 'kept' : 'lost']++;
  if (mutated) {
    try {
      consume(mutated, summaries);
    } catch (err) {
      throw new Error(`${context}: ${(err as Error).stack}`);
    }
  }
}
