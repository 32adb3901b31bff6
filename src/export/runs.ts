/**
 * Exports of several runs of one command (`procprobe run --runs N`), for the tools a CI job
 * already has: hyperfine's JSON (its scripts and the dashboards that read it), Bencher Metric
 * Format (bencher.dev, `bencher run --adapter json`), and a Markdown table for a job summary
 * (`$GITHUB_STEP_SUMMARY`). Pure: data in, text out; the CLI writes the files.
 */
import { describe } from '../analysis/stats.js';
import type { Distribution } from '../analysis/types.js';
import type { CommandPhase, PhaseGate } from '../analysis/gate.js';
import { phaseNames } from '../session/phase-tree.js';
import { phaseDurationMs, TOTAL_STARTUP, type SessionSummary } from '../session/types.js';
import { fmtChange, fmtMs, fmtRatio } from '../units.js';

export interface RunsExportInput {
  /** The command line as run (hyperfine's `command`, BMF's benchmark name prefix). */
  label: string;
  /** The measured runs, successful ones (warmups left out). */
  runs: readonly SessionSummary[];
  /** The child's exit per run, as RunOutcome.childExit (`code 0`, `signal SIGTERM`), if it exited. */
  exits?: readonly (string | undefined)[];
  /** With `--baseline`: the comparison of each gated phase, and how the machines differ. */
  gate?: { phases: readonly PhaseGate[]; machineDifferences: readonly string[]; baselineCommand: readonly string[] | null; maxRegression: number; alpha: number };
}

interface PhaseDurations {
  name: string;
  values: number[];
  stats: Distribution;
}

function phases(input: RunsExportInput): PhaseDurations[] {
  return phaseNames(input.runs).map((name) => {
    const values = input.runs.map((s) => phaseDurationMs(s, name));
    return { name, values, stats: describe(values) };
  });
}

/** `code N` → N; a signal or a command still running when it was stopped → null (hyperfine writes null for a signal). */
function exitCode(exit: string | undefined): number | null {
  const m = /^code (\d+)$/.exec(exit ?? '');
  return m ? Number(m[1]) : null;
}

/** One command's result in hyperfine's schema: `times` and the statistics of total_startup in seconds. */
function hyperfineResult(input: RunsExportInput): object {
  const times = input.runs.map((s) => phaseDurationMs(s, TOTAL_STARTUP)).map((ms) => (Number.isNaN(ms) ? null : ms / 1e3));
  const d = describe(times.filter((t): t is number => t !== null));
  return {
    command: input.label,
    mean: d.mean,
    stddev: d.count > 1 ? d.stddev : null, // hyperfine writes null for one run
    median: d.median,
    min: d.min,
    max: d.max,
    times,
    exit_codes: input.runs.map((_, i) => exitCode(input.exits?.[i])),
  };
}

/**
 * hyperfine's `--export-json` document (checked against hyperfine 1.15's own output): one result
 * per command, as hyperfine writes for several. `user` and `system` are left out: procprobe
 * measures their sum (`cpuMs`), not the split, and a made-up split would mislead.
 */
export function toHyperfineJson(inputs: readonly RunsExportInput[]): string {
  return `${JSON.stringify({ results: inputs.map(hyperfineResult) }, null, 2)}\n`;
}

/**
 * Bencher Metric Format: one benchmark per command and phase, named `<label> <phase>`, with the `latency`
 * measure in nanoseconds (Bencher's built-in unit for it): value the median, lower_value and
 * upper_value the fastest and slowest run.
 */
export function toBmf(inputs: readonly RunsExportInput[]): string {
  const doc: Record<string, { latency: { value: number; lower_value: number; upper_value: number } }> = {};
  for (const input of inputs) {
    for (const p of phases(input)) {
      if (p.stats.count === 0) continue; // a phase that never succeeded has nothing to track
      doc[`${input.label} ${p.name}`] = { latency: { value: p.stats.median * 1e6, lower_value: p.stats.min * 1e6, upper_value: p.stats.max * 1e6 } };
    }
  }
  return `${JSON.stringify(doc, null, 2)}\n`;
}

/**
 * Text from outside (the command line, phase names) made inert in Markdown: GitHub renders
 * inline HTML and a `|` would split a table cell, so both are escaped; control characters, which
 * could end a row, are written as visible `\xHH` as on a terminal.
 */
function md(text: string): string {
  return text
    // eslint-disable-next-line no-control-regex
    .replace(/[\x00-\x1f\x7f-\x9f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)
    .replace(/[\\`*[\]<>|&]/g, (c) => `\\${c}`);
}

const VERDICTS: Record<PhaseGate['verdict'], string> = {
  regression: '❌ regression',
  within_threshold: 'within threshold',
  not_significant: 'no significant change',
  improvement: '✅ faster',
};

/** The Markdown report: a result line, then the gate's table (with --baseline) and the runs' table. */
export function toMarkdown(input: RunsExportInput): string {
  const lines = [`### procprobe: ${md(input.label)}`, ''];
  const g = input.gate;
  if (g) {
    const failed = g.phases.filter((p) => p.verdict === 'regression');
    lines.push(failed.length > 0 ? `**❌ regression** in ${failed.map((p) => md(p.phase)).join(', ')} (more than +${(g.maxRegression * 100).toFixed(1)}%, p < ${g.alpha})` : `**✅ no regression** (threshold +${(g.maxRegression * 100).toFixed(1)}%, α = ${g.alpha})`, '');
    if (g.baselineCommand) lines.push(`> ⚠️ the baseline is of another command: ${md(g.baselineCommand.join(' '))}`, '');
    if (g.machineDifferences.length > 0) lines.push(`> ⚠️ measured on another machine than the baseline: ${g.machineDifferences.map(md).join('; ')}`, '');
    lines.push('| phase | baseline | now | change | p | verdict |', '| --- | ---: | ---: | ---: | ---: | --- |');
    for (const p of g.phases) {
      const ci = `${fmtChange(p.change)} [${fmtChange(p.ciLow)}, ${fmtChange(p.ciHigh)}]`;
      lines.push(`| ${md(p.phase)} | ${fmtMs(p.baselineMedianMs)} | ${fmtMs(p.currentMedianMs)} | ${ci} | ${Number.isFinite(p.p) ? p.p.toPrecision(2) : '-'} | ${VERDICTS[p.verdict]} |`);
    }
    lines.push('', `Medians of ${g.phases[0]?.baselineCount ?? 0} baseline and ${g.phases[0]?.currentCount ?? 0} current runs; change: Hodges–Lehmann estimate with its ${((g.phases[0]?.ciLevel ?? 0) * 100).toFixed(0)}% interval; p: one-sided Mann–Whitney U.`, '');
  }
  lines.push(`${input.runs.length} run${input.runs.length === 1 ? '' : 's'}:`, '', '| phase | mean ± σ | min … max | median |', '| --- | ---: | ---: | ---: |');
  for (const p of phases(input)) {
    const d = p.stats;
    lines.push(`| ${md(p.name)} | ${fmtMs(d.mean)} ± ${fmtMs(d.stddev)} | ${fmtMs(d.min)} … ${fmtMs(d.max)} | ${fmtMs(d.median)} |`);
  }
  return `${lines.join('\n')}\n`;
}

/** `compare`'s Markdown: per phase, each command's mean ± σ and median, and its ratio to the first. */
export function toCompareMarkdown(names: readonly string[], table: readonly { phase: string; commands: readonly CommandPhase[] }[], runs: number): string {
  const first = names[0] ?? '';
  const lines = [`### procprobe compare: ${names.map(md).join(' vs ')}`, '', `${runs} runs of each, interleaved (ABBA order).`, ''];
  lines.push(`| phase | command | mean ± σ | median | vs ${md(first)} | p |`, '| --- | --- | ---: | ---: | ---: | ---: |');
  for (const { phase, commands } of table) {
    for (const c of commands) {
      const d = c.durations;
      const g = c.vsFirst;
      const ratio = g ? `${fmtRatio(g.change)} [${fmtRatio(g.ciLow)}, ${fmtRatio(g.ciHigh)}]` : '1';
      lines.push(`| ${md(phase)} | ${md(c.name)} | ${fmtMs(d.mean)} ± ${fmtMs(d.stddev)} | ${fmtMs(d.median)} | ${ratio} | ${g && Number.isFinite(g.p) ? g.p.toPrecision(2) : ''} |`);
    }
  }
  return `${lines.join('\n')}\n`;
}
