/**
 * Records that are valid msgpack but of the wrong shape, one per failure the issue lists (a
 * phase name that is not a string broke `openmetrics`, an end record whose errors are not a list
 * broke `chrome-trace`, an index entry whose errors are not a list broke `stats`). The files are
 * crafted here record by record with msgpackr, so the test knows each record's byte offset and
 * which ones are bad: those are left out with a warning naming the file and offset, the good ones
 * kept, and every consumer runs on what loads.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import { pack, Packr } from 'msgpackr';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { HistoryStore } from '../dist/index.js';
import { STORED_COLUMNS } from '../dist/history/format.js';
import { consumeSession } from './helpers/consumers.js';
import { craftedId, craftedSessionBytes, craftedSummary } from './helpers/session-helpers.js';
import { removeTempDirs, tempDir } from './helpers/temp-dirs.js';

afterEach(() => removeTempDirs());

const startTime = Date.UTC(2026, 0, 2, 3, 4, 5);
const id = craftedId(startTime, 1);
const session = { id, startTime, durationMs: 50, success: true, phases: [{ name: 'load', startOffsetMs: 1, durationMs: 10, success: true }] };

/** The header record of the crafted session (fields as in format.ts), with `header` overriding. */
function headerRecord(header: Record<string, unknown>): object {
  return {
    t: 'H', format: 'procprobe-session', v: 1, id, startTime, metadata: { crafted: true }, pid: 1,
    processStartTime: startTime - 1000, tree: false, intervalMs: 1, writerPid: 1, writerStartTime: startTime - 1000,
    memTotalBytes: 1 << 30, hostname: 'crafted', ...header,
  };
}

/**
 * A session file of a header and these records; returns the byte offset of each record. A
 * version 2 header (`{ v: 2 }`) makes each record followed by its CRC-32, as format.ts frames them.
 */
function writeSession(store: HistoryStore, records: object[], header: Record<string, unknown> = {}, checksums = header.v === 2): number[] {
  store.ensure();
  // One Packr for the file, as the writer: sequential structures carry over from record to record.
  const packr = new Packr({ sequential: true });
  const parts: Buffer[] = [];
  const offsets: number[] = [];
  let at = 0;
  for (const r of [headerRecord(header), ...records]) {
    const b = Buffer.from(packr.pack(r));
    const sum = Buffer.from([0xce, 0, 0, 0, 0]);
    sum.writeUInt32BE(crc32(b), 1);
    offsets.push(at);
    parts.push(b, ...(checksums ? [sum] : []));
    at += b.length + (checksums ? sum.length : 0);
  }
  writeFileSync(store.sessionPath(id), Buffer.concat(parts));
  return offsets.slice(1);
}

/** A valid chunk of n samples: every stored column n numbers. */
const chunk = (n: number): object => ({ t: 'S', n, c: Array.from({ length: STORED_COLUMNS }, (_, k) => Array.from({ length: n }, (_, i) => k * 10 + i)) });
const phase = (name: unknown): object => ({ t: 'T', id: `t-${String(name)}`, name, startOffsetMs: 1, durationMs: 10, success: true });

async function consumeAll(store: HistoryStore): Promise<void> {
  const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  try {
    const summaries = (await store.loadSummaries()).value;
    consumeSession((await store.loadSession(id)).value!, summaries);
  } finally {
    out.mockRestore();
  }
}

describe('session records of the wrong shape', () => {
  it('a phase name that is a number, a chunk with short columns, an end record whose errors are a string: each left out at its offset, the rest kept', async () => {
    const store = new HistoryStore(tempDir('procprobe-hist-'));
    const good = { t: 'E', timestamp: startTime + 5, message: 'port busy', operation: 'listen' };
    const badEnd = { t: 'Z', summary: { ...craftedSummary(session), errors: 'none' } };
    const offsets = writeSession(store, [phase('load'), phase(42), chunk(3), { ...chunk(3), n: 5 }, good, badEnd]);
    const { value, warnings } = await store.loadSession(id);
    const path = store.sessionPath(id);
    expect(warnings).toEqual([
      expect.stringMatching(new RegExp(`record at byte ${offsets[1]} of ${path}: \\.name: 42, expected a string`)),
      expect.stringMatching(new RegExp(`record at byte ${offsets[3]} of ${path}: \\.c\\[0\\]: 3 items, expected 5`)),
      expect.stringMatching(new RegExp(`record at byte ${offsets[5]} of ${path}: \\.summary\\.errors: "none", expected an array`)),
    ]);
    expect(value!.summary.phases.map((p) => p.name)).toEqual(['load']);
    expect(value!.summary.errors).toEqual([{ timestamp: good.timestamp, message: good.message, operation: good.operation }]);
    expect(value!.summary.incomplete).toBe(true); // its end record was left out
    expect(value!.samples.count).toBe(3);
    await consumeAll(store);
  });

  it('process exit statuses: a code or a signal or null load, so does an entry saved before they were recorded; a code that is text is refused', async () => {
    const store = new HistoryStore(tempDir('procprobe-hist-'));
    const proc = { pid: 10, ppid: 1, command: 'sh -c x', startTime, adoptedAt: startTime + 1, endTime: startTime + 9, cpuMs: 1, peakRssBytes: 1 << 20, peakThreads: 1 };
    const processes = [
      { ...proc, exitCode: 3, signal: null },
      { ...proc, pid: 11, exitCode: null, signal: 'SIGKILL' },
      { ...proc, pid: 12, exitCode: null, signal: null },
      { ...proc, pid: 13 }, // saved before exit statuses were recorded
    ];
    writeSession(store, [{ t: 'Z', summary: { ...craftedSummary(session), processes, processesDropped: 0 } }], { v: 2 });
    const loaded = await store.loadSession(id);
    expect(loaded.warnings).toEqual([]);
    expect(loaded.value!.summary.processes).toEqual(processes);
    const offsets = writeSession(store, [{ t: 'Z', summary: { ...craftedSummary(session), processes: [{ ...proc, exitCode: '3', signal: null }] } }], { v: 2 });
    const bad = await store.loadSession(id);
    expect(bad.warnings).toEqual([expect.stringMatching(new RegExp(`record at byte ${offsets[0]} of .*: \\.summary\\.processes\\[0\\]\\.exitCode: "3", expected an exit code 0\\.\\.255 or null`))]);
    expect(bad.value!.summary.incomplete).toBe(true); // its end record was left out
  });

  it('many damaged records: three warnings with offsets, then one with the count', async () => {
    const store = new HistoryStore(tempDir('procprobe-hist-'));
    writeSession(store, Array.from({ length: 10 }, () => ({ t: 'E', timestamp: 'soon', message: 'x' })));
    const { value, warnings } = await store.loadSession(id);
    expect(warnings).toHaveLength(4);
    expect(warnings[3]).toBe(`skipped 7 more damaged records of ${store.sessionPath(id)}`);
    expect(value!.summary.errors).toEqual([]);
  });

  it('a header of an unknown format version, or damaged: the file is skipped, naming it', async () => {
    const store = new HistoryStore(tempDir('procprobe-hist-'));
    writeSession(store, [], { v: 4 });
    expect((await store.loadSession(id)).warnings).toEqual([`skipped ${store.sessionPath(id)}: format version 4 is not one this procprobe reads (1, 2, 3)`]);
    // A version 2 header must be followed by its checksum.
    writeSession(store, [phase('load')], { v: 2 }, false);
    expect((await store.loadSession(id)).warnings).toEqual([`skipped ${store.sessionPath(id)}: damaged header: no checksum after it`]);
    writeSession(store, [], { v: 2 }, false);
    expect((await store.loadSession(id)).warnings).toEqual([`skipped ${store.sessionPath(id)}: damaged header: its checksum was cut off`]);
    writeSession(store, [], { memTotalBytes: 'lots' });
    const { value, warnings } = await store.loadSession(id);
    expect(value).toBeNull();
    expect(warnings).toEqual([expect.stringContaining(`${store.sessionPath(id)}: damaged header: .memTotalBytes: "lots"`)]);
  });
});

describe('index entries of the wrong shape', () => {
  for (const [what, entry] of [
    ['errors that are not a list', { ...craftedSummary(session), errors: 7 }],
    ['resources that are null', { ...craftedSummary(session), resources: null }],
    ['a phase without a name', { ...craftedSummary(session), phases: [{ startOffsetMs: 0, durationMs: 1, success: true }] }],
  ] as const) {
    it(`${what}: rebuilt from the session file, and the stats run`, async () => {
      const store = new HistoryStore(tempDir('procprobe-hist-'));
      store.ensure();
      writeFileSync(store.sessionPath(id), craftedSessionBytes(session));
      writeFileSync(store.indexPath(id), pack(entry));
      const { value, warnings } = await store.loadSummaries();
      expect(value).toEqual([craftedSummary(session)]);
      expect(warnings).toEqual([expect.stringMatching(/skipped index entry .*: not a session summary .*; rebuilt from the session file$/)]);
      expect((await store.loadSummaries()).warnings).toEqual([]);
      await consumeAll(store);
    });
  }
});

describe('files that used to hang or throw the loader (version 1 and 2)', () => {
  it("msgpackr's string-bundle extension with a negative size (sends the decoder back): stops there, at once, with a warning", async () => {
    const store = new HistoryStore(tempDir('procprobe-hist-'));
    for (const v of [1, 2]) {
      writeSession(store, [phase('load')], { v });
      const path = store.sessionPath(id);
      // fixext4 of type 0x62 (a string bundle) whose size is -40: unpackMultiple read the same
      // bytes again and again, for ever.
      const back = Buffer.from([0xd6, 0x62, 0xff, 0xff, 0xff, 0xd8, 0xa1, 0x41]);
      writeFileSync(path, Buffer.concat([readFileSync(path), back]));
      const t0 = performance.now();
      const { value, warnings } = await store.loadSession(id);
      expect(performance.now() - t0).toBeLessThan(2000);
      expect(value!.summary.phases.map((p) => p.name)).toEqual(['load']);
      expect(warnings).toEqual([expect.stringContaining(`${path}: unreadable from byte`)]);
    }
  });

  it('metadata that refers back to itself, or names one object twice (structured-clone references): the header or end record refused', async () => {
    const store = new HistoryStore(tempDir('procprobe-hist-'));
    store.ensure();
    const cyclic: Record<string, unknown> = { label: 'cyclic' };
    cyclic.self = cyclic;
    const leaf = { deep: [1, 2] };
    const shared = { a: leaf, b: leaf };
    for (const v of [1, 2]) {
      // Packed with structuredClone, which writes the references (0x69 id / 0x70 pointer); one
      // Packr per file, as the writer.
      const file = (...records: object[]): Buffer => {
        const clone = new Packr({ sequential: true, structuredClone: true });
        return Buffer.concat(records.map((rec) => {
          const b = Buffer.from(clone.pack(rec));
          const sum = Buffer.from([0xce, 0, 0, 0, 0]);
          sum.writeUInt32BE(crc32(b), 1);
          return v === 2 ? Buffer.concat([b, sum]) : b;
        }));
      };
      const path = store.sessionPath(id);
      writeFileSync(path, file(headerRecord({ v, metadata: cyclic })));
      expect((await store.loadSession(id)).warnings).toEqual([`skipped ${path}: damaged header: .metadata: an object that appears twice in it (a shared or circular reference)`]);
      const end = { t: 'Z', summary: { ...craftedSummary(session), metadata: shared } };
      writeFileSync(path, file(headerRecord({ v }), end));
      const { value, warnings } = await store.loadSession(id);
      expect(warnings).toEqual([expect.stringMatching(/of .*: \.summary\.metadata: an object that appears twice in it/)]);
      expect(value!.summary.incomplete).toBe(true); // its end record was left out
      await consumeAll(store);
    }
  });

  it('200,000 timings and no end record (what a kill -9 leaves): every timing loads', async () => {
    // StartupSession.timings.push(...phases) threw RangeError past about 120,000 arguments.
    const store = new HistoryStore(tempDir('procprobe-hist-'));
    writeSession(store, Array.from({ length: 200_000 }, (_, i) => phase(`t${i % 7}`)), { v: 2 });
    const { value, warnings } = await store.loadSession(id);
    expect(warnings).toEqual([]);
    expect(value!.summary.incomplete).toBe(true);
    expect(value!.summary.phases).toHaveLength(200_000);
    expect((await store.loadSummaries()).value.map((s) => s.phases.length)).toEqual([200_000]);
  }, 60_000);
});
