/**
 * A session as JSON: `{ schemaVersion, summary, samples: [...], suggestions? }`, each sample an object
 * `{ seq, status, processes, lagUs, <every ProcessSample field>, gauges: { <name>: value } }`.
 * NaN (and ±Infinity) are written as `null`, JSON having no such numbers; bigints in user
 * metadata as strings.
 */
import { FIELDS, type ProcessSample } from '../probe/layout.js';
import { R } from '../ring/layout.js';
import { shownValue } from '../session/resources.js';
import type { Suggestion } from '../analysis/types.js';
import type { SessionSummary } from '../session/types.js';
import { SCHEMA_VERSION } from '../schema.js';
import { jsonSafe } from './json-safe.js';
import type { ExportInput } from './types.js';

/** One sample of the JSON export (before NaN becomes null). */
export type JsonSample = { seq: number; status: number; processes: number; lagUs: number } & ProcessSample & {
  gauges: Record<string, number>;
};

/** The document {@link toJson} serialises. */
export interface JsonExport {
  /** {@link SCHEMA_VERSION} of the document's shape. */
  schemaVersion: number;
  summary: SessionSummary;
  samples: JsonSample[];
  suggestions?: Suggestion[];
}

/** The session's records as objects (allocates one per sample). */
export function samplesToObjects(input: ExportInput): JsonSample[] {
  const { records, stride, count, gaugeNames } = input.samples;
  const out: JsonSample[] = [];
  for (let i = 0; i < count; i++) {
    const base = i * stride;
    const s = {
      seq: records[base + R.SEQ]!,
      status: records[base + R.STATUS]!,
      processes: records[base + R.PROCESSES]!,
      lagUs: records[base + R.LAG_US]!,
    } as JsonSample;
    // As exports show it: null where nothing was measured or a level is the teardown's (shownValue).
    for (let f = 0; f < FIELDS.length; f++) s[FIELDS[f]!] = shownValue(records, base, f);
    const gauges: Record<string, number> = {};
    gaugeNames.forEach((name, k) => {
      gauges[name] = records[base + R.GAUGES + k] ?? NaN;
    });
    s.gauges = gauges;
    out.push(s);
  }
  return out;
}

/** The session as JSON text (compact; `space` as in JSON.stringify). */
export function toJson(input: ExportInput, space?: number): string {
  const doc: JsonExport = {
    schemaVersion: SCHEMA_VERSION,
    summary: input.summary,
    samples: samplesToObjects(input),
    ...(input.suggestions ? { suggestions: input.suggestions } : {}),
  };
  return JSON.stringify(doc, jsonSafe, space);
}
