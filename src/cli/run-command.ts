/**
 * `procprobe run`: warmups, runs, Ctrl-C, the report or one JSON document, the exit status
 * (0 started and healthy, 1 a phase failed, interrupted, or a session could not be saved).
 */
import { runStats } from '../analysis/pool.js';
import { totalStartupMs } from '../session/types.js';
import { HistoryStore } from '../history/store.js';
import { PerformanceMonitor } from '../startup/performance-monitor.js';
import { adoptOrphans } from './daemon.js';
import type { RunOptions } from './args.js';
import { compare, phaseTable, processTable, renderComparison, runStatistics, runsTable, sparklines, type Comparison } from './report.js';
import { runOnce, type RunOutcome } from './run.js';
import { nodeSection } from './node-report.js';
import { escapeControls, fmtMs, Progress, styleFor, writeJsonDocument } from './terminal.js';

export async function runCommand(o: RunOptions): Promise<number> {
  const out = o.json ? null : process.stdout;
  const style = styleFor(process.stdout);
  const progress = new Progress(!o.quiet && !o.json);
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

  // Ctrl-C: stop the child, save the session as incomplete, exit 1. A second Ctrl-C exits at once.
  const interrupt = new AbortController();
  const onSigint = (): void => {
    if (interrupt.signal.aborted) process.exit(130);
    interrupt.abort();
    process.stderr.write('\nprocprobe: interrupted, stopping the command and saving the session…\n');
  };
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigint);

  const started = Date.now();
  const outcomes: RunOutcome[] = [];
  try {
    for (let i = 0; i < o.warmup + o.runs && !interrupt.signal.aborted; i++) {
      const warmup = i < o.warmup;
      const n = warmup ? i + 1 : i - o.warmup + 1;
      if (!o.quiet && out && o.warmup + o.runs > 1) out.write(style.dim(`${warmup ? 'warmup' : 'run'} ${n}/${warmup ? o.warmup : o.runs}\n`));
      const r = await runOnce(o, pm, { run: n, warmup, progress, interrupt: interrupt.signal });
      outcomes.push(r);
      if (!r.ok) break; // a failed startup is reported, not repeated
      if (!r.session.saved) break; // a full disk fails every later run the same way
    }
  } finally {
    progress.clear();
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigint);
  }
  const measured = outcomes.filter((r) => !r.warmup);
  const failed = outcomes.find((r) => !r.ok);
  const comparison = measured.length > 0 && !failed ? await historyComparison(o, measured, started).catch(() => null) : null;
  await pm.close();

  if (o.json) {
    writeJsonDocument(jsonReport(o, outcomes, comparison));
  } else {
    printReport(o, outcomes, comparison, style);
  }
  return failed || outcomes.some((r) => !r.session.saved) ? 1 : 0;
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
  if (o.quiet) {
    w(resultLine(o, last, style));
    if (outcomes.some((r) => !r.session.saved)) w(savedLine(o, outcomes, style));
    return;
  }
  w('');
  w(`${style.bold('procprobe run')} — ${escapeControls(o.label)}  ${style.dim(`session ${last.session.id}`)}`);
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
  if (missed) w(missed);
  if (last.daemon) w(style.yellow(`! ${escapeControls(last.daemon.note)}${last.daemon.kept ? '; left running (--keep)' : '; stopped'}`));
  w(resultLine(o, last, style));
  w(savedLine(o, outcomes, style));
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
  const summary = r.session.toSummary();
  const total = fmtMs(totalStartupMs(summary));
  // A one-shot command (no --port, no --ready-pattern) is done when it exits 0: it did not "start".
  if (o.port === undefined && o.readyPattern === undefined && r.childExit === 'code 0') return style.green(`✓ exited 0 in ${total}`);
  return style.green(`✓ started${summary.phases.some((p) => p.name === 'health_verification') ? ' and healthy' : ''} in ${total}`);
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
      totalStartupMs: totalStartupMs(r.session.toSummary()),
      samples: r.session.samples?.count ?? 0,
      sampleAccount: r.session.sampleAccount ?? null,
      phases: r.session.timings,
      resources: r.session.resources ?? null,
      processes: r.session.processes?.list ?? [],
      processesDropped: r.session.processes?.dropped ?? 0,
      node: r.session.node ?? null,
    })),
    statistics: measured.length > 1 ? runStatistics(measured.map((r) => r.session.toSummary())) : null,
    comparison,
  };
}
