/** Command-line parsing: every mistake is a UsageError (one line, exit status 2). */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { DEFAULT_DATA_DIR } from '../validate.js';
import { UsageError } from '../errors.js';

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
}

type Options = NonNullable<ParseArgsConfig['options']>;

const RUN_OPTIONS: Options = {
  port: { type: 'string' },
  host: { type: 'string' },
  'health-url': { type: 'string' },
  'ready-pattern': { type: 'string' },
  'require-env': { type: 'string', multiple: true },
  cwd: { type: 'string' },
  interval: { type: 'string' },
  timeout: { type: 'string' },
  runs: { type: 'string' },
  warmup: { type: 'string' },
  keep: { type: 'boolean' },
  grace: { type: 'string' },
  'data-dir': { type: 'string' },
  label: { type: 'string' },
  json: { type: 'boolean' },
  quiet: { type: 'boolean' },
  capture: { type: 'boolean' },
};

/** Parse with node:util, turning its errors into one-line UsageErrors. */
export function parse(argv: string[], options: Options, positionals = true): ReturnType<typeof parseArgs> {
  try {
    return parseArgs({ args: argv, options, allowPositionals: positionals, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message.split('\n')[0]!.replace(/\. To specify.*$/, ''));
  }
}

export function num(name: string, raw: unknown, min: number, max: number, integer: boolean): number {
  const v = Number(raw);
  if (typeof raw !== 'string' || raw.trim() === '' || !Number.isFinite(v) || v < min || v > max || (integer && !Number.isInteger(v))) {
    const what = integer ? `an integer from ${min} to ${max}` : `a number from ${min} to ${max}`;
    throw new UsageError(`--${name} must be ${what}, got ${JSON.stringify(raw)}`);
  }
  return v;
}

/** `procprobe run [options] -- <command> [args...]` */
export function parseRun(argv: string[]): RunOptions {
  const dash = argv.indexOf('--');
  if (dash < 0 || dash === argv.length - 1) throw new UsageError('no command after --: procprobe run [options] -- <command> [args...]');
  const { values, positionals } = parse(argv.slice(0, dash), RUN_OPTIONS);
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])} before --`);
  const v = values as Record<string, string | boolean | string[] | undefined>;
  const [command, ...args] = argv.slice(dash + 1) as [string, ...string[]];
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
    label: (v.label as string | undefined) ?? [command, ...args].join(' '),
    json: v.json === true,
    quiet: v.quiet === true,
    capture: v.capture === true,
  };
}
