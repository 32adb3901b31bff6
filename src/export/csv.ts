/**
 * A session's samples as RFC 4180 CSV: a header row, one row per record, CRLF line endings.
 *
 * Columns: `seq,timestamp,status,processes,lagUs`, then every ProcessSample field in
 * src/probe/layout.ts order except `timestamp` (already the second column), then one column per
 * gauge, named by the gauge. Numbers are written with full (round-trip) precision, NaN as an
 * empty field (so is every measurement of a record that measured no process, `processes` 0, and
 * every level of a process being torn down: RSS 0); a field containing a comma, a double quote, CR or LF is quoted, with its quotes
 * doubled. A text field (a header: gauge names are the user's) that starts with `=`, `+`, `-`, `@`,
 * TAB or CR is written as OWASP's CSV-injection rule says: a single quote before it, the whole
 * quoted, so a spreadsheet shows `=HYPERLINK(...)` as text instead of running it. Number fields
 * are never text fields: `-5` stays the number -5.
 *
 * No schemaVersion: RFC 4180 has no place for metadata that every reader skips (a leading comment
 * line would be read as the header, a version column would repeat on every row). The header row
 * is the CSV's schema; read columns by name. Its columns change under the same rule as the
 * versioned formats, so the version of a `--format json` export of the same procprobe applies.
 */
import { F, FIELDS } from '../probe/layout.js';
import { R } from '../ring/layout.js';
import { shownValue } from '../session/resources.js';
import type { ExportInput } from './types.js';

/** The ProcessSample fields after the five leading columns (every field but `timestamp`). */
export const CSV_SAMPLE_FIELDS = FIELDS.filter((f) => f !== 'timestamp');

/**
 * A text field: neutralised when a spreadsheet would read it as a formula (OWASP, "CSV Injection":
 * a leading `'` makes Excel, LibreOffice and Google Sheets take the cell as text, and quoting the
 * whole keeps a `,` or `"` after it from ending the cell), else quoted when RFC 4180 requires it.
 */
export function csvField(text: string): string {
  if (/^[=+\-@\t\r]/.test(text)) return `"'${text.replaceAll('"', '""')}"`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** A number as a CSV field: shortest round-trip decimal, NaN as the empty string. */
export function csvNumber(value: number): string {
  return Number.isNaN(value) ? '' : String(value);
}

/** The header row's column names (unquoted). */
export function csvColumns(gaugeNames: readonly string[]): string[] {
  return ['seq', 'timestamp', 'status', 'processes', 'lagUs', ...CSV_SAMPLE_FIELDS, ...gaugeNames];
}

/** The session's samples as CSV text (header + one CRLF-terminated row per record). */
export function toCsv(input: ExportInput): string {
  const { records, stride, count, gaugeNames } = input.samples;
  const offsets = [
    R.SEQ,
    R.ROW + F.timestamp,
    R.STATUS,
    R.PROCESSES,
    R.LAG_US,
    ...CSV_SAMPLE_FIELDS.map((f) => R.ROW + F[f]),
    ...gaugeNames.map((_, k) => R.GAUGES + k),
  ];
  const lines: string[] = [csvColumns(gaugeNames).map(csvField).join(',')];
  for (let i = 0; i < count; i++) {
    const base = i * stride;
    const row = new Array<string>(offsets.length);
    for (let c = 0; c < offsets.length; c++) {
      const off = offsets[c]!;
      // A sample field as exports show it: empty where the record measured no process (the CLI's
      // tree before the spawn) or, for a level, the process was being torn down.
      const v = off >= R.ROW && off < R.GAUGES ? shownValue(records, base, off - R.ROW) : records[base + off];
      row[c] = csvNumber(v ?? NaN);
    }
    lines.push(row.join(','));
  }
  return lines.join('\r\n') + '\r\n';
}
