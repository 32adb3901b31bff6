/** The msgpack export: the session's summary and its samples as one Float64Array. */
import { Packr } from 'msgpackr';
import { SCHEMA_VERSION } from '../schema.js';
import type { ExportInput } from './types.js';

/**
 * msgpackr writes a typed array as its bytes only with `moreTypes` (ext type 0x74 't' + the
 * array kind, decoded back to a Float64Array by any msgpackr `unpack`); without it, `pack` copies
 * a Float64Array element by element into a bin of `byteLength` bytes (lossy). No records
 * extension, so other decoders read the rest as plain maps.
 */
const packr = new Packr({ moreTypes: true, useRecords: false });

/**
 * The msgpack export: one map `{ schemaVersion, summary, samples: { stride, count, gaugeNames,
 * records } }`, records a Float64Array.
 */
export function toMsgpack(input: ExportInput): Uint8Array {
  const { records, stride, count, gaugeNames } = input.samples;
  const used = records.length === count * stride ? records : records.slice(0, count * stride);
  return packr.pack({
    schemaVersion: SCHEMA_VERSION,
    summary: input.summary,
    samples: { stride, count, gaugeNames, records: used },
    ...(input.suggestions ? { suggestions: input.suggestions } : {}),
  });
}

