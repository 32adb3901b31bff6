/**
 * The exporters' entry: {@link exportSession} turns one session (summary + samples) into
 * Chrome/Perfetto trace JSON, CSV, JSON, OpenMetrics text (strings) or msgpack (bytes).
 */
import { InvalidOptionError } from '../errors.js';
import { checkOptions, optionKeys } from '../validate.js';
import { toChromeTrace } from './chrome-trace.js';
import { toCsv } from './csv.js';
import { checkMaxPoints } from './decimate.js';
import { toJson } from './json.js';
import { toMsgpack } from './msgpack.js';
import { toOpenMetrics } from './openmetrics.js';
import { EXPORT_FORMATS, type ExportFormat, type ExportInput } from './types.js';

export type { ExportFormat, ExportInput } from './types.js';
export { EXPORT_FORMATS } from './types.js';
export { toChromeTrace, buildChromeTrace } from './chrome-trace.js';
export { toCsv } from './csv.js';
export { toJson } from './json.js';
export { toMsgpack } from './msgpack.js';
export { toOpenMetrics } from './openmetrics.js';
export { decimateIndices } from './decimate.js';

/** Options of {@link exportSession}. */
export interface ExportOptions {
  /**
   * At most this many points per plotted series (integer >= 2; min/max bucket decimation keeping
   * the first and last point and each bucket's extremes). Applies to the chrome-trace counters;
   * the tabular formats (csv, json, msgpack) always hold every record, and openmetrics only the
   * last one. Default: no decimation.
   */
  maxPoints?: number;
}

const EXPORT_OPTIONS = optionKeys<ExportOptions>({ maxPoints: true });

/**
 * Export one session.
 * @param format `'chrome-trace' | 'csv' | 'json' | 'openmetrics'` give a string, `'msgpack'` a Uint8Array.
 * @throws InvalidOptionError naming 'format' for an unknown format, 'maxPoints' for a bad maxPoints.
 */
export function exportSession(input: ExportInput, format: 'msgpack', opts?: ExportOptions): Uint8Array;
export function exportSession(input: ExportInput, format: Exclude<ExportFormat, 'msgpack'>, opts?: ExportOptions): string;
export function exportSession(input: ExportInput, format: ExportFormat, opts?: ExportOptions): Uint8Array | string;
export function exportSession(input: ExportInput, format: ExportFormat, opts: ExportOptions = {}): Uint8Array | string {
  if (typeof format !== 'string' || !EXPORT_FORMATS.includes(format)) {
    throw new InvalidOptionError('format', `one of ${EXPORT_FORMATS.map((f) => `'${f}'`).join(', ')}`, format);
  }
  const o = checkOptions('options', opts, EXPORT_OPTIONS, 'exportSession');
  const maxPoints = checkMaxPoints(o.maxPoints);
  switch (format) {
    case 'chrome-trace':
      return toChromeTrace(input, maxPoints === undefined ? {} : { maxPoints });
    case 'csv':
      return toCsv(input);
    case 'json':
      return toJson(input);
    case 'openmetrics':
      return toOpenMetrics(input);
    case 'msgpack':
      return toMsgpack(input);
  }
}
