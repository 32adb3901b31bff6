/**
 * `procprobe compare '<cmd A>' '<cmd B>' [...]`: the startups of several commands, interleaved in
 * ABBA order so that drift (another job's load, thermal throttling, a cache warming) hits each
 * alike, then per phase each command's distribution and its ratio to the first with a
 * confidence interval and p (analysis/gate.ts compareToFirst). Each run is a session in the data
 * dir, labelled with its command's name, exactly as `run` saves it.
 */
import { compareToFirst, type CommandPhase } from '../analysis/gate.js';
import { toBmf, toCompareMarkdown, toHyperfineJson, type RunsExportInput } from '../export/runs.js';
import { phaseNames } from '../session/phase-tree.js';
import { phaseDurationMs, type SessionSummary } from '../session/types.js';
import { UsageError } from '../errors.js';
import { fmtRatio } from '../units.js';
import { num, parse, runOptionsFrom, type FlagValues, type RunOptions } from './args.js';
import { writeOutputAtomic } from './files.js';
import { interruptOnSignals, runMonitor } from './run-command.js';
import { runOnce } from './run.js';
import { withHooks } from './hooks.js';
import { shellWords } from './shell-words.js';
import { escapeControls, fmtMs, Progress, styleFor, table, writeJsonDocument, type Style } from './terminal.js';

export interface CompareOptions {
  /** One RunOptions per command, its label the command's name. */
  commands: RunOptions[];
  runs: number;
  warmup: number;
  alpha: number;
  json: boolean;
}

/** `compare [options] '<cmd A>' '<cmd B>' [...]`: every mistake a UsageError before any run. */
export function parseCompare(argv: string[]): CompareOptions {
  const { values, positionals } = parse('compare', argv);
  const v = values as FlagValues;
  if (positionals.length < 2) throw new UsageError("compare needs two commands or more, each one string: procprobe compare 'node a.mjs' 'node b.mjs'");
  const names = (v.name as string[] | undefined) ?? [];
  if (names.length > positionals.length) throw new UsageError(`-n/--name given ${names.length} times for ${positionals.length} commands`);
  // compare's own flags are not run's: each run is one startup, and --alpha is not a gate's.
  const shared: FlagValues = { ...v, runs: undefined, warmup: undefined, alpha: undefined, name: undefined };
  const commands = positionals.map((text, i) => {
    const [command, ...args] = shellWords(text, `command ${i + 1}`);
    return runOptionsFrom(shared, command!, args, names[i] ?? text);
  });
  const labels = commands.map((c) => c.label);
  const twice = labels.find((l, i) => labels.indexOf(l) !== i);
  if (twice !== undefined) throw new UsageError(`two commands are named ${JSON.stringify(twice)}: give each its own -n NAME (it is their label in history)`);
  return {
    commands,
    runs: v.runs === undefined ? 10 : num('runs', v.runs, 1, 10_000, true),
    warmup: v.warmup === undefined ? 0 : num('warmup', v.warmup, 0, 10_000, true),
    alpha: v.alpha === undefined ? 0.01 : num('alpha', v.alpha, 0.000001, 0.5, false),
    json: v.json === true,
  };
}

/**
 * The order of the runs: round r runs the k commands forward when r is even, backward when it
 * is odd (A B, B A, A B...: ABBA for two). Each command then sits as often early as late in
 * every pair of rounds, so a linear drift adds the same to each command's mean.
 */
export function abbaOrder(k: number, rounds: number): number[] {
  const order: number[] = [];
  for (let r = 0; r < rounds; r++) for (let i = 0; i < k; i++) order.push(r % 2 === 0 ? i : k - 1 - i);
  return order;
}

interface Measured {
  runs: SessionSummary[];
  exits: (string | undefined)[];
}

export async function compareCommand(argv: string[]): Promise<number> {
  const c = parseCompare(argv);
  const first = c.commands[0]!;
  const style = styleFor(process.stdout);
  const progress = new Progress(!c.json);
  const pm = runMonitor(first); // every command samples alike: the shared flags are the first's
  const { interrupt, release } = interruptOnSignals();
  const measured: Measured[] = c.commands.map(() => ({ runs: [], exits: [] }));
  const slots = [...abbaOrder(c.commands.length, c.warmup).map((k) => ({ k, warmup: true })), ...abbaOrder(c.commands.length, c.runs).map((k) => ({ k, warmup: false }))];
  let failure: { name: string; reason: string } | null = null;
  try {
    for (const [i, slot] of slots.entries()) {
      if (interrupt.signal.aborted) break;
      const o = c.commands[slot.k]!;
      if (!c.json) process.stdout.write(style.dim(`${slot.warmup ? 'warmup' : 'run'} ${i + 1}/${slots.length}: ${escapeControls(o.label)}\n`));
      const n = slot.warmup ? Math.floor(i / c.commands.length) + 1 : measured[slot.k]!.runs.length + 1; // this command's run number
      const { value: r, failure: hook } = await withHooks(o, () => runOnce(o, pm, { run: n, warmup: slot.warmup, progress, interrupt: interrupt.signal }));
      if (!r || !r.ok || hook) {
        const reason = !r ? hook! : !r.ok ? (r.interrupted ? 'interrupted' : `${r.failedPhase} failed: ${r.reason ?? ''}`) : hook!;
        failure = { name: o.label, reason };
        break; // the ratios need every command's runs: a failed startup (or hook) ends the comparison
      }
      if (!r.session.saved) {
        failure = { name: o.label, reason: `the session was not saved to ${o.dataDir}: ${r.session.saveError?.message ?? 'the history writer failed'}` };
        break; // as run: a full disk fails every later run the same way
      }
      if (slot.warmup) continue;
      measured[slot.k]!.runs.push(r.session.toSummary());
      measured[slot.k]!.exits.push(r.childExit);
    }
  } finally {
    progress.clear();
    release();
    await pm.close();
  }
  if (failure) {
    process.stdout.write(`${style.red(`✗ ${escapeControls(failure.name)}: ${escapeControls(failure.reason)}`)}\n`);
    return 1;
  }
  const phases = comparePhases(c, measured);
  writeCompareFiles(c, measured, phases);
  if (c.json) writeJsonDocument(jsonReport(c, measured, phases));
  else process.stdout.write(`\n${renderCompare(c, phases, style)}\n`);
  return 0;
}

/** Per phase (in the tree order of the first command's runs), every command against the first. */
function comparePhases(c: CompareOptions, measured: Measured[]): { phase: string; commands: CommandPhase[] }[] {
  return phaseNames(measured.flatMap((m) => m.runs)).map((phase) => ({
    phase,
    commands: compareToFirst(phase, c.commands.map((o, k) => ({ name: o.label, values: measured[k]!.runs.map((s) => phaseDurationMs(s, phase)) })), c.alpha),
  }));
}

function renderCompare(c: CompareOptions, phases: { phase: string; commands: CommandPhase[] }[], style: Style): string {
  const firstName = escapeControls(c.commands[0]!.label);
  const rows = phases.flatMap(({ phase, commands }) =>
    commands.map((cp, i) => {
      const g = cp.vsFirst;
      const slower = g && g.change >= 0;
      const ratio = g ? `${fmtRatio(g.change)} ${slower ? 'slower' : 'faster'} [${fmtRatio(g.ciLow)} … ${fmtRatio(g.ciHigh)}]` : '';
      const marked = g?.verdict === 'regression' ? style.red(ratio) : g?.verdict === 'improvement' ? style.green(ratio) : ratio;
      return [i === 0 ? escapeControls(phase) : '', escapeControls(cp.name), `${fmtMs(cp.durations.mean)} ± ${fmtMs(cp.durations.stddev)}`, fmtMs(cp.durations.median), marked, g && Number.isFinite(g.p) ? g.p.toPrecision(2) : ''];
    }),
  );
  const level = `${((1 - 2 * c.alpha) * 100).toFixed(0)}% CI`;
  const order = abbaOrder(c.commands.length, Math.min(2, c.runs)).map((k) => String.fromCharCode(65 + k)).join(' ');
  return [
    style.bold(`procprobe compare — ${c.runs} runs of each, interleaved (${order} …)`),
    table(['phase', 'command', 'mean ± σ', 'median', `vs ${firstName} (ratio, ${level})`, 'p'], rows, style),
  ].join('\n');
}

function exportInputs(c: CompareOptions, measured: Measured[]): RunsExportInput[] {
  return c.commands.map((o, k) => ({ label: o.label, runs: measured[k]!.runs, exits: measured[k]!.exits }));
}

function writeCompareFiles(c: CompareOptions, measured: Measured[], phases: { phase: string; commands: CommandPhase[] }[]): void {
  const { ci } = c.commands[0]!;
  const inputs = exportInputs(c, measured);
  if (ci.markdown !== undefined) writeOutputAtomic('--markdown', ci.markdown, toCompareMarkdown(c.commands.map((o) => o.label), phases, c.runs));
  if (ci.exportHyperfine !== undefined) writeOutputAtomic('--export-hyperfine', ci.exportHyperfine, toHyperfineJson(inputs));
  if (ci.exportBmf !== undefined) writeOutputAtomic('--export-bmf', ci.exportBmf, toBmf(inputs));
}

/** `compare --json` (README "Machine-readable output"). */
function jsonReport(c: CompareOptions, measured: Measured[], phases: { phase: string; commands: CommandPhase[] }[]): object {
  return {
    commands: c.commands.map((o, k) => ({ name: o.label, command: [o.command, ...o.args], sessions: measured[k]!.runs.map((s) => s.id) })),
    order: abbaOrder(c.commands.length, c.runs).map((k) => c.commands[k]!.label),
    runs: c.runs,
    alpha: c.alpha,
    phases: phases.map(({ phase, commands }) => ({
      phase,
      commands: commands.map((cp) => ({
        name: cp.name,
        durations: cp.durations,
        ratio: cp.vsFirst ? 1 + cp.vsFirst.change : 1,
        ratioLow: cp.vsFirst ? 1 + cp.vsFirst.ciLow : null,
        ratioHigh: cp.vsFirst ? 1 + cp.vsFirst.ciHigh : null,
        p: cp.vsFirst?.p ?? null,
        verdict: cp.vsFirst?.verdict ?? null,
      })),
    })),
  };
}
