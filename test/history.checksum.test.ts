/**
 * Session file format version 2: every record is followed by the CRC-32 of its bytes, and index
 * entries by the CRC of the summary's. The checksums are verified here with a CRC-32 written in
 * this file (not zlib's, which procprobe uses), on record boundaries found with msgpackr's own
 * unpackMultiple.
 *
 * The oracle of the mutation tests is what the unmutated file loaded as: after each mutation the
 * session loads exactly as before, or the loader says something (a warning); a change without a
 * warning is counted as silent. The same mutations (same seed, same kinds) run on the version 1
 * rendering of the same session (its records re-packed here without checksums, as procprobe wrote
 * them before), so the two counts compare the formats. PROCPROBE_CHECKSUM_SEED replays a run.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { pack, Packr, Unpackr } from 'msgpackr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HistoryStore, PerformanceMonitor, type LoadedSession } from '../dist/index.js';
import { decodeRecords, parseSession } from '../dist/history/parse.js';
import { mulberry32 } from './helpers/prng.mjs';
import { sleep } from './helpers/readers.js';
import { burnCpu, craftedId, waitForSamples } from './helpers/session-helpers.js';
import { removeTempDirs, tempDir } from './helpers/temp-dirs.js';

const SEED = Number(process.env.PROCPROBE_CHECKSUM_SEED ?? 0x5eed18);
const MUTATIONS = 300;

/** CRC-32 (reflected, polynomial 0xEDB88320), table-driven: the checksum zlib and gzip compute. */
const TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** Every value of a msgpack stream with its byte range (msgpackr decoding here). */
function values(bytes: Uint8Array, sequential = true): { value: any; start: number; end: number }[] {
  const out: { value: any; start: number; end: number }[] = [];
  new Unpackr(sequential ? { sequential: true } : { useRecords: false }).unpackMultiple(bytes, (value: unknown, start?: number, end?: number) => {
    out.push({ value, start: start!, end: end! });
  });
  return out;
}

/** Records as one writer packs them (one sequential Packr), each followed by its CRC when `checksums`. */
function sessionBytes(records: object[], checksums: boolean): { bytes: Buffer; offsets: number[] } {
  const packr = new Packr({ sequential: true });
  const parts: Buffer[] = [];
  const offsets: number[] = [];
  let at = 0;
  for (const r of records) {
    const b = Buffer.from(packr.pack(r));
    const crc = Buffer.from([0xce, 0, 0, 0, 0]);
    crc.writeUInt32BE(crc32(b), 1);
    offsets.push(at);
    parts.push(b, ...(checksums ? [crc] : []));
    at += b.length + (checksums ? 5 : 0);
  }
  return { bytes: Buffer.concat(parts), offsets };
}

let dataDir = '';
let store: HistoryStore;
const ids: string[] = [];
const original = new Map<string, LoadedSession>();
let v2: Buffer = Buffer.alloc(0);
let v1: Buffer = Buffer.alloc(0);

beforeAll(async () => {
  dataDir = tempDir('procprobe-checksum-');
  store = new HistoryStore(dataDir);
  const pm = new PerformanceMonitor({ dataDir, nodeBootstrap: false, flushIntervalMs: 15 });
  for (let i = 0; i < 2; i++) {
    ids.push(pm.startSession({ label: 'checksum', i, nested: { list: [1, 2.5, 'three'] } }));
    await waitForSamples(pm);
    await pm.timeOperation('load', () => burnCpu(2000));
    const t = pm.startTiming('warmup');
    pm.finishTiming(t, false, 'cache cold');
    pm.recordError('port 8080 busy', 'listen');
    await pm.timeOperation('connect', () => sleep(10));
    await pm.finishSession(i === 0);
  }
  await pm.close();
  for (const id of ids) original.set(id, (await store.loadSession(id)).value!);
  v2 = readFileSync(store.sessionPath(ids[0]!));
  // The same session as version 1 wrote it: the records alone, the header saying v: 1.
  const records = values(v2).filter((_, i) => i % 2 === 0).map((x) => x.value);
  v1 = sessionBytes([{ ...records[0], v: 1 }, ...records.slice(1)], false).bytes;
});

afterAll(() => removeTempDirs());

/** What a consumer would see changed: 'summary' (or the in-progress state), 'samples', or null. */
function changed(a: LoadedSession | null, b: LoadedSession): 'summary' | 'samples' | null {
  if (!a || !isDeepStrictEqual(a.summary, b.summary) || a.inProgress !== b.inProgress) return 'summary';
  const bytesOf = (s: LoadedSession) => Buffer.from(s.samples.records.buffer, s.samples.records.byteOffset, s.samples.records.byteLength);
  const sameSamples = a.samples.count === b.samples.count && isDeepStrictEqual(a.samples.gaugeNames, b.samples.gaugeNames) && bytesOf(a).equals(bytesOf(b));
  return sameSamples ? null : 'samples';
}

/** Silent changes of one kind or the other, counted. */
interface Silent {
  summary: string[];
  samples: string[];
}
const tell = (s: Silent): string => `${s.summary.length} changed the summary silently, ${s.samples.length} more only the samples`;

describe('format version 2 and later (checksums) on disk', () => {
  it('a real session: record, CRC of its bytes, record, CRC...; the index entry is the summary and its CRC; both load as written', async () => {
    const all = values(v2);
    expect(all.length % 2).toBe(0);
    expect(all[0]!.value).toMatchObject({ t: 'H', format: 'procprobe-session', v: 3, id: ids[0] });
    for (let i = 0; i < all.length; i += 2) {
      expect(all[i + 1]!.value, `checksum of the record at byte ${all[i]!.start}`).toBe(crc32(v2.subarray(all[i]!.start, all[i]!.end)));
      expect(all[i + 1]!.end - all[i + 1]!.start).toBe(5); // always the uint32 form
    }
    const records = all.filter((_, i) => i % 2 === 0).map((x) => x.value);
    expect(records.map((r) => r.t)).toEqual(expect.arrayContaining(['H', 'S', 'T', 'E', 'Z']));
    const end = records.at(-1);
    const { value, warnings } = await store.loadSession(ids[0]!);
    expect(warnings).toEqual([]);
    expect(value!.summary).toEqual(end.summary);
    expect(value!.summary.phases.map((p) => p.name)).toEqual(['load', 'warmup', 'connect']);
    expect(value!.samples.count).toBe(records.filter((r) => r.t === 'S').reduce((a, r) => a + r.n, 0));

    const entryBytes = readFileSync(store.indexPath(ids[0]!));
    const entry = values(entryBytes, false);
    expect(entry).toHaveLength(2);
    expect(entry[1]!.value).toBe(crc32(entryBytes.subarray(0, entry[0]!.end)));
    expect(entry[0]!.value).toEqual(end.summary);
    const listed = await store.loadSummaries();
    expect(listed.warnings).toEqual([]);
    expect(listed.value.map((s) => s.id)).toEqual(ids);
  });

  it('a version 1 file (no checksums) still loads: the same session, and one built record by record', async () => {
    const path = store.sessionPath(ids[0]!);
    try {
      writeFileSync(path, v1);
      const { value, warnings } = await store.loadSession(ids[0]!);
      expect(warnings).toEqual([]);
      expect(changed(value, original.get(ids[0]!)!)).toBeNull();
    } finally {
      writeFileSync(path, v2);
    }
    // By hand: a header, a timing, an error, no end record (what a crash left).
    const d = new HistoryStore(tempDir('procprobe-hist-'));
    d.ensure();
    const startTime = Date.UTC(2025, 5, 6, 7, 8, 9);
    const id = craftedId(startTime, 1);
    const header = {
      t: 'H', format: 'procprobe-session', v: 1, id, startTime, metadata: { label: 'old' }, pid: 1, processStartTime: startTime - 1000,
      tree: false, intervalMs: 1, writerPid: 1, writerStartTime: startTime - 1000, memTotalBytes: 1 << 30, hostname: 'old',
    };
    const timing = { t: 'T', id: 't1', name: 'load', startOffsetMs: 2, durationMs: 30, success: false, errorMessage: 'late' };
    const error = { t: 'E', timestamp: startTime + 40, message: 'port busy', operation: 'listen' };
    writeFileSync(d.sessionPath(id), sessionBytes([header, timing, error], false).bytes);
    const old = await d.loadSession(id);
    expect(old.warnings).toEqual([]);
    expect(old.value!.summary).toMatchObject({ id, incomplete: true, metadata: { label: 'old' } });
    expect(old.value!.summary.phases).toEqual([{ name: 'load', startOffsetMs: 2, durationMs: 30, success: false, errorMessage: 'late' }]);
    expect(old.value!.summary.errors).toEqual([{ timestamp: startTime + 40, message: 'port busy', operation: 'listen' }]);
    // An old index entry (the summary alone, no checksum) is read as it is.
    writeFileSync(d.indexPath(id), pack(old.value!.summary));
    expect(await d.loadSummaries()).toEqual({ value: [old.value!.summary], warnings: [] });
  });

  it('a future format version (4, 999, "1", 2.5) is skipped with a warning naming it; the other sessions list', async () => {
    const d = tempDir('procprobe-hist-');
    const s = new HistoryStore(d);
    s.ensure();
    for (const id of ids) writeFileSync(s.sessionPath(id), readFileSync(store.sessionPath(id)));
    const header = values(v2)[0]!.value;
    const future = [4, 999, '1', 2.5].map((v, i) => {
      const id = craftedId(Date.UTC(2030, 0, 1 + i), i + 1);
      writeFileSync(s.sessionPath(id), sessionBytes([{ ...header, id, v }], true).bytes);
      return { id, v };
    });
    const { value, warnings } = await s.loadSummaries();
    expect(value.map((x) => x.id)).toEqual(ids);
    expect(value).toEqual(ids.map((id) => original.get(id)!.summary));
    expect(warnings).toEqual(future.map(({ id, v }) => `skipped ${s.sessionPath(id)}: format version ${JSON.stringify(v)} is not one this procprobe reads (1, 2, 3)`));
  });
});

type Mutate = (rnd: () => number, b: Buffer) => { what: string; bytes: Buffer };
const int = (rnd: () => number, n: number): number => Math.floor(rnd() * n);
const KINDS: Mutate[] = [
  (rnd, b) => {
    const out = Buffer.from(b);
    const flips = Array.from({ length: 1 + int(rnd, 3) }, () => [int(rnd, b.length), int(rnd, 8)] as const);
    for (const [i, bit] of flips) out[i]! ^= 1 << bit;
    return { what: `flip bits ${flips.map(([i, k]) => `${i}.${k}`).join(' ')}`, bytes: out };
  },
  (rnd, b) => {
    const out = Buffer.from(b);
    const at = int(rnd, b.length);
    const n = 1 + int(rnd, 8);
    for (let i = at; i < Math.min(b.length, at + n); i++) out[i] = int(rnd, 256);
    return { what: `${n} random bytes at ${at}`, bytes: out };
  },
  (rnd, b) => {
    const at = int(rnd, b.length);
    return { what: `truncate to ${at}`, bytes: b.subarray(0, at) };
  },
  (rnd, b) => {
    const from = int(rnd, b.length);
    const span = b.subarray(from, from + 1 + int(rnd, 48));
    const to = int(rnd, b.length + 1);
    return { what: `${span.length} bytes from ${from} duplicated at ${to}`, bytes: Buffer.concat([b.subarray(0, to), span, b.subarray(to)]) };
  },
  (rnd, b) => {
    const at = int(rnd, b.length);
    const n = 1 + int(rnd, 48);
    return { what: `${n} bytes deleted at ${at}`, bytes: Buffer.concat([b.subarray(0, at), b.subarray(at + n)]) };
  },
];

/** MUTATIONS seeded mutations of `file` as session ids[0]; returns the silent ones. */
async function mutateSession(file: Buffer, label: string): Promise<Silent> {
  const rnd = mulberry32(SEED);
  const path = store.sessionPath(ids[0]!);
  const silent: Silent = { summary: [], samples: [] };
  let warned = 0;
  try {
    for (let i = 0; i < MUTATIONS; i++) {
      const m = KINDS[int(rnd, KINDS.length)]!(rnd, file);
      writeFileSync(path, m.bytes);
      const { value, warnings } = await store.loadSession(ids[0]!);
      const what = changed(value, original.get(ids[0]!)!);
      if (warnings.length > 0) warned++;
      // A cut that lands exactly between two records leaves whole records and no end: what a
      // writer still at work (this process) or a kill -9 leaves, and the loader says so (in
      // progress / incomplete) instead of passing it off as the finished session. Whether a
      // seeded cut lands there depends on the real session's record sizes, which vary by run.
      else if (what && !(value && (value.inProgress || value.summary.incomplete))) silent[what].push(`mutation ${i}: ${m.what}`);
    }
  } finally {
    writeFileSync(path, v2);
  }
  console.log(`[checksum] seed ${SEED}, ${label}: ${MUTATIONS} mutations of a ${file.length}-byte file, ${warned} with a warning, ${tell(silent)}`);
  return silent;
}

describe(`mutations (seed ${SEED})`, () => {
  it(`${MUTATIONS} seeded mutations of a real session file: each loads as before or warns (version 1 for comparison)`, async () => {
    await mutateSession(v1, 'version 1'); // measured, printed
    const after = await mutateSession(v2, 'version 2');
    expect([...after.summary, ...after.samples], 'silent changes of the version 2 file').toEqual([]);
  }, 120_000);

  it('every single-bit flip of the file: loads as before or warns', () => {
    const path = store.sessionPath(ids[0]!);
    const sweep = (file: Buffer, label: string): Silent => {
      const silent: Silent = { summary: [], samples: [] };
      const b = Buffer.from(file);
      for (let i = 0; i < b.length; i++) {
        for (let bit = 0; bit < 8; bit++) {
          b[i]! ^= 1 << bit;
          // The store's path without its I/O: the same decoding of the same bytes.
          const { records, warnings } = decodeRecords(b, path);
          const what = changed(records ? parseSession(records, warnings, path, false) : null, original.get(ids[0]!)!);
          if (warnings.length === 0 && what) silent[what].push(`bit ${bit} of byte ${i}`);
          b[i]! ^= 1 << bit;
        }
      }
      console.log(`[checksum] ${label}: all ${b.length * 8} single-bit flips, ${tell(silent)}`);
      return silent;
    };
    sweep(v1, 'version 1');
    const after = sweep(v2, 'version 2');
    expect([...after.summary, ...after.samples]).toEqual([]);
  }, 120_000);

  it(`${MUTATIONS} seeded mutations of an index entry: the summary as before, or a warning (an old entry without its CRC for comparison)`, async () => {
    const path = store.indexPath(ids[0]!);
    const entry = readFileSync(path);
    const old = Buffer.from(pack(original.get(ids[0]!)!.summary));
    const run = async (file: Buffer, label: string): Promise<string[]> => {
      const rnd = mulberry32(SEED);
      const silent: string[] = [];
      try {
        for (let i = 0; i < MUTATIONS; i++) {
          const m = KINDS[int(rnd, KINDS.length)]!(rnd, file);
          writeFileSync(path, m.bytes);
          const { value, warnings } = await store.loadSummaries();
          if (warnings.length === 0 && !isDeepStrictEqual(value, ids.map((id) => original.get(id)!.summary))) silent.push(`mutation ${i}: ${m.what}`);
        }
      } finally {
        writeFileSync(path, entry);
      }
      console.log(`[checksum] seed ${SEED}, ${label}: ${MUTATIONS} mutations of a ${file.length}-byte index entry, ${silent.length} changed a summary silently`);
      return silent;
    };
    await run(old, 'index entry without a checksum');
    expect(await run(entry, 'index entry with its checksum')).toEqual([]);
  }, 120_000);
});
