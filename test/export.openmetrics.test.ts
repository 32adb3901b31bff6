/**
 * src/export/openmetrics.ts: the exposition of a synthetic session checked by an OpenMetrics 1.0
 * validator written here (which must also reject broken inputs), plus the values themselves.
 * prometheus_client's own OpenMetrics parser (python3-prometheus-client) reads the output too.
 */
import { describe, expect, it } from 'vitest';
import { exportSession } from '../dist/export/index.js';
import { omEscape, omNumber } from '../dist/export/openmetrics.js';
import { FIELDS } from '../dist/probe/layout.js';
import { R } from '../dist/ring/layout.js';
import { SCHEMA_VERSION } from '../dist/schema.js';

import { GAUGES, makeInput, N } from './fixtures/export-session.js';
import { ph } from './helpers/summaries.js';
import { need } from './helpers/optional-readers.js';
import { promClientSamples } from './helpers/prom-client.js';

// ---- an OpenMetrics 1.0 text-format validator ----
const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'gaugehistogram', 'stateset', 'info', 'summary', 'unknown']);
const REAL = /^[+-]?(?:\d+(?:\.\d*)?(?:e[+-]?\d+)?|\d*\.\d+(?:e[+-]?\d+)?)$/i;
const NUMBER = (s: string): boolean => REAL.test(s) || /^[+-]?inf(?:inity)?$/i.test(s) || /^nan$/i.test(s);
/** Suffixes a sample name may add to its family name, by type. */
const SUFFIXES: Record<string, string[]> = {
  counter: ['_total', '_created'], gauge: [''], unknown: [''], info: ['_info'], stateset: [''],
  histogram: ['_bucket', '_count', '_sum', '_created'], gaugehistogram: ['_bucket', '_gcount', '_gsum'],
  summary: ['', '_count', '_sum', '_created'],
};

/** Read an escaped string (label value or HELP) up to `end` (or the line end); null when malformed. */
function unescape(s: string, from: number, end: '"' | null): { text: string; next: number } | null {
  let text = '';
  let i = from;
  for (;;) {
    if (i >= s.length) return end === null ? { text, next: i } : null;
    const c = s[i]!;
    if (c === end) return { text, next: i + 1 };
    if (c === '"' || c === '\n') return null;
    if (c === '\\') {
      const e = s[i + 1];
      if (e === '\\') text += '\\';
      else if (e === '"') text += '"';
      else if (e === 'n') text += '\n';
      else return null;
      i += 2;
    } else {
      text += c;
      i++;
    }
  }
}

interface ParsedSample { name: string; labels: Record<string, string>; value: string; timestamp?: string }

function parseSample(line: string): ParsedSample | string {
  const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)/.exec(line);
  if (!m) return 'bad metric name';
  const name = m[1]!;
  let i = name.length;
  const labels: Record<string, string> = {};
  if (line[i] === '{') {
    i++;
    let first = true;
    while (line[i] !== '}') {
      if (!first) {
        if (line[i] !== ',') return 'expected , between labels';
        i++;
      }
      first = false;
      const lm = /^([a-zA-Z_][a-zA-Z0-9_]*)="/.exec(line.slice(i));
      if (!lm) return `bad label at ${i}`;
      if (lm[1]! in labels) return `duplicate label ${lm[1]}`;
      const v = unescape(line, i + lm[0].length, '"');
      if (!v) return `bad label value for ${lm[1]}`;
      labels[lm[1]!] = v.text;
      i = v.next;
    }
    i++;
  }
  const rest = line.slice(i);
  const parts = rest.split(' ');
  if (parts[0] !== '' || parts.length < 2 || parts.length > 3) return 'expected " value [timestamp]"';
  if (!NUMBER(parts[1]!)) return `bad value ${parts[1]}`;
  if (parts.length === 3 && !REAL.test(parts[2]!)) return `bad timestamp ${parts[2]}`;
  return { name, labels, value: parts[1]!, ...(parts.length === 3 ? { timestamp: parts[2]! } : {}) };
}

/** The rules' violations in `text` (empty when it is valid). */
function validateOpenMetrics(text: string): string[] {
  const errors: string[] = [];
  if (!text.endsWith('# EOF\n')) errors.push('does not end with "# EOF\\n"');
  const lines = text.split('\n');
  if (lines.at(-1) !== '') errors.push('last line not terminated');
  lines.pop();
  const done = new Set<string>();
  let fam: { name: string; type: string; meta: Set<string>; sampled: boolean; series: Set<string> } | null = null;
  const open = (name: string, n: number): void => {
    if (fam?.name === name) return;
    if (fam) done.add(fam.name);
    if (done.has(name)) errors.push(`line ${n}: family ${name} repeated or not contiguous`);
    fam = { name, type: 'unknown', meta: new Set(), sampled: false, series: new Set() };
  };
  lines.forEach((line, k) => {
    const n = k + 1;
    if (line === '# EOF') {
      if (n !== lines.length) errors.push(`line ${n}: # EOF before the end`);
      return;
    }
    if (line.startsWith('#')) {
      const m = /^# (TYPE|UNIT|HELP) ([^ ]+)(?: (.*))?$/.exec(line);
      if (!m) return void errors.push(`line ${n}: bad comment line`);
      const [, kind, name, arg = ''] = m as unknown as [string, string, string, string | undefined];
      if (!METRIC_NAME.test(name)) errors.push(`line ${n}: bad metric name ${name}`);
      open(name, n);
      const f = fam!;
      if (f.sampled) errors.push(`line ${n}: ${kind} after samples of ${name}`);
      if (f.meta.has(kind)) errors.push(`line ${n}: second ${kind} for ${name}`);
      f.meta.add(kind);
      if (kind === 'TYPE') {
        if (!TYPES.has(arg)) errors.push(`line ${n}: unknown type ${arg}`);
        f.type = arg;
        if (arg === 'counter' && name.endsWith('_total')) errors.push(`line ${n}: counter family ${name} ends in _total`);
      } else if (kind === 'UNIT') {
        if (arg !== '' && !name.endsWith(`_${arg}`)) errors.push(`line ${n}: ${name} does not end in _${arg}`);
        if (!/^[a-zA-Z0-9_:]*$/.test(arg)) errors.push(`line ${n}: bad unit ${arg}`);
      } else if (!unescape(arg, 0, null)) errors.push(`line ${n}: bad escaping in HELP`);
      return;
    }
    if (line === '') return void errors.push(`line ${n}: empty line`);
    const s = parseSample(line);
    if (typeof s === 'string') return void errors.push(`line ${n}: ${s}`);
    const f = fam as { name: string; type: string; sampled: boolean; series: Set<string> } | null;
    const owner = f && (SUFFIXES[f.type] ?? ['']).some((x) => s.name === f.name + x);
    if (!owner && f?.name === s.name) errors.push(`line ${n}: sample ${s.name} does not fit the ${f.type} family ${f.name}`);
    else if (!owner) {
      // A sample without metadata starts an unknown-typed family of its own name.
      open(s.name, n);
      if (SUFFIXES.counter!.some((x) => s.name.endsWith(x))) errors.push(`line ${n}: ${s.name} outside a counter family`);
    }
    const g = fam!;
    g.sampled = true;
    if (g.type === 'counter' && s.name.endsWith('_total') && (/nan/i.test(s.value) || s.value.startsWith('-'))) {
      errors.push(`line ${n}: counter total must be a non-negative number`);
    }
    const key = s.name + JSON.stringify(Object.entries(s.labels).sort());
    if (g.series.has(key)) errors.push(`line ${n}: duplicate series ${key}`);
    g.series.add(key);
  });
  if (!lines.includes('# EOF')) errors.push('no # EOF line');
  return errors;
}
// ---- end of the validator ----

/** Samples of the exposition as { name, labels, value, timestamp }. */
function samplesOf(text: string): ParsedSample[] {
  return text.split('\n').filter((l) => l && !l.startsWith('#')).map((l) => parseSample(l) as ParsedSample);
}

describe('openmetrics validator (written for this test)', () => {
  const ok = '# TYPE a_seconds gauge\n# UNIT a_seconds seconds\n# HELP a_seconds A \\"b\\" \\\\ c\\n.\na_seconds{x="1\\"\\n\\\\"} 1.5 1700000000.5\n'
    + '# TYPE c counter\n# HELP c C.\nc_total{k="v"} 3.0\nc_total{k="w"} 4.0\n# EOF\n';

  it('accepts a valid exposition', () => {
    expect(validateOpenMetrics(ok)).toEqual([]);
  });

  it.each([
    ['no # EOF', ok.replace('# EOF\n', '')],
    ['no final newline', ok.slice(0, -1)],
    ['content after # EOF', `${ok}x 1\n`],
    ['counter sample without _total', '# TYPE c counter\nc 1\n# EOF\n'],
    ['gauge sample with a suffix', '# TYPE g gauge\ng_total 1\n# EOF\n'],
    ['counter family named _total', '# TYPE c_total counter\nc_total 1\n# EOF\n'],
    ['unit not a suffix', '# TYPE a_seconds gauge\n# UNIT a_seconds bytes\na_seconds 1\n# EOF\n'],
    ['unescaped quote in label value', '# TYPE a gauge\na{x="a"b"} 1\n# EOF\n'],
    ['bad escape in label value', '# TYPE a gauge\na{x="a\\tb"} 1\n# EOF\n'],
    ['raw quote in HELP', '# TYPE a gauge\n# HELP a say "hi"\na 1\n# EOF\n'],
    ['TYPE after samples', '# HELP a A.\na 1\n# TYPE a gauge\n# EOF\n'],
    ['HELP twice', '# TYPE a gauge\n# HELP a A.\n# HELP a A.\na 1\n# EOF\n'],
    ['family not contiguous', '# TYPE a gauge\na 1\n# TYPE b gauge\nb 1\n# TYPE a gauge\na{x="2"} 1\n# EOF\n'],
    ['duplicate series', '# TYPE a gauge\na{x="1"} 1\na{x="1"} 2\n# EOF\n'],
    ['bad value', '# TYPE a gauge\na abc\n# EOF\n'],
    ['NaN counter total', '# TYPE c counter\nc_total NaN\n# EOF\n'],
    ['empty line', '# TYPE a gauge\n\na 1\n# EOF\n'],
    ['unknown type', '# TYPE a meter\na 1\n# EOF\n'],
  ])('rejects: %s', (_what, text) => {
    expect(validateOpenMetrics(text).length).toBeGreaterThan(0);
  });
});

describe('openmetrics export', () => {
  const weird = 'sess "A"\\x\ny';
  const input = makeInput({ id: weird, phases: [...makeInput().summary.phases, ph('load_config', 1000, 50)] });
  const text = exportSession(input, 'openmetrics');

  it('passes the validator', () => {
    expect(validateOpenMetrics(text)).toEqual([]);
    expect(text.endsWith('\n# EOF\n')).toBe(true);
    expect(text.match(/^# EOF$/gm)).toHaveLength(1);
  });

  it('writes TYPE, UNIT, HELP before the samples of each family', () => {
    const families = [...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1], m[2]]);
    expect(families).toEqual([
      ['procprobe_export', 'info'], ['procprobe_session_duration_seconds', 'gauge'], ['procprobe_session_success', 'gauge'],
      ['procprobe_phase_duration_seconds', 'gauge'], ['procprobe_phase_cpu_seconds', 'gauge'],
      ['procprobe_phase_rss_peak_bytes', 'gauge'], ['process_cpu_seconds', 'counter'],
      ['process_resident_memory_bytes', 'gauge'], ['process_virtual_memory_bytes', 'gauge'],
      ['process_open_fds', 'gauge'], ['process_threads', 'gauge'], ['process_context_switches', 'counter'],
      ['process_start_time_seconds', 'gauge'], ['procprobe_gauge', 'gauge'],
    ]);
    expect(text).toContain('# TYPE process_cpu_seconds counter\n# UNIT process_cpu_seconds seconds\n# HELP process_cpu_seconds ');
    expect(text).toContain('# UNIT procprobe_phase_rss_peak_bytes bytes\n');
    expect(text).not.toContain('# UNIT process_open_fds');
    expect(text).not.toContain('# UNIT procprobe_export'); // an info family has no unit
  });

  it('carries the schema version as an info metric, first', () => {
    const [first] = samplesOf(text);
    expect(first).toEqual({ name: 'procprobe_export_info', labels: { session: weird, schema_version: String(SCHEMA_VERSION) }, value: '1.0' });
    const empty = exportSession(makeInput({ phases: [] }, 0), 'openmetrics');
    expect(empty).toContain(`procprobe_export_info{session="session-1",schema_version="${SCHEMA_VERSION}"} 1.0\n`);
  });

  it('has the session, phase and last-sample values', () => {
    const s = samplesOf(text);
    const get = (name: string, labels: Record<string, string> = {}): ParsedSample[] =>
      s.filter((x) => x.name === name && Object.entries(labels).every(([k, v]) => x.labels[k] === v));
    for (const x of s) expect(x.labels.session).toBe(weird); // escaped and unescaped back
    expect(get('procprobe_session_duration_seconds')[0]!.value).toBe('2.0');
    expect(get('procprobe_session_success')[0]!.value).toBe('1.0');
    expect(get('procprobe_phase_duration_seconds')).toHaveLength(input.summary.phases.length);
    expect(Number(get('procprobe_phase_duration_seconds', { phase: 'environment_validation' })[0]!.value)).toBe(0.30025);
    expect(get('procprobe_phase_duration_seconds', { phase: 'load_config' }).map((x) => x.labels.occurrence)).toEqual(['1', '2']);
    expect(get('procprobe_phase_duration_seconds', { phase: 'total_startup' })[0]!.labels.occurrence).toBeUndefined();
    expect(Number(get('procprobe_phase_cpu_seconds', { phase: 'total_startup' })[0]!.value)).toBe(1.234);
    expect(get('procprobe_phase_cpu_seconds', { phase: 'process_startup' })[0]!.value).toBe('NaN');
    expect(Number(get('procprobe_phase_rss_peak_bytes', { phase: 'total_startup' })[0]!.value)).toBe(9e8);

    const last = N - 1;
    const rec = (f: (typeof FIELDS)[number]): number => input.samples.records[last * input.samples.stride + R.ROW + FIELDS.indexOf(f)]!;
    const cpu = get('process_cpu_seconds_total')[0]!;
    expect(Number(cpu.value)).toBe((rec('cpuUserUs') + rec('cpuSystemUs')) / 1e6);
    expect(Number(cpu.timestamp)).toBe(rec('timestamp') / 1000);
    expect(cpu.labels.pid).toBe('4242');
    expect(Number(get('process_resident_memory_bytes')[0]!.value)).toBe(rec('rssBytes'));
    expect(Number(get('process_virtual_memory_bytes')[0]!.value)).toBe(rec('vmsBytes'));
    expect(Number(get('process_open_fds')[0]!.value)).toBe(rec('openFds'));
    expect(Number(get('process_threads')[0]!.value)).toBe(rec('threads'));
    expect(Number(get('process_context_switches_total', { kind: 'voluntary' })[0]!.value)).toBe(rec('voluntaryContextSwitches'));
    expect(Number(get('process_context_switches_total', { kind: 'involuntary' })[0]!.value)).toBe(rec('involuntaryContextSwitches'));
    expect(Number(get('process_start_time_seconds')[0]!.value)).toBe(rec('startTime') / 1000);
    expect(Number(get('procprobe_gauge', { gauge: GAUGES[1]! })[0]!.value)).toBe(last * 1.5);
  });

  it('writes NaN gauges as NaN, leaves NaN counters out, and stays valid for odd sessions', () => {
    const input2 = makeInput({ success: false, durationMs: NaN, incomplete: true });
    const { records, stride } = input2.samples;
    records[(N - 1) * stride + R.ROW + FIELDS.indexOf('rssBytes')] = NaN;
    records[(N - 1) * stride + R.ROW + FIELDS.indexOf('cpuUserUs')] = NaN;
    const t2 = exportSession(input2, 'openmetrics');
    expect(validateOpenMetrics(t2)).toEqual([]);
    expect(t2).toMatch(/^procprobe_session_duration_seconds\{session="session-1"\} NaN$/m);
    expect(t2).toMatch(/^procprobe_session_success\{session="session-1"\} 0\.0$/m);
    expect(t2).toMatch(/^process_resident_memory_bytes\{[^}]*\} NaN \d+(\.\d+)?$/m);
    expect(t2).not.toContain('process_cpu_seconds');
    const empty = exportSession(makeInput({ phases: [] }, 0), 'openmetrics');
    expect(validateOpenMetrics(empty)).toEqual([]);
    expect(empty).not.toContain('process_');
  });

  it('formats numbers and escapes text per OpenMetrics', () => {
    expect([1, 0, -0, 2.5, NaN, Infinity, -Infinity, 1e21, 1e-7].map(omNumber)).toEqual(
      ['1.0', '0.0', '-0.0', '2.5', 'NaN', '+Inf', '-Inf', '1e+21', '1e-7'],
    );
    expect(omEscape('a\\b"c\nd')).toBe('a\\\\b\\"c\\nd');
  });

  // The reference parser (Debian's python3-prometheus-client, installed by .ci/run).
  it('parses with prometheus_client\'s OpenMetrics parser', (ctx) => {
    need(ctx, 'prometheus_client');
    expect(promClientSamples(text)).toHaveLength(samplesOf(text).length);
  });
});

describe('openmetrics export: hostile names stay label values', () => {
  // Every character a label value must escape (\\ " LF), the ones it may carry raw (CR, ESC, NUL,
  // DEL, C1), the label syntax (} , = " # {) and the " # " that starts an exemplar.
  const HOSTILE = 'a\\b"c\nd\re\x1bf\x00g}h,i="j" # k {l} é\x7f\x9b';
  const phase = `phase ${HOSTILE}`;
  const gaugeName = `gauge ${HOSTILE}`;
  const input = makeInput({ id: `session ${HOSTILE}`, phases: [ph(phase, 0, 100)] });
  input.samples.gaugeNames = [gaugeName, GAUGES[1]!];
  const text = exportSession(input, 'openmetrics') as string;

  it('is valid OpenMetrics: names from the fixed set, every label value escaped', () => {
    expect(validateOpenMetrics(text)).toEqual([]);
    // No line break inside a value: each line that holds the hostile text is a whole sample line.
    expect(text.split('\n').filter((l) => l.includes('é')).every((l) => /^[a-z_]+\{session="session /.test(l))).toBe(true);
    const samples = samplesOf(text);
    for (const s of samples) expect(s.name).toMatch(/^(procprobe|process)_[a-z_]+$/);
    expect(samples.every((s) => s.labels.session === `session ${HOSTILE}`)).toBe(true);
    expect(samples.filter((s) => s.labels.phase === phase).map((s) => s.name).sort()).toEqual(
      ['procprobe_phase_cpu_seconds', 'procprobe_phase_duration_seconds', 'procprobe_phase_rss_peak_bytes'],
    );
    expect(samples.find((s) => s.labels.gauge === gaugeName)?.value).toBe(String(((N - 1) % 17).toFixed(1)));
  });

  it('reads back exactly through prometheus_client\'s parser', (ctx) => {
    need(ctx, 'prometheus_client');
    const parsed = promClientSamples(text);
    expect(parsed).toHaveLength(samplesOf(text).length);
    expect(parsed.every((s) => s.labels.session === `session ${HOSTILE}`)).toBe(true);
    expect(parsed.filter((s) => s.labels.phase === phase)).toHaveLength(3);
    expect(parsed.filter((s) => s.labels.gauge === gaugeName)).toHaveLength(1);
  });
});
