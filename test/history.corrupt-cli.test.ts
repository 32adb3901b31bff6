/**
 * Damaged history through the CLI, end to end: a data dir of real sessions (each written by a
 * `procprobe run` that has exited, as after a crash) and the bad files issue 18 lists, crafted
 * here: chunk counts -5 and 2^40, a uint64 where a duration goes (a bigint once decoded), metadata
 * that contains itself (JSON.stringify threw on it in show --json, exports, the report), a future
 * format version, a session file without its end record or index entry (what kill -9 leaves), a
 * truncated file, a flipped checksum. Every command that reads history runs on a fresh copy of
 * that dir (the loader indexes what it recovers, so a second command would see less damage): it
 * exits with its documented status, prints no stack trace, lists the good sessions as their
 * index entries held them (decoded here with msgpackr), and names each bad file on stderr.
 */
import { cpSync, existsSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { Packr, Unpackr, unpackMultiple } from 'msgpackr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXPORT_FORMATS } from '../dist/export/types.js';
import { cleanup, runCli, type CliResult } from './helpers/cli.js';
import { tempDir } from './helpers/temp-dirs.js';

const T = 240_000;
let template = '';
/** Sessions whose files are intact, with the summary their index entry holds. */
const good = new Map<string, { id: string; incomplete: boolean }>();
/** Damaged or crafted sessions: id -> what was done to it. */
const bad = new Map<string, string>();
let cutId = ''; // no end record, no index entry: a crash, listed as incomplete without a warning
let futureId = '';

const sessionPath = (dir: string, id: string): string => join(dir, 'sessions', `${id}.pps`);
const indexPath = (dir: string, id: string): string => join(dir, 'index', `${id}.ppi`);

/** [start, end) and value of every msgpack value in a file (msgpackr decoding here). */
function spans(bytes: Buffer): { value: any; start: number; end: number }[] {
  const out: { value: any; start: number; end: number }[] = [];
  new Unpackr({ sequential: true }).unpackMultiple(bytes, (value: unknown, start?: number, end?: number) => {
    out.push({ value, start: start!, end: end! });
  });
  return out;
}

/**
 * A version 2 file crafted here: each record packed by one sequential Packr, then its CRC-32.
 * structuredClone: the Packr writes an object met again as a reference (msgpackr's extensions
 * 0x69/0x70), which any Unpackr decodes.
 */
function craft(dir: string, header: object, records: object[]): void {
  const packr = new Packr({ sequential: true, structuredClone: true });
  const parts = [header, ...records].map((r) => {
    const b = Buffer.from(packr.pack(r));
    const sum = Buffer.alloc(5, 0xce);
    sum.writeUInt32BE(crc32(b), 1);
    return Buffer.concat([b, sum]);
  });
  writeFileSync(sessionPath(dir, (header as { id: string }).id), Buffer.concat(parts), { mode: 0o600 });
}

/** Three of the real sessions damaged as crashes and disks do; their index entries removed. */
function damageReal(dir: string, [truncated, flipped, cut]: string[]): void {
  // Torn in the middle of its last sample chunk (kill -9 during a flush).
  const tb = readFileSync(sessionPath(dir, truncated!));
  const lastChunk = spans(tb).filter((s) => s.value?.t === 'S').at(-1)!;
  truncateSync(sessionPath(dir, truncated!), lastChunk.start + Math.floor((lastChunk.end - lastChunk.start) / 2));
  bad.set(truncated!, 'truncated');
  // One bit of a timing's checksum flipped; the end record intact.
  const fb = readFileSync(sessionPath(dir, flipped!));
  const values = spans(fb);
  const t = values.findIndex((s) => s.value?.t === 'T');
  fb[values[t + 1]!.end - 1]! ^= 0x04;
  writeFileSync(sessionPath(dir, flipped!), fb);
  bad.set(flipped!, 'flipped checksum');
  // Cut after its last timing, before the end record: what a crash leaves. Not damage.
  truncateSync(sessionPath(dir, cut!), spans(readFileSync(sessionPath(dir, cut!))).at(-2)!.start);
  cutId = cut!;
  for (const id of [truncated!, flipped!, cut!]) rmSync(indexPath(dir, id));
}

/** The crafted bad files, from a real header (its writer has exited), under ids after the real ones. */
function craftBad(dir: string, ids: string[]): void {
  const header = spans(readFileSync(sessionPath(dir, ids[0]!)))[0]!.value;
  const timing = { t: 'T', id: 'a', name: 'load', startOffsetMs: 1, durationMs: 2, success: true };
  const circular: Record<string, unknown> = { label: 'circular' };
  circular.self = circular;
  const crafted: [string, (id: string) => object[], object?][] = [
    ['circular metadata', (id) => [timing, { t: 'Z', summary: { ...good.get(ids[0]!)!, id, metadata: circular } }]],
    ['negative chunk count', () => [{ t: 'S', n: -5, c: [] }, timing]],
    ['huge chunk count', () => [{ t: 'S', n: 2 ** 40, c: [] }, timing]],
    ['a bigint duration', () => [{ ...timing, durationMs: 2n ** 63n }, timing]],
    ['future version', () => [timing], { v: 4 }],
  ];
  crafted.forEach(([what, records, extra], i) => {
    const id = `${ids.at(-1)!.slice(0, 15)}9${i}0Z-zz${i}-000`; // the last real one's second, a later ms
    craft(dir, { ...header, id, ...extra }, records(id));
    bad.set(id, what);
    if (what === 'future version') futureId = id;
  });
}

beforeAll(async () => {
  template = join(tempDir('procprobe-cli-'), 'data');
  const ids: string[] = [];
  for (let i = 0; i < 6; i++) {
    const r = await runCli(['run', '--json', '--label', `real ${i}`, '--data-dir', template, '--', 'node', '-e', 'setTimeout(() => {}, 30)']);
    expect(r.code, r.stderr).toBe(0);
    ids.push(JSON.parse(r.stdout).runs[0].sessionId as string);
  }
  // The index entry: the summary, then its CRC (unpackMultiple: unpack refuses the trailing value).
  for (const id of ids.slice(0, 3)) good.set(id, (unpackMultiple(readFileSync(indexPath(template, id))) as [{ id: string; incomplete: boolean }])[0]);
  damageReal(template, ids.slice(3));
  craftBad(template, ids);
}, T);

afterAll(cleanup);

/** `procprobe ...args --data-dir <a fresh copy of the template>`, checked for stack traces. */
async function cli(args: string[]): Promise<CliResult & { dir: string }> {
  const dir = join(tempDir('procprobe-cli-'), 'data');
  cpSync(template, dir, { recursive: true });
  const r = await runCli([...args, '--data-dir', dir]);
  const all = `${r.stdout}\n${r.stderr}`;
  expect(all, `${args.join(' ')}: a stack trace`).not.toMatch(/^\s{4}at |RangeError|TypeError/m);
  return { ...r, dir };
}

/** Every bad file of `ids` named in a warning on stderr. */
function expectWarned(r: CliResult & { dir: string }, ids: Iterable<string>): void {
  const warnings = r.stderr.split('\n').filter((l) => l.startsWith('procprobe: warning: '));
  for (const id of ids) expect(warnings.some((w) => w.includes(sessionPath(r.dir, id))), `${bad.get(id)} (${id}) named in:\n${r.stderr}`).toBe(true);
}

/** Sessions `sessions` and `stats` must list: the good, the crash-cut one, and every damaged one that still loads. */
const listed = (): string[] => [...good.keys(), cutId, ...[...bad.keys()].filter((id) => id !== futureId)].sort();

describe('procprobe on a damaged history', () => {
  it('sessions and sessions --json: exit 0, every loadable session listed (the good ones as indexed), each bad file named', async () => {
    const table = await cli(['sessions']);
    expect(table.code, table.stderr).toBe(0);
    const rows = table.stdout.trimEnd().split('\n').slice(1);
    expect(rows.map((l) => l.split(/\s+/)[0]).sort()).toEqual(listed());
    expectWarned(table, bad.keys());
    const json = await cli(['sessions', '--json']);
    expect(json.code, json.stderr).toBe(0);
    const doc = JSON.parse(json.stdout) as { sessions: { id: string; incomplete: boolean }[] };
    expect(doc.sessions.map((s) => s.id).sort()).toEqual(listed());
    // As JSON has them: a figure not measured (NaN in the index) is null there.
    for (const [id, summary] of good) expect(doc.sessions.find((s) => s.id === id)).toEqual(JSON.parse(JSON.stringify(summary)));
    expect(doc.sessions.find((s) => s.id === cutId)!.incomplete).toBe(true);
    expectWarned(json, bad.keys());
  }, T);

  it('stats and stats --json: exit 0, counting every loadable session, each bad file named', async () => {
    const text = await cli(['stats']);
    expect(text.code, text.stderr).toBe(0);
    // One row per label (sessions, n, ...): their counts add up to every loadable session.
    const rows = text.stdout.trimEnd().split('\n').slice(1, -1);
    expect(rows.reduce((sum, row) => sum + Number(/\s(\d+)\s+\d+%/.exec(row)![1]), 0), text.stdout).toBe(listed().length);
    expectWarned(text, bad.keys());
    const json = await cli(['stats', '--json']);
    expect(json.code, json.stderr).toBe(0);
    const labels = JSON.parse(json.stdout).labels as { stats: { sessionCount: number } }[];
    expect(labels.reduce((sum, l) => sum + l.stats.sessionCount, 0)).toBe(listed().length);
    expectWarned(json, bad.keys());
  }, T);

  it('show: a good session without a warning; each damaged one with a warning naming it (exit 0), or exit 2 when it cannot be read', async () => {
    const [first] = good.keys();
    const ok = await cli(['show', first!]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout.split('\n')[0]).toContain(first);
    expect(ok.stderr).toBe('');
    for (const id of bad.keys()) {
      const r = await cli(['show', id]);
      expectWarned(r, [id]);
      if (id === futureId) {
        expect(r.code).toBe(2);
        expect(r.stderr).toContain(`session ${id} could not be read`);
        expect(r.stderr).toMatch(/format version 4 is not one this procprobe reads/);
      } else {
        expect(r.code, `${bad.get(id)}: ${r.stderr}`).toBe(0);
        expect(r.stdout.split('\n')[0]).toContain(id);
        const json = await cli(['show', id, '--json']);
        expect(json.code, `${bad.get(id)}: ${json.stderr}`).toBe(0);
        expect(JSON.parse(json.stdout).id).toBe(id);
        expectWarned(json, [id]);
      }
    }
  }, T);

  it('export in every format and the HTML report: a good and three damaged sessions exit 0, the unreadable one exits 2', async () => {
    const [first] = good.keys();
    const damaged = [...bad].filter(([, what]) => ['flipped checksum', 'negative chunk count', 'circular metadata'].includes(what)).map(([id]) => id);
    for (const id of [first!, ...damaged]) {
      for (const format of EXPORT_FORMATS) {
        const r = await cli(['export', id, '--format', format]);
        expect(r.code, `${format} of ${id}: ${r.stderr}`).toBe(0);
        expect(r.stdout.length).toBeGreaterThan(0);
        if (format === 'json') expect(JSON.parse(r.stdout).summary.id).toBe(id);
        if (bad.has(id)) expectWarned(r, [id]);
      }
      const html = join(tempDir('procprobe-cli-'), 'report.html');
      const r = await cli(['report', id, '--html', html]);
      expect(r.code, r.stderr).toBe(0);
      expect(readFileSync(html, 'utf8')).toContain(id);
      if (bad.has(id)) expectWarned(r, [id]);
    }
    const exported = await cli(['export', futureId, '--format', 'json']);
    expect(exported.code).toBe(2);
    expect(exported.stdout).toBe('');
    expectWarned(exported, [futureId]);
    const html = join(tempDir('procprobe-cli-'), 'future.html');
    const report = await cli(['report', futureId, '--html', html]);
    expect(report.code).toBe(2);
    expect(existsSync(html)).toBe(false);
    expectWarned(report, [futureId]);
  }, T);
});
