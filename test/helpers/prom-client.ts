/**
 * prometheus_client's reference text parsers (Debian's python3-prometheus-client) as a reader for
 * the OpenMetrics export and the live Prometheus text. Call need(ctx, 'prometheus_client') first.
 * Nothing here imports procprobe.
 */
import { spawnSync } from 'node:child_process';
import { pythonWith } from './optional-readers.js';

export interface PromClientSample {
  name: string;
  labels: Record<string, string>;
  /** Python's repr of the value: JSON has no NaN. */
  value: string;
}

/**
 * Every sample as prometheus_client's parser for `format` reads `text`; throws with its error.
 * The text goes in as UTF-8 bytes: sys.stdin.read() would apply Python's universal newlines and
 * split a label value at a raw CR, which OpenMetrics allows there.
 */
export function promClientSamples(text: string, format: 'prometheus' | 'openmetrics' = 'openmetrics'): PromClientSample[] {
  const mod = format === 'openmetrics' ? 'prometheus_client.openmetrics.parser' : 'prometheus_client.parser';
  const script = [
    'import json, sys',
    `from ${mod} import text_string_to_metric_families as p`,
    'fams = list(p(sys.stdin.buffer.read().decode("utf-8")))',
    'print(json.dumps([{"name": s.name, "labels": s.labels, "value": repr(s.value)} for f in fams for s in f.samples]))',
  ].join('\n');
  const python = pythonWith('prometheus_client');
  if (!python) throw new Error('no python3 with prometheus_client (apt-get install python3-prometheus-client)');
  const r = spawnSync(python, ['-c', script], { input: Buffer.from(text, 'utf8'), encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`prometheus_client rejected the text: ${r.stderr}`);
  return JSON.parse(r.stdout) as PromClientSample[];
}
