/**
 * A session in the OpenMetrics 1.0 text exposition format.
 *
 * Families (every sample labelled `session="<id>"`):
 * - `procprobe_export` (info, first): `procprobe_export_info{session,schema_version="<SCHEMA_VERSION>"} 1`,
 *   the document's version where a text format has room for it (OpenMetrics info metrics exist
 *   for such constant facts; a scraper ingests it as one more series);
 * - `procprobe_session_duration_seconds`, `procprobe_session_success` (0/1);
 * - per phase (labels `phase`, and `occurrence` = 1, 2, ... on every timing of a phase name that
 *   occurs more than once, so no two samples share a label set): `procprobe_phase_duration_seconds`,
 *   `procprobe_phase_cpu_seconds`, `procprobe_phase_rss_peak_bytes` (NaN when no sample covered it);
 * - from the last sample whose read succeeded (else the last sample), labelled `pid` and stamped
 *   with its timestamp (seconds): `process_cpu_seconds_total` (counter), `process_resident_memory_bytes`,
 *   `process_virtual_memory_bytes`, `process_open_fds`, `process_threads`,
 *   `process_context_switches_total{kind="voluntary|involuntary"}` (counter),
 *   `process_start_time_seconds`, and `procprobe_gauge{gauge="<name>"}` per gauge.
 *
 * Each family is written once, contiguously: `# TYPE`, `# UNIT` (only when the name ends in
 * `_<unit>`), `# HELP`, then its samples; the text ends with `# EOF\n`. Values are floats
 * (`1.0`, `NaN`, `+Inf`); a counter whose value is NaN is left out (a counter total must be a
 * number), and a family left without samples is not written.
 *
 * Metric and label names are fixed here, never taken from a session: a session id, a phase or a
 * gauge name is only ever a label value, escaped as the format says (backslash, double quote,
 * line feed); every other character, CR, ESC and NUL included, is legal raw in a label value.
 */
import { F } from '../probe/layout.js';
import { R } from '../ring/layout.js';
import { SCHEMA_VERSION } from '../schema.js';
import type { ExportInput } from './types.js';
import { isLiveReading } from '../session/resources.js';

/** One sample of an OpenMetrics family. */
export interface OmSample {
  /** Appended to the family name (`_total` for counters, `_info` for info). */
  suffix: string;
  labels: [string, string][];
  value: number;
  /** ms since epoch; written in seconds. */
  timestampMs?: number;
}

/** One metric family. */
export interface OmFamily {
  name: string;
  type: 'gauge' | 'counter' | 'info';
  /** Never on an info family (OpenMetrics forbids it). */
  unit?: string;
  help: string;
  samples: OmSample[];
}

/** A float in OpenMetrics syntax: `NaN`, `+Inf`, `-Inf`, integers with `.0`, else round-trip decimal. */
export function omNumber(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  if (Number.isInteger(v) && Math.abs(v) < 1e21) return `${Object.is(v, -0) ? '-0' : String(v)}.0`;
  return String(v);
}

/** Escape a label value or HELP text: backslash, double quote, line feed. */
export function omEscape(text: string): string {
  return text.replace(/[\\"\n]/g, (c) => (c === '\\' ? '\\\\' : c === '"' ? '\\"' : '\\n'));
}

/** Render families as exposition text, ending with `# EOF\n`. Families without samples are skipped. */
export function renderOpenMetrics(families: readonly OmFamily[]): string {
  let out = '';
  for (const fam of families) {
    const samples = fam.type === 'counter' ? fam.samples.filter((s) => !Number.isNaN(s.value)) : fam.samples;
    if (samples.length === 0) continue;
    out += `# TYPE ${fam.name} ${fam.type}\n`;
    if (fam.unit !== undefined) out += `# UNIT ${fam.name} ${fam.unit}\n`;
    out += `# HELP ${fam.name} ${omEscape(fam.help)}\n`;
    for (const s of samples) {
      const labels = s.labels.length ? `{${s.labels.map(([k, v]) => `${k}="${omEscape(v)}"`).join(',')}}` : '';
      const ts = s.timestampMs !== undefined && Number.isFinite(s.timestampMs) ? ` ${omNumber(s.timestampMs / 1000)}` : '';
      out += `${fam.name}${s.suffix}${labels} ${omNumber(s.value)}${ts}\n`;
    }
  }
  return out + '# EOF\n';
}

const family = (type: 'gauge' | 'counter') => (name: string, help: string, unit?: string): OmFamily => ({ name, type, help, samples: [], ...(unit ? { unit } : {}) });
const gauge = family('gauge');
const counter = family('counter');

/** The families of one session (see the module doc). */
export function sessionFamilies(input: ExportInput): OmFamily[] {
  const { summary, samples } = input;
  const session: [string, string] = ['session', summary.id];
  const info: OmFamily = { name: 'procprobe_export', type: 'info', help: 'Schema version of this export (procprobe README, Machine-readable output).', samples: [] };
  info.samples.push({ suffix: '_info', labels: [session, ['schema_version', String(SCHEMA_VERSION)]], value: 1 });
  return [info, ...phaseFamilies(summary, session), ...processFamilies(samples, session)];
}

/** The session's duration and success, and each phase's duration, CPU and peak RSS. */
function phaseFamilies(summary: ExportInput['summary'], session: [string, string]): OmFamily[] {
  const duration = gauge('procprobe_session_duration_seconds', 'Wall time of the session.', 'seconds');
  duration.samples.push({ suffix: '', labels: [session], value: summary.durationMs / 1000 });
  const success = gauge('procprobe_session_success', '1 when the session finished successfully, else 0.');
  success.samples.push({ suffix: '', labels: [session], value: summary.success ? 1 : 0 });

  const phaseDuration = gauge('procprobe_phase_duration_seconds', 'Wall time of a phase.', 'seconds');
  const phaseCpu = gauge('procprobe_phase_cpu_seconds', 'CPU time (user + system) used during a phase.', 'seconds');
  const phaseRss = gauge('procprobe_phase_rss_peak_bytes', 'Peak resident set size during a phase.', 'bytes');
  const seen = new Map<string, number>();
  for (const p of summary.phases) seen.set(p.name, (seen.get(p.name) ?? 0) + 1);
  const nth = new Map<string, number>();
  for (const p of summary.phases) {
    const labels: [string, string][] = [session, ['phase', p.name]];
    if (seen.get(p.name)! > 1) {
      const n = (nth.get(p.name) ?? 0) + 1;
      nth.set(p.name, n);
      labels.push(['occurrence', String(n)]);
    }
    phaseDuration.samples.push({ suffix: '', labels, value: p.durationMs / 1000 });
    phaseCpu.samples.push({ suffix: '', labels, value: p.resources ? p.resources.cpuMs / 1000 : NaN });
    phaseRss.samples.push({ suffix: '', labels, value: p.resources ? p.resources.rssPeakBytes : NaN });
  }
  return [duration, success, phaseDuration, phaseCpu, phaseRss];
}

/** The process figures of the last sample that read a process, and the user gauges. */
function processFamilies(samples: ExportInput['samples'], session: [string, string]): OmFamily[] {
  const families: OmFamily[] = [];
  const { records, stride, count, gaugeNames } = samples;
  if (count === 0) return families;
  let last = count - 1;
  for (let i = count - 1; i >= 0; i--) {
    // The last live reading (a CLI session ends after its command was stopped, and a process
    // being torn down reads RSS 0: not its state).
    if (isLiveReading(records, i * stride)) {
      last = i;
      break;
    }
  }
  const base = last * stride;
  const field = (f: keyof typeof F): number => records[base + R.ROW + F[f]]!;
  const timestampMs = field('timestamp');
  const pid = field('pid');
  const labels: [string, string][] = Number.isFinite(pid) ? [session, ['pid', String(pid)]] : [session];
  const point = (value: number, suffix = '', extra: [string, string][] = []): OmSample => ({
    suffix,
    labels: [...labels, ...extra],
    value,
    ...(Number.isFinite(timestampMs) ? { timestampMs } : {}),
  });

  const cpu = counter('process_cpu_seconds', 'Total user and system CPU time spent.', 'seconds');
  cpu.samples.push(point((field('cpuUserUs') + field('cpuSystemUs')) / 1e6, '_total'));
  const rss = gauge('process_resident_memory_bytes', 'Resident memory size.', 'bytes');
  rss.samples.push(point(field('rssBytes')));
  const vms = gauge('process_virtual_memory_bytes', 'Virtual memory size.', 'bytes');
  vms.samples.push(point(field('vmsBytes')));
  const fds = gauge('process_open_fds', 'Number of open file descriptors.');
  fds.samples.push(point(field('openFds')));
  const threads = gauge('process_threads', 'Number of OS threads in the process.');
  threads.samples.push(point(field('threads')));
  const ctx = counter('process_context_switches', 'Context switches since the process started.');
  ctx.samples.push(point(field('voluntaryContextSwitches'), '_total', [['kind', 'voluntary']]));
  ctx.samples.push(point(field('involuntaryContextSwitches'), '_total', [['kind', 'involuntary']]));
  const start = gauge('process_start_time_seconds', 'Start time of the process since the Unix epoch.', 'seconds');
  start.samples.push(point(field('startTime') / 1000));
  families.push(cpu, rss, vms, fds, threads, ctx, start);

  const gauges = gauge('procprobe_gauge', 'Last value of a user gauge.');
  gaugeNames.forEach((name, k) => gauges.samples.push(point(records[base + R.GAUGES + k] ?? NaN, '', [['gauge', name]])));
  families.push(gauges);
  return families;
}

/** The session as OpenMetrics text (see the module doc). */
export function toOpenMetrics(input: ExportInput): string {
  return renderOpenMetrics(sessionFamilies(input));
}
