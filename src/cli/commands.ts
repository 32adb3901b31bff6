/** The history commands: sessions, show, stats, export, report. */
import { runStats } from '../analysis/pool.js';
import { exportSession } from '../export/index.js';
import { EXPORT_FORMATS, type ExportFormat } from '../export/types.js';
import { HistoryStore } from '../history/store.js';
import type { LoadedSession } from '../history/parse.js';
import { renderHtmlReport } from '../report/html.js';
import { UsageError } from '../errors.js';
import { num, parse, type Command } from './args.js';
import { checkOutputPath, writeOutput } from './files.js';
import { reportLabel } from './series-html.js';
import { phaseTable, processTable, samplerLines, sparklines } from './report.js';
import { escapeControls, fmtMs, middleTruncate, styleFor, table, writeJsonDocument, type Style } from './terminal.js';
import type { LabelStats } from '../analysis/worker.js';
import type { PerformanceStats, TrendVerdict } from '../analysis/types.js';
import { nodeSection } from './node-report.js';
import { TOTAL_STARTUP, totalStartupMs } from '../session/types.js';
import { DEFAULT_DATA_DIR } from '../validate.js';

function dataDir(values: Record<string, unknown>): string {
  return (values['data-dir'] as string | undefined) ?? DEFAULT_DATA_DIR;
}

function warn(warnings: string[]): void {
  for (const w of warnings) process.stderr.write(`procprobe: warning: ${escapeControls(w)}\n`); // they name files
}

/** Parse `<id> [options]`: the id and the option values (nothing read yet). */
function parseOne(cmd: Command, argv: string[]): { id: string; values: Record<string, unknown> } {
  const { values, positionals } = parse(cmd, argv);
  const [id, more] = positionals;
  if (id === undefined) throw new UsageError('missing session id (procprobe sessions lists them)');
  if (more !== undefined) throw new UsageError(`unexpected argument ${JSON.stringify(more)}`);
  return { id, values };
}

/** The one session `id` names in the data dir. */
async function loadSession(id: string, values: Record<string, unknown>): Promise<LoadedSession> {
  const store = new HistoryStore(dataDir(values));
  const ids = await store.sessionIds();
  // A unique prefix or suffix is enough, as with git.
  const matches = ids.filter((x) => x === id || x.startsWith(id) || x.endsWith(id));
  if (matches.length !== 1) throw new UsageError(matches.length === 0 ? `no session ${id} in ${store.dir}` : `${id} matches ${matches.length} sessions`);
  const loaded = await store.loadSession(matches[0]!);
  warn(loaded.warnings);
  if (!loaded.value) throw new UsageError(`session ${matches[0]} could not be read`);
  return loaded.value;
}

async function loadOne(cmd: Command, argv: string[]): Promise<{ s: LoadedSession; values: Record<string, unknown> }> {
  const { id, values } = parseOne(cmd, argv);
  return { s: await loadSession(id, values), values };
}

export async function sessionsCommand(argv: string[]): Promise<number> {
  const { values } = parse('sessions', argv, false);
  const store = new HistoryStore(dataDir(values));
  const { value, warnings } = await store.loadSummaries(0);
  warn(warnings);
  if (values.json) {
    writeJsonDocument({ sessions: value }); // an object, not a bare array, so it can carry schemaVersion
    return 0;
  }
  const style = styleFor(process.stdout);
  // Every text cell is what the data dir holds: escaped, as a shared data dir may hold anything.
  const rows = value.map((s) => [
    escapeControls(s.id),
    new Date(s.startTime).toISOString().replace('T', ' ').slice(0, 19),
    fmtMs(totalStartupMs(s)),
    s.incomplete ? 'incomplete' : s.success ? 'ok' : 'failed',
    escapeControls(String(s.metadata?.label ?? '')),
  ]);
  // The label goes last, left-aligned, cut in the middle to what is left of 100 columns (--json
  // has it whole); the result is coloured after the widths are known.
  const header = ['id', 'started (UTC)', 'startup', 'result', 'label'];
  const fixed = [0, 1, 2, 3].reduce((sum, c) => sum + Math.max(header[c]!.length, ...rows.map((r) => r[c]!.length)) + 2, 0);
  const room = Math.max(24, 100 - fixed);
  const colour = { incomplete: style.yellow, ok: style.green, failed: style.red } as Record<string, (t: string) => string>;
  for (const r of rows) {
    r[3] = colour[r[3]!]!(r[3]!);
    r[4] = middleTruncate(r[4]!, room);
  }
  process.stdout.write(`${rows.length ? table(header, rows, style, 'llrll') : `no sessions in ${escapeControls(store.dir)}`}\n`);
  return 0;
}

export async function showCommand(argv: string[]): Promise<number> {
  const { s, values } = await loadOne('show', argv);
  if (values.json) {
    writeJsonDocument(s.summary); // the session summary itself, as the index holds it
    return 0;
  }
  const style = styleFor(process.stdout);
  const sum = s.summary;
  process.stdout.write(`${style.bold(escapeControls(sum.id))}  ${escapeControls(String(sum.metadata?.label ?? ''))}  ${sum.incomplete ? style.yellow('incomplete') : sum.success ? style.green('ok') : style.red('failed')}\n`);
  const procs = processTable(sum, style);
  const node = nodeSection(sum, style);
  process.stdout.write(`${phaseTable(sum, style)}\n${procs ? `\n${procs}\n` : ''}${node ? `\n${node}\n` : ''}\n${sparklines(s.samples, style)}\n`);
  for (const line of samplerLines(sum, style)) process.stdout.write(`${line}\n`);
  for (const e of sum.errors) process.stdout.write(`${style.red('error')} ${e.operation ? `[${escapeControls(e.operation)}] ` : ''}${escapeControls(e.message)}\n`);
  return 0;
}

/**
 * `procprobe stats`: with `--label`, that command's phases, trend and suggestions; without, one row
 * per label, never one pool across different commands (their timings mean nothing together).
 */
export async function statsCommand(argv: string[]): Promise<number> {
  const { values } = parse('stats', argv, false);
  const days = values.days === undefined ? 7 : num('days', values.days, 0, 36500, false);
  const label = values.label as string | undefined;
  const result = await runStats({ dataDir: dataDir(values), days, now: Date.now(), ...(label !== undefined ? { label } : { byLabel: true }) });
  warn(result.warnings);
  if (label !== undefined && result.stats.sessionCount === 0) {
    process.stderr.write(`procprobe: no sessions labelled ${escapeControls(JSON.stringify(label))} in ${days} days in ${escapeControls(dataDir(values))}\n`);
    return 1;
  }
  if (label === undefined) return labelOverview(result.byLabel ?? [], days, values.json === true);
  if (values.json) {
    writeJsonDocument(result.stats);
    return 0;
  }
  labelDetail(result.stats, label, days);
  return 0;
}

function labelOverview(byLabel: LabelStats[], days: number, json: boolean): number {
  if (json) {
    writeJsonDocument({ days, labels: byLabel });
    return 0;
  }
  const style = styleFor(process.stdout);
  if (byLabel.length === 0) {
    process.stdout.write(`no sessions in ${days} days\n`);
    return 0;
  }
  const rows = byLabel.map(({ label, stats }) => [
    label === null ? style.dim('(no label)') : escapeControls(middleTruncate(label, 48)),
    String(stats.sessionCount),
    `${(stats.successRate * 100).toFixed(0)}%`,
    stats.totalStartup.count ? fmtMs(stats.totalStartup.median) : '-',
    stats.totalStartup.count ? fmtMs(stats.totalStartup.p90) : '-',
    trendCell(stats.totalTrend.verdict, style),
  ]);
  process.stdout.write(`${table(['label', 'n', 'ok', 'median', 'p90', 'trend'], rows, style, 'lrrrrl')}\n`);
  process.stdout.write(`${style.dim(`${days} days; the phases of one: procprobe stats --label '<label>' (--json has every label in full)`)}\n`);
  return 0;
}

function labelDetail(stats: PerformanceStats, label: string, days: number): void {
  const style = styleFor(process.stdout);
  const w = (line: string): boolean => process.stdout.write(`${line}\n`);
  w(`${stats.sessionCount} sessions in ${days} days labelled ${escapeControls(JSON.stringify(label))}: ${(stats.successRate * 100).toFixed(1)}% successful, ${stats.incompleteCount} incomplete`);
  const rows = [{ name: TOTAL_STARTUP, durations: stats.totalStartup, trend: stats.totalTrend }, ...stats.phases.filter((p) => p.name !== TOTAL_STARTUP)].map((p) => [
    escapeControls(p.name),
    String(p.durations.count),
    fmtMs(p.durations.mean),
    fmtMs(p.durations.median),
    fmtMs(p.durations.p90),
    fmtMs(p.durations.p99),
    fmtMs(p.durations.stddev),
    trendCell(p.trend.verdict, style),
  ]);
  w(table(['phase', 'n', 'mean', 'median', 'p90', 'p99', 'σ', 'trend'], rows, style));
  for (const [op, n] of Object.entries(stats.errorsByOperation)) w(`${style.red('errors')} ${escapeControls(op)}: ${n}`);
  for (const s of stats.suggestions) w(`${style.yellow('›')} ${escapeControls(s.message)}`); // they quote phase names
}

/** The verdict in words (the JSON keeps the key). */
function trendCell(verdict: TrendVerdict, style: Style): string {
  if (verdict === 'insufficient_data') return style.dim('too few runs');
  return verdict === 'degrading' ? style.red(verdict) : verdict === 'improving' ? style.green(verdict) : verdict;
}

export async function exportCommand(argv: string[]): Promise<number> {
  const { id, values } = parseOne('export', argv);
  // The arguments are checked before the data dir is read: a usage mistake costs no I/O.
  const format = values.format as string | undefined;
  if (format === undefined) throw new UsageError(`--format is required: one of ${EXPORT_FORMATS.join(', ')}`);
  if (!(EXPORT_FORMATS as readonly string[]).includes(format)) {
    throw new UsageError(`--format must be one of ${EXPORT_FORMATS.join(', ')}, got ${JSON.stringify(format)}`);
  }
  const maxPoints = values['max-points'] === undefined ? undefined : num('max-points', values['max-points'], 2, 10_000_000, true);
  const target = values.output as string | undefined;
  if (target !== undefined) checkOutputPath('-o', target);
  const s = await loadSession(id, values);
  const data = exportSession({ summary: s.summary, samples: s.samples }, format as ExportFormat, maxPoints === undefined ? {} : { maxPoints });
  if (target !== undefined) writeOutput('-o', target, data);
  else process.stdout.write(data);
  return 0;
}

export async function reportCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse('report', argv);
  const target = values.html as string | undefined;
  if (target === undefined) throw new UsageError('--html <file> is required');
  checkOutputPath('--html', target); // before the session is read, as export does
  const label = values.label as string | undefined;
  if (label !== undefined) {
    // A series: the label's latest runs, no single session.
    if (positionals.length > 0) throw new UsageError(`--label and a session id are exclusive: got ${JSON.stringify(positionals[0])}`);
    const last = values.last === undefined ? 10 : num('last', values.last, 1, 100_000, true);
    const { runs, warnings } = await reportLabel(target, dataDir(values), label, last);
    warn(warnings);
    process.stdout.write(`wrote ${escapeControls(target)} (${runs} runs)\n`);
    return 0;
  }
  if (values.last !== undefined) throw new UsageError('--last needs --label L: it picks how many of its runs');
  const { id } = parseOne('report', argv);
  const s = await loadSession(id, values);
  const { stats } = await runStats({ dataDir: dataDir(values), days: 3650, now: Date.now(), ...(typeof s.summary.metadata?.label === 'string' ? { label: s.summary.metadata.label } : {}) });
  writeOutput('--html', target, renderHtmlReport({ summary: s.summary, samples: s.samples, suggestions: stats.suggestions }));
  process.stdout.write(`wrote ${escapeControls(target)}\n`);
  return 0;
}
