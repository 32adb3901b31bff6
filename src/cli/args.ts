/** Command-line parsing: every mistake is a UsageError (one line, exit status 2). */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { DEFAULT_DATA_DIR } from '../validate.js';
import { UsageError } from '../errors.js';
import { EXPORT_FORMATS } from '../export/types.js';
import { TOTAL_STARTUP } from '../session/types.js';
import { checkOutputPath } from './files.js';
import { shellJoin } from './shell-words.js';

export interface RunOptions {
  command: string;
  args: string[];
  port: number | undefined;
  host: string;
  healthUrl: string | undefined;
  readyPattern: RegExp | undefined;
  requireEnv: string[];
  cwd: string;
  intervalMs: number;
  timeoutMs: number;
  runs: number;
  warmup: number;
  keep: boolean;
  graceMs: number;
  dataDir: string;
  label: string;
  json: boolean;
  quiet: boolean;
  capture: boolean;
  /** Shell commands before and after each run (cli/hooks.ts), not timed. */
  prepare: string | undefined;
  cleanup: string | undefined;
  ci: CiOptions;
  /** Preload node-hooks into the command's Node processes (--no-node-hooks: false). */
  nodeHooks: boolean;
  /** Give the command's tree a cgroup of its own where the machine allows (src/cgroup/; --no-cgroup: false). */
  cgroup: boolean;
  /** Also time ES modules with module.register loader hooks (--node-esm-hooks; their thread is costly). */
  nodeEsmHooks: boolean;
}

/** The CI flags of `run` (cli/gate.ts): a baseline to write or to gate on, and files for other tools. */
export interface CiOptions {
  saveBaseline: string | undefined;
  baseline: string | undefined;
  /** A fraction: `--max-regression 5%` is 0.05. */
  maxRegression: number;
  alpha: number;
  gatePhases: string[];
  markdown: string | undefined;
  exportHyperfine: string | undefined;
  exportBmf: string | undefined;
  /** `--html FILE`: the session's report, or with --runs the series page. */
  html: string | undefined;
}

export const COMMANDS = ['run', 'compare', 'sessions', 'show', 'stats', 'export', 'report', 'doctor', 'bench'] as const;
export type Command = (typeof COMMANDS)[number];

/** One command-line flag: what the parser accepts and what `--help` says, in one place. */
export interface Flag {
  type: 'string' | 'boolean';
  /** The argument's name in the help (`--port N`). */
  arg?: string;
  short?: string;
  multiple?: boolean;
  /** What it does, with its default. */
  help: string;
}

const DATA_DIR: Record<string, Flag> = { 'data-dir': { type: 'string', arg: 'DIR', help: `history location (default ${DEFAULT_DATA_DIR})` } };
const JSON_OUT: Record<string, Flag> = { json: { type: 'boolean', help: 'print one JSON document (with schemaVersion) instead of the table' } };

/** run's flags, in the order `--help` lists them (help.ts renders them from FLAGS). */
const RUN_FLAGS: Record<string, Flag> = {
  port: { type: 'string', arg: 'N', help: 'the port the command listens on: checked free before, waited for after' },
  host: { type: 'string', arg: 'H', help: 'host for --port (default 127.0.0.1)' },
  'health-url': { type: 'string', arg: 'URL', help: 'wait until it answers 2xx (retries with backoff)' },
  'ready-pattern': { type: 'string', arg: 'RE', help: 'ready when a line of output matches RE' },
  'require-env': { type: 'string', arg: 'NAME', multiple: true, help: 'fail environment_validation unless NAME is set (repeatable)' },
  cwd: { type: 'string', arg: 'DIR', help: 'working directory of the command' },
  interval: { type: 'string', arg: 'MS', help: 'sampling interval (default 1)' },
  timeout: { type: 'string', arg: 'MS', help: 'give up on startup after MS (default 30000)' },
  runs: { type: 'string', arg: 'N', help: 'measured startups (default 1; statistics over the runs)' },
  warmup: { type: 'string', arg: 'N', help: 'startups before them, saved but not measured (default 0)' },
  keep: { type: 'boolean', help: 'leave the command running (default: SIGTERM, then SIGKILL after --grace)' },
  grace: { type: 'string', arg: 'MS', help: 'time between SIGTERM and SIGKILL (default 3000)' },
  ...DATA_DIR,
  label: { type: 'string', arg: 'L', help: 'name in history (default: the command line)' },
  capture: { type: 'boolean', help: "capture the command's output instead of passing it through" },
  json: { type: 'boolean', help: "print one JSON document (the command's stdout goes to stderr)" },
  quiet: { type: 'boolean', help: 'print one line' },
  'no-node-hooks': { type: 'boolean', help: "don't preload procprobe's module-timing hooks into Node processes (NODE_OPTIONS)" },
  'no-cgroup': { type: 'boolean', help: "don't give the command a cgroup of its own (the tree's exact CPU, memory and process peaks, where permitted)" },
  'node-esm-hooks': { type: 'boolean', help: 'also time ES modules, by module.register loader hooks (a thread of their own: 2x the startup of a 300-module app)' },
  prepare: { type: 'string', arg: 'CMD', help: 'a shell command before each run, not timed (e.g. clear a cache)' },
  cleanup: { type: 'string', arg: 'CMD', help: 'a shell command after each run, not timed' },
  'save-baseline': { type: 'string', arg: 'FILE', help: 'write the runs as a baseline file (JSON) for --baseline' },
  baseline: { type: 'string', arg: 'FILE', help: 'compare with this baseline: exit 3 on a regression' },
  'max-regression': { type: 'string', arg: 'P%', help: 'with --baseline: a slowdown above P percent can fail (default 5%)' },
  alpha: { type: 'string', arg: 'A', help: 'with --baseline: significance level of the one-sided test (default 0.01)' },
  'gate-phase': { type: 'string', arg: 'NAME', multiple: true, help: 'with --baseline: a phase to gate on (repeatable; default total_startup)' },
  markdown: { type: 'string', arg: 'FILE', help: 'write the result as a Markdown table (e.g. $GITHUB_STEP_SUMMARY)' },
  'export-hyperfine': { type: 'string', arg: 'FILE', help: "write the runs in hyperfine's --export-json format" },
  'export-bmf': { type: 'string', arg: 'FILE', help: 'write the runs in Bencher Metric Format (JSON)' },
  html: { type: 'string', arg: 'FILE', help: 'write the HTML report: of the session, or with --runs of the series' },
};

/** run's flags that `compare` shares: how each command is made ready and sampled, and the files. */
const SHARED_WITH_COMPARE = ['port', 'host', 'health-url', 'ready-pattern', 'cwd', 'interval', 'timeout', 'grace', 'prepare', 'cleanup', 'data-dir', 'markdown', 'export-hyperfine', 'export-bmf'];

/** Every command's flags, in the order `--help` lists them (help.ts renders them from here). */
export const FLAGS: Record<Command, Record<string, Flag>> = {
  run: RUN_FLAGS,
  compare: {
    runs: { type: 'string', arg: 'N', help: 'measured startups of each command (default 10), interleaved ABBA' },
    warmup: { type: 'string', arg: 'N', help: 'startups of each command before them, not measured (default 0)' },
    name: { type: 'string', arg: 'NAME', short: 'n', multiple: true, help: 'the name of each command in turn (default: the command line; the history label)' },
    alpha: { type: 'string', arg: 'A', help: 'the ratio\'s confidence interval is at 1 − 2A (default 0.01: 98 %)' },
    ...Object.fromEntries(SHARED_WITH_COMPARE.map((n) => [n, RUN_FLAGS[n]!])),
    ...JSON_OUT,
  },
  sessions: { ...DATA_DIR, ...JSON_OUT },
  show: { ...DATA_DIR, ...JSON_OUT },
  stats: {
    days: { type: 'string', arg: 'N', help: 'sessions started in the last N days (default 7)' },
    label: { type: 'string', arg: 'L', help: 'only the sessions with this label' },
    ...DATA_DIR,
    ...JSON_OUT,
  },
  export: {
    format: { type: 'string', arg: 'F', help: `required: ${EXPORT_FORMATS.join(' | ')}` },
    output: { type: 'string', arg: 'FILE', short: 'o', help: 'write to FILE (default: stdout)' },
    'max-points': { type: 'string', arg: 'N', help: 'at most N points per chrome-trace counter series (default: all)' },
    ...DATA_DIR,
  },
  report: {
    html: { type: 'string', arg: 'FILE', help: 'the file to write (required)' },
    label: { type: 'string', arg: 'L', help: "instead of <id>: a page of the label's latest runs (distribution, order, history)" },
    last: { type: 'string', arg: 'N', help: 'with --label: how many of its latest runs (default 10)' },
    ...DATA_DIR,
  },
  doctor: { ...JSON_OUT },
  bench: { quick: { type: 'boolean', help: 'measure for 1 s instead of 5' }, ...JSON_OUT },
};

/**
 * Parse `cmd`'s flags with node:util (strict: an unknown flag is an error), turning its errors
 * into one-line UsageErrors. `positionals`: the command takes arguments (an id).
 */
export function parse(cmd: Command, argv: string[], positionals = true): ReturnType<typeof parseArgs> {
  const options: NonNullable<ParseArgsConfig['options']> = {};
  for (const [name, f] of Object.entries(FLAGS[cmd])) options[name] = { type: f.type, ...(f.short ? { short: f.short } : {}), ...(f.multiple ? { multiple: true } : {}) };
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: positionals, strict: true, tokens: true });
  } catch (err) {
    throw new UsageError((err as Error).message.split('\n')[0]!.replace(/\. To specify.*$/, ''));
  }
  rejectRepeats(cmd, parsed.tokens ?? []);
  return parsed;
}

/**
 * A flag that takes one value, given twice (`--runs 2 --runs 3`): node:util keeps the last one
 * silently, which hides a mistake in a long command line. Booleans repeat harmlessly and
 * `multiple` flags are lists, so only single-value flags are refused.
 */
function rejectRepeats(cmd: Command, tokens: NonNullable<ReturnType<typeof parseArgs>['tokens']>): void {
  const seen = new Map<string, string | undefined>();
  for (const t of tokens) {
    if (t.kind !== 'option') continue;
    const f = FLAGS[cmd][t.name];
    if (f === undefined || f.type !== 'string' || f.multiple) continue;
    if (seen.has(t.name)) {
      const flag = f.short ? `-${f.short}/--${t.name}` : `--${t.name}`;
      throw new UsageError(`${flag} given twice (${JSON.stringify(seen.get(t.name))} and ${JSON.stringify(t.value)}): it takes one value`);
    }
    seen.set(t.name, t.value);
  }
}

/**
 * Plain decimal, as a person writes it: an optional minus, digits without a leading zero, and for
 * a non-integer a fraction. Number() would also take 0x50, 0b11, 0o7, 1e3, " 5 ", "" and
 * Infinity, each a different number from the one a reader of the command line sees (or none).
 */
const DECIMAL_INTEGER = /^-?(?:0|[1-9]\d*)$/;
const DECIMAL = /^-?(?:(?:0|[1-9]\d*)(?:\.\d+)?|\.\d+)$/;

/** The value of `--name` as a number in [min, max]: an integer in plain decimal when `integer`, else a plain decimal fraction. */
export function num(name: string, raw: unknown, min: number, max: number, integer: boolean): number {
  const form = integer ? DECIMAL_INTEGER : DECIMAL;
  const v = typeof raw === 'string' && form.test(raw) ? Number(raw) : NaN;
  if (!(v >= min && v <= max)) {
    const what = integer ? `a decimal integer from ${min} to ${max}` : `a decimal number from ${min} to ${max}`;
    throw new UsageError(`--${name} must be ${what}, got ${JSON.stringify(raw)}`);
  }
  return v;
}

/** `procprobe run [options] -- <command> [args...]` */
export function parseRun(argv: string[]): RunOptions {
  const dash = argv.indexOf('--');
  if (dash < 0 || dash === argv.length - 1) throw new UsageError('no command after --: procprobe run [options] -- <command> [args...]');
  const { values, positionals } = parse('run', argv.slice(0, dash));
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])} before --`);
  const [command, ...args] = argv.slice(dash + 1) as [string, ...string[]];
  return runOptionsFrom(values as FlagValues, command, args);
}

/** Parsed flag values, by name (node:util's parseArgs result). */
export type FlagValues = Record<string, string | boolean | string[] | undefined>;

/**
 * The RunOptions of one command from the flags of `run` or `compare` (which shares run's
 * readiness and sampling flags): each flag that is not given takes its default.
 */
export function runOptionsFrom(v: FlagValues, command: string, args: string[], label?: string): RunOptions {
  let readyPattern: RegExp | undefined;
  if (v['ready-pattern'] !== undefined) {
    try {
      readyPattern = new RegExp(v['ready-pattern'] as string);
    } catch (err) {
      throw new UsageError(`--ready-pattern is not a valid regular expression: ${(err as Error).message}`);
    }
  }
  const healthUrl = v['health-url'] as string | undefined;
  if (healthUrl !== undefined && !/^https?:\/\/[^/]+/.test(healthUrl)) {
    throw new UsageError(`--health-url must be an http(s) URL, got ${JSON.stringify(healthUrl)}`);
  }
  if (v['node-esm-hooks'] === true && v['no-node-hooks'] === true) throw new UsageError('--node-esm-hooks needs the node hooks: it cannot go with --no-node-hooks');
  for (const name of (v['require-env'] as string[] | undefined) ?? []) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new UsageError(`--require-env must be a variable name, got ${JSON.stringify(name)}`);
  }
  return {
    command,
    args,
    port: v.port === undefined ? undefined : num('port', v.port, 1, 65535, true),
    host: (v.host as string | undefined) ?? '127.0.0.1',
    healthUrl,
    readyPattern,
    requireEnv: (v['require-env'] as string[] | undefined) ?? [],
    cwd: (v.cwd as string | undefined) ?? process.cwd(),
    intervalMs: v.interval === undefined ? 1 : num('interval', v.interval, 0.1, 60_000, false),
    timeoutMs: v.timeout === undefined ? 30_000 : num('timeout', v.timeout, 1, 86_400_000, false),
    runs: v.runs === undefined ? 1 : num('runs', v.runs, 1, 10_000, true),
    warmup: v.warmup === undefined ? 0 : num('warmup', v.warmup, 0, 10_000, true),
    keep: v.keep === true,
    graceMs: v.grace === undefined ? 3000 : num('grace', v.grace, 0, 600_000, false),
    dataDir: (v['data-dir'] as string | undefined) ?? DEFAULT_DATA_DIR,
    label: label ?? (v.label as string | undefined) ?? shellJoin([command, ...args]),
    json: v.json === true,
    quiet: v.quiet === true,
    capture: v.capture === true,
    nodeHooks: v['no-node-hooks'] !== true,
    cgroup: v['no-cgroup'] !== true,
    nodeEsmHooks: v['node-esm-hooks'] === true,
    prepare: v.prepare as string | undefined,
    cleanup: v.cleanup as string | undefined,
    ci: parseCi(v),
  };
}

/** `--max-regression`: a percentage, the `%` optional (`5%`, `5`, `2.5%`). */
function percent(raw: unknown): number {
  const text = typeof raw === 'string' && raw.endsWith('%') ? raw.slice(0, -1) : raw;
  try {
    return num('max-regression', text, 0, 1000, false) / 100;
  } catch {
    throw new UsageError(`--max-regression must be a percentage from 0% to 1000% (e.g. 5%), got ${JSON.stringify(raw)}`);
  }
}

/** The CI flags, each output path checked before any run (a typo must not cost the whole job). */
function parseCi(v: Record<string, string | boolean | string[] | undefined>): CiOptions {
  const path = (flag: string): string | undefined => {
    const p = v[flag] as string | undefined;
    if (p !== undefined) checkOutputPath(`--${flag}`, p);
    return p;
  };
  const baseline = v.baseline as string | undefined;
  if (baseline === undefined) {
    for (const flag of ['max-regression', 'alpha', 'gate-phase']) if (v[flag] !== undefined) throw new UsageError(`--${flag} needs --baseline FILE: it sets how the runs are compared with it`);
  }
  if (baseline === '') throw new UsageError('--baseline needs a file name, got ""');
  const gatePhases = (v['gate-phase'] as string[] | undefined) ?? [TOTAL_STARTUP];
  return {
    saveBaseline: path('save-baseline'),
    baseline,
    maxRegression: v['max-regression'] === undefined ? 0.05 : percent(v['max-regression']),
    alpha: v.alpha === undefined ? 0.01 : num('alpha', v.alpha, 0.000001, 0.5, false),
    gatePhases: [...new Set(gatePhases)],
    markdown: path('markdown'),
    exportHyperfine: path('export-hyperfine'),
    exportBmf: path('export-bmf'),
    html: path('html'),
  };
}
