/**
 * `procprobe run`: warmups, runs, Ctrl-C, the report or one JSON document, the CI files
 * (cli/gate.ts), the exit status (0 started and healthy, 1 a phase failed, interrupted, or a
 * session could not be saved, 3 a gated phase regressed against --baseline).
 */
import { runStats } from '../analysis/pool.js';
import { median } from '../analysis/stats.js';
import { totalStartupMs } from '../session/types.js';
import { HistoryStore } from '../history/store.js';
import { PerformanceMonitor } from '../startup/performance-monitor.js';
import { adoptOrphans } from './daemon.js';
import type { RunOptions } from './args.js';
import { compare, phaseTable, processTable, samplerLines, renderComparison, runStatistics, runsTable, sparklines, type Comparison } from './report.js';
import { runOnce, type RunOutcome } from './run.js';
import { withHooks } from './hooks.js';
import { renderHtmlReport } from '../report/html.js';
import { writeOutput } from './files.js';
import { writeSeriesHtml } from './series-html.js';
import { EXIT_REGRESSION, loadBaseline, renderGate, runGate, writeCiFiles } from './gate.js';
import { nodeSection } from './node-report.js';
import { escapeControls, fmtBytes, fmtMs, Progress, styleFor, writeJsonDocument } from './terminal.js';
import { describeSources } from '../session/tree-sources.js';
import type { TreeAccount } from '../session/types.js';

export async function runCommand(o: RunOptions): Promise<number> {
  const baseline = loadBaseline(o.ci); // before any run: a wrong file must not cost the runs
  const out = o.json ? null : process.stdout;
  const style = styleFor(process.stdout);
  const progress = new Progress(!o.quiet && !o.json);
  const pm = runMonitor(o);
  const { interrupt, release } = interruptOnSignals();

  const started = Date.now();
  const outcomes: RunOutcome[] = [];
  let hookFailure: string | null = null;
  try {
    for (let i = 0; i < o.warmup + o.runs && !interrupt.signal.aborted; i++) {
      const warmup = i < o.warmup;
      const n = warmup ? i + 1 : i - o.warmup + 1;
      if (!o.quiet && out && o.warmup + o.runs > 1) out.write(style.dim(`${warmup ? 'warmup' : 'run'} ${n}/${warmup ? o.warmup : o.runs}\n`));
      const { value: r, failure } = await withHooks(o, () => runOnce(o, pm, { run: n, warmup, progress, interrupt: interrupt.signal }));
      if (r) outcomes.push(r);
      hookFailure = failure;
      if (!r || !r.ok || failure) break; // a failed startup (or hook) is reported, not repeated
      if (!r.session.saved) break; // a full disk fails every later run the same way
    }
  } finally {
    progress.clear();
    release();
  }
  const measured = outcomes.filter((r) => !r.warmup);
  const failed = outcomes.some((r) => !r.ok) || hookFailure !== null; // a failed startup or hook: no gate, no CI files
  const comparison = measured.length > 0 && !failed ? await historyComparison(o, measured, started).catch(() => null) : null;
  await pm.close();
  // The gate and the CI files need every run: after a failed one, only the report (exit 1).
  const summaries = measured.map((r) => r.session.toSummary());
  const gate = baseline && measured.length > 0 && !failed ? runGate(o, baseline, summaries) : null;
  if (measured.length > 0 && !failed) writeCiFiles(o, summaries, measured.map((r) => r.childExit), gate);
  // The page is written for a failed run too: it shows which phase failed and why.
  if (o.ci.html !== undefined && measured.length > 0) await writeRunHtml(o, o.ci.html, measured, comparison);

  if (o.json) {
    writeJsonDocument({ ...jsonReport(o, outcomes, comparison), gate, hookFailure });
  } else {
    printReport(o, outcomes, comparison, style);
    // --quiet: the gate's verdict line only (the last of its report), after the result line.
    if (gate) process.stdout.write(o.quiet ? `${renderGate(gate, o.ci.baseline!, style).split('\n').at(-1)}\n` : `\n${renderGate(gate, o.ci.baseline!, style)}\n`);
  }
  if (hookFailure !== null) process.stderr.write(`procprobe: ${escapeControls(hookFailure)}\n`);
  if (failed || outcomes.some((r) => !r.session.saved)) return 1;
  return gate?.regression ? EXIT_REGRESSION : 0;
}

/** `--html FILE`: one run's session page, or the series page of several. */
async function writeRunHtml(o: RunOptions, file: string, measured: RunOutcome[], comparison: Comparison | null): Promise<void> {
  if (measured.length > 1) return writeSeriesHtml('--html', file, o.dataDir, o.label, measured.map((r) => r.session.toSummary()));
  const { session } = measured[0]!;
  const samples = session.samples ?? { records: new Float64Array(0), stride: 0, count: 0, gaugeNames: [] };
  writeOutput('--html', file, renderHtmlReport({ summary: session.toSummary(), samples, suggestions: comparison?.suggestions ?? [] }));
}

/** The monitor of `run` and `compare`: the commands' process trees, not procprobe itself. */
export function runMonitor(o: RunOptions): PerformanceMonitor {
  adoptOrphans(); // a command that daemonizes stays in the tree (cli/daemon.ts)
  const pm = new PerformanceMonitor({
    dataDir: o.dataDir,
    pid: process.pid,
    tree: true,
    excludeRoot: true, // the command and its descendants, not procprobe itself
    resourceSamplingIntervalMs: o.intervalMs,
    nodeBootstrap: false,
  });
  pm.on('warning', (w) => process.stderr.write(`procprobe: ${escapeControls(w.message)}\n`));
  pm.on('error', (e) => process.stderr.write(`procprobe: ${escapeControls(e.message)}\n`));
  return pm;
}

/**
 * Ctrl-C (or SIGTERM): stop the child, save the session as incomplete, exit 1. A second Ctrl-C
 * exits at once. `release` removes the handlers.
 */
export function interruptOnSignals(): { interrupt: AbortController; release: () => void } {
  const interrupt = new AbortController();
  const onSigint = (): void => {
    if (interrupt.signal.aborted) process.exit(130);
    interrupt.abort();
    process.stderr.write('\nprocprobe: interrupted, stopping the command and saving the session…\n');
  };
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigint);
  return { interrupt, release: () => (process.off('SIGINT', onSigint), process.off('SIGTERM', onSigint)) };
}

async function historyComparison(o: RunOptions, measured: RunOutcome[], started: number): Promise<Comparison> {
  const store = new HistoryStore(o.dataDir);
  const { value } = await store.loadSummaries(0);
  const earlier = value
    .filter((s) => s.metadata?.label === o.label && s.success && s.startTime < started)
    .sort((a, b) => a.startTime - b.startTime)
    .map(totalStartupMs);
  const { stats } = await runStats({ dataDir: o.dataDir, days: 3650, now: Date.now(), label: o.label });
  const current = measured.map((r) => totalStartupMs(r.session.toSummary()));
  return compare(current, earlier, stats.totalTrend, stats.suggestions);
}


function printReport(o: RunOptions, outcomes: RunOutcome[], comparison: Comparison | null, style: ReturnType<typeof styleFor>): void {
  const w = (s: string): boolean => process.stdout.write(`${s}\n`);
  const last = outcomes[outcomes.length - 1];
  if (!last) return;
  const measured = outcomes.filter((r) => !r.warmup);
  const closing = measured.length > 1 && measured.every((r) => r.ok) ? seriesLine(o, measured, style) : resultLine(o, last, style);
  if (o.quiet) {
    w(closing);
    if (outcomes.some((r) => !r.session.saved)) w(savedLine(o, outcomes, style));
    return;
  }
  w('');
  w(`${style.bold('procprobe run')} — ${escapeControls(o.label)}  ${style.dim(`session ${last.session.id}`)}`);
  // With --runs the detail is one run's: say which, the series' figures follow.
  if (measured.length > 1) w(style.dim(`the last run (${measured.length} of ${measured.length}); all runs below`));
  w(phaseTable(last.session.toSummary(), style));
  const procs = processTable(last.session.toSummary(), style);
  if (procs) w(`\n${procs}`);
  const node = nodeSection(last.session.toSummary(), style);
  if (node) w(`\n${node}`);
  if (last.session.samples) {
    w('');
    w(sparklines(last.session.samples, style));
  }
  if (measured.length > 1) {
    w('');
    w(style.bold(`${measured.length} runs`));
    w(runsTable(runStatistics(measured.map((r) => r.session.toSummary())), style));
  }
  if (comparison) {
    w('');
    w(renderComparison(comparison, style));
  }
  if (last.output) {
    w('');
    w(style.dim('captured output (last 64 KiB):'));
    // As the command wrote it, colours and all: without --capture the same bytes reach the
    // terminal live, so escaping them here would protect nothing (it is the command the user ran).
    w(last.output.trimEnd());
  }
  const missed = missedLine(outcomes, style);
  w('');
  for (const line of samplerLines(last.session.toSummary(), style)) w(line);
  if (missed) w(missed);
  if (last.session.tree) for (const line of treeLines(last.session.tree)) w(style.dim(line));
  if (last.daemon) w(style.yellow(`! ${escapeControls(last.daemon.note)}${last.daemon.kept ? '; left running (--keep)' : '; stopped'}`));
  w(closing);
  w(savedLine(o, outcomes, style));
}

/** The tree's cgroup figures (where it had one) and where each tree figure came from. */
function treeLines(t: TreeAccount): string[] {
  const c = t.cgroup;
  const got = c && [
    Number.isFinite(c.cpuUs) ? `CPU ${fmtMs(c.cpuUs / 1e3)}` : '',
    Number.isFinite(c.memoryPeakBytes) ? `memory peak ${fmtBytes(c.memoryPeakBytes)}` : '',
    Number.isFinite(c.pidsPeak) ? `${c.pidsPeak} tasks at most` : '',
  ].filter(Boolean);
  return [...(got && got.length > 0 ? [`tree cgroup: ${got.join(' · ')}`] : []), `tree figures from: ${describeSources(t)}`];
}

/** Records the ring overwrote before a reader got them, when there were any (else null). */
function missedLine(outcomes: RunOutcome[], style: ReturnType<typeof styleFor>): string | null {
  let memory = 0;
  let file = 0;
  for (const r of outcomes) {
    memory += r.session.sampleAccount?.missedInMemory ?? 0;
    file += r.session.sampleAccount?.missedInFile ?? 0;
  }
  if (memory === 0 && file === 0) return null;
  const parts = [];
  if (file > 0) parts.push(`${file} never reached the history file (lost)`);
  if (memory > 0) parts.push(`${memory} were read back from the file (this process was too busy to drain them)`);
  return style.yellow(`! the sampler's ring overwrote records before they were read: ${parts.join('; ')}`);
}

/** Where the sessions went, or that they did not: a run whose history failed exits 1. */
function savedLine(o: RunOptions, outcomes: RunOutcome[], style: ReturnType<typeof styleFor>): string {
  const unsaved = outcomes.filter((r) => !r.session.saved);
  const last = outcomes[outcomes.length - 1]!;
  if (unsaved.length === 0) return style.dim(`saved to ${escapeControls(o.dataDir)} (procprobe show ${last.session.id})`);
  const planned = o.warmup + o.runs;
  const which = outcomes.length === 1 ? 'nothing was saved' : `${unsaved.length} of ${outcomes.length} sessions were not saved`;
  const stopped = outcomes.length < planned && last.ok ? ` (stopped after ${outcomes.length} of ${planned} runs)` : '';
  return style.red(`✗ ${which}${stopped} to ${escapeControls(o.dataDir)}: ${escapeControls(unsaved[0]!.session.saveError?.message ?? 'the history writer failed')}`);
}

function resultLine(o: RunOptions, r: RunOutcome, style: ReturnType<typeof styleFor>): string {
  if (r.interrupted) return style.yellow(`✗ interrupted: the command was stopped${r.session.saved ? ' and the session saved as incomplete' : ''}`);
  if (!r.ok) return style.red(`✗ ${r.failedPhase} failed: ${escapeControls(r.reason ?? '')}`); // it quotes the command, a URL, a process name
  return style.green(`✓ ${doneWhat(o, [r])} in ${fmtMs(totalStartupMs(r.session.toSummary()))}`);
}

/**
 * What successful runs did: a one-shot command (no --port, no --ready-pattern) is done when it
 * exits 0, it did not "start"; a server started, and was healthy when --health-url was checked.
 */
function doneWhat(o: RunOptions, runs: RunOutcome[]): string {
  if (o.port === undefined && o.readyPattern === undefined && runs.every((r) => r.childExit === 'code 0')) return 'exited 0';
  return `started${runs[0]!.session.toSummary().phases.some((p) => p.name === 'health_verification') ? ' and healthy' : ''}`;
}

/** The closing line of a successful series: its median and range, not its last run. */
function seriesLine(o: RunOptions, runs: RunOutcome[], style: ReturnType<typeof styleFor>): string {
  const totals = runs.map((r) => totalStartupMs(r.session.toSummary())).sort((a, b) => a - b);
  return style.green(`✓ ${runs.length} runs ${doneWhat(o, runs)} in ${fmtMs(median(totals))} median (${fmtMs(totals[0]!)} … ${fmtMs(totals.at(-1)!)})`);
}

/** The fields of `run --json` after schemaVersion (README "`procprobe run --json`" lists them). */
function jsonReport(o: RunOptions, outcomes: RunOutcome[], comparison: Comparison | null): object {
  const measured = outcomes.filter((r) => !r.warmup);
  return {
    command: [o.command, ...o.args],
    label: o.label,
    dataDir: o.dataDir,
    ok: outcomes.every((r) => r.ok),
    saved: outcomes.every((r) => r.session.saved),
    runs: outcomes.map((r) => ({
      sessionId: r.session.id,
      warmup: r.warmup,
      ok: r.ok,
      interrupted: r.interrupted,
      saved: r.session.saved,
      ...(r.session.saveError ? { saveError: r.session.saveError.message } : {}),
      ...(r.failedPhase ? { failedPhase: r.failedPhase, reason: r.reason } : {}),
      ...(r.childExit ? { childExit: r.childExit } : {}),
      ...(r.output !== undefined ? { output: r.output } : {}),
      ...(r.daemon ? { daemon: r.daemon } : {}),
      ...(r.orphansReaped.length > 0 ? { orphansReaped: r.orphansReaped } : {}),
      totalStartupMs: totalStartupMs(r.session.toSummary()),
      samples: r.session.samples?.count ?? 0,
      sampleAccount: r.session.sampleAccount ?? null,
      phases: r.session.timings,
      resources: r.session.resources ?? null,
      tree: r.session.tree ?? null,
      processes: r.session.processes?.list ?? [],
      processesDropped: r.session.processes?.dropped ?? 0,
      sampler: r.session.sampler ?? null,
      node: r.session.node ?? null,
    })),
    statistics: measured.length > 1 ? runStatistics(measured.map((r) => r.session.toSummary())) : null,
    comparison,
  };
}
