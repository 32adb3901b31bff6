/**
 * `procprobe run` in CI: the baseline file it writes (`--save-baseline`) and gates on
 * (`--baseline`, exit 3 on a regression), and the files it writes for other tools (`--markdown`,
 * `--export-hyperfine`, `--export-bmf`). The statistics are analysis/gate.ts's, the file format
 * history/baseline.ts's, the documents export/runs.ts's; this module reads and writes the files
 * and renders the gate for the terminal.
 */
import { readFileSync } from 'node:fs';
import { gatePhase, type PhaseGate } from '../analysis/gate.js';
import { buildBaseline, machineDifferences, machineInfo, parseBaseline, type Baseline } from '../history/baseline.js';
import { toBmf, toHyperfineJson, toMarkdown, type RunsExportInput } from '../export/runs.js';
import { phaseDurationMs, type SessionSummary } from '../session/types.js';
import { UsageError } from '../errors.js';
import type { CiOptions, RunOptions } from './args.js';
import { isSystemError, writeOutputAtomic } from './files.js';
import { fmtChange } from '../units.js';
import { escapeControls, fmtMs, table, type Style } from './terminal.js';

/** Exit status of `run --baseline` when a gated phase regressed (0, 1 and 2 keep their meaning). */
export const EXIT_REGRESSION = 3;

export interface GateReport {
  phases: PhaseGate[];
  /** `field "baseline" → "now"` for each machine field that differs. */
  machineDifferences: string[];
  /** The baseline's command line when it is not this run's (a renamed script, other arguments). */
  baselineCommand: string[] | null;
  maxRegression: number;
  alpha: number;
  regression: boolean;
}

/**
 * Read and check `--baseline FILE` before any run: a missing or unreadable file is the command
 * line's mistake (UsageError), a file that is not a baseline a BaselineFormatError; and every
 * `--gate-phase` must be in it, else the gate could never compare it.
 */
export function loadBaseline(ci: CiOptions): Baseline | null {
  if (ci.baseline === undefined) return null;
  let text: string;
  try {
    text = readFileSync(ci.baseline, 'utf8');
  } catch (err) {
    if (isSystemError(err)) throw new UsageError(`--baseline ${ci.baseline}: ${err.message}`, { cause: err });
    throw err;
  }
  const baseline = parseBaseline(text, ci.baseline);
  const known = new Set(baseline.runs.flatMap((r) => r.phases.map((p) => p.name)));
  for (const phase of ci.gatePhases) {
    if (!known.has(phase)) throw new UsageError(`--gate-phase ${phase}: the baseline ${ci.baseline} has no such phase (it has ${[...known].join(', ')})`);
  }
  return baseline;
}

/** Each gated phase now against the baseline, and the machines' differences. */
export function runGate(o: RunOptions, baseline: Baseline, runs: readonly SessionSummary[]): GateReport {
  const { ci } = o;
  const gate = { maxRegression: ci.maxRegression, alpha: ci.alpha };
  const phases = ci.gatePhases.map((name) =>
    gatePhase(name, runs.map((s) => phaseDurationMs(s, name)), baseline.runs.map((r) => phaseDurationMs(r, name)), gate),
  );
  const command = [o.command, ...o.args];
  const sameCommand = command.length === baseline.command.length && command.every((a, i) => a === baseline.command[i]);
  return {
    phases,
    machineDifferences: machineDifferences(baseline.machine, machineInfo()),
    baselineCommand: sameCommand ? null : baseline.command,
    ...gate,
    regression: phases.some((p) => p.verdict === 'regression'),
  };
}

/** The terminal's view of the gate: a warning per problem, a table, the verdict line. */
export function renderGate(g: GateReport, baselinePath: string, style: Style): string {
  const lines: string[] = [];
  if (g.baselineCommand) lines.push(style.yellow(`! the baseline is of another command: ${escapeControls(g.baselineCommand.join(' '))}`));
  if (g.machineDifferences.length > 0) {
    lines.push(style.yellow(`! the baseline was measured on another machine: ${escapeControls(g.machineDifferences.join('; '))}`));
  }
  for (const p of g.phases) {
    if (p.smallestP >= g.alpha) {
      lines.push(style.yellow(`! ${escapeControls(p.phase)}: with ${p.currentCount} runs against ${p.baselineCount} the smallest possible p is ${p.smallestP.toPrecision(2)}, not below --alpha ${g.alpha}: this gate cannot fail; use more --runs`));
    }
  }
  const verdict = (p: PhaseGate): string =>
    p.verdict === 'regression' ? style.red('regression') : p.verdict === 'improvement' ? style.green('faster') : p.verdict === 'within_threshold' ? 'within threshold' : style.dim('no significant change');
  const level = `${((g.phases[0]?.ciLevel ?? 0) * 100).toFixed(0)}% CI`;
  const rows = g.phases.map((p) => [
    escapeControls(p.phase),
    `${fmtMs(p.baselineMedianMs)} → ${fmtMs(p.currentMedianMs)}`,
    fmtChange(p.change),
    `${fmtChange(p.ciLow)} … ${fmtChange(p.ciHigh)}`,
    Number.isFinite(p.p) ? p.p.toPrecision(2) : '-',
    verdict(p),
  ]);
  lines.push(style.bold(`vs baseline ${escapeControls(baselinePath)} (${g.phases[0]?.baselineCount ?? 0} runs)`));
  lines.push(table(['phase', 'median: baseline → now', 'change', level, 'p', 'verdict'], rows, style));
  const failed = g.phases.filter((p) => p.verdict === 'regression').map((p) => escapeControls(p.phase));
  lines.push(
    failed.length > 0
      ? style.red(`✗ regression in ${failed.join(', ')}: slower by more than ${(g.maxRegression * 100).toFixed(1)}% at p < ${g.alpha} (exit ${EXIT_REGRESSION})`)
      : style.green(`✓ no regression above ${(g.maxRegression * 100).toFixed(1)}% at p < ${g.alpha}`),
  );
  return lines.join('\n');
}

/** Write every file the CI flags asked for, each atomically. */
export function writeCiFiles(o: RunOptions, runs: readonly SessionSummary[], exits: readonly (string | undefined)[], gate: GateReport | null): void {
  const { ci } = o;
  if (ci.saveBaseline !== undefined) {
    const settings = {
      intervalMs: o.intervalMs, timeoutMs: o.timeoutMs, runs: o.runs, warmup: o.warmup, port: o.port ?? null, host: o.host,
      readyPattern: o.readyPattern?.source ?? null, healthUrl: o.healthUrl ?? null, requireEnv: o.requireEnv, cwd: o.cwd,
    };
    const doc = buildBaseline([o.command, ...o.args], o.label, settings, runs);
    writeOutputAtomic('--save-baseline', ci.saveBaseline, `${JSON.stringify(doc, null, 2)}\n`);
  }
  const input: RunsExportInput = { label: o.label, runs, exits, ...(gate ? { gate } : {}) };
  if (ci.markdown !== undefined) writeOutputAtomic('--markdown', ci.markdown, toMarkdown(input));
  if (ci.exportHyperfine !== undefined) writeOutputAtomic('--export-hyperfine', ci.exportHyperfine, toHyperfineJson([input]));
  if (ci.exportBmf !== undefined) writeOutputAtomic('--export-bmf', ci.exportBmf, toBmf([input]));
}
