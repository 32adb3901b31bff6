/** What every exporter takes: one session's summary and its samples (ring record layout). */
import type { Suggestion } from '../analysis/types.js';
import type { SessionSummary } from '../session/types.js';
import type { SessionSamples } from '../session/types.js';

export interface ExportInput {
  summary: SessionSummary;
  samples: SessionSamples;
  /** Suggestions from the analysis, shown by reports when present. */
  suggestions?: Suggestion[];
}

export type ExportFormat = 'chrome-trace' | 'csv' | 'json' | 'msgpack' | 'openmetrics';
export const EXPORT_FORMATS: readonly ExportFormat[] = ['chrome-trace', 'csv', 'json', 'msgpack', 'openmetrics'];
