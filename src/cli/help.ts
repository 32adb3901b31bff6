/**
 * The help text, once per command: `procprobe <command> --help` prints that command's entry, and
 * `procprobe --help` is built from the entries' usage and summary lines, so the two cannot drift.
 * The options listed here are the ones each command's parser accepts (test/cli.help.test.ts).
 */
import { EXPORT_FORMATS } from '../export/types.js';

export const COMMANDS = ['run', 'sessions', 'show', 'stats', 'export', 'report', 'doctor', 'bench'] as const;
export type Command = (typeof COMMANDS)[number];

interface CommandHelp {
  /** After `procprobe `. */
  usage: string;
  summary: string;
  /** [flag with its argument, what it does (default)]. */
  options: [string, string][];
  /** A paragraph after the options. */
  notes?: string;
}

const DATA_DIR: [string, string] = ['--data-dir DIR', 'history location (default .procprobe)'];
const JSON_OUT: [string, string] = ['--json', 'print one JSON document (with schemaVersion) instead of the table'];

const HELP: Record<Command, CommandHelp> = {
  run: {
    usage: 'run [options] -- <command> [args...]',
    summary: 'start a command, time its startup phases',
    options: [
      ['--port N', 'the port the command listens on: checked free before, waited for after'],
      ['--host H', 'host for --port (default 127.0.0.1)'],
      ['--health-url URL', 'wait until it answers 2xx (retries with backoff)'],
      ['--ready-pattern RE', 'ready when a line of output matches RE'],
      ['--require-env NAME', 'fail environment_validation unless NAME is set (repeatable)'],
      ['--cwd DIR', 'working directory of the command'],
      ['--interval MS', 'sampling interval (default 1)'],
      ['--timeout MS', 'give up on startup after MS (default 30000)'],
      ['--runs N', 'measured startups (default 1; statistics over the runs)'],
      ['--warmup N', 'startups before them, saved but not measured (default 0)'],
      ['--keep', 'leave the command running (default: SIGTERM, then SIGKILL after --grace)'],
      ['--grace MS', 'time between SIGTERM and SIGKILL (default 3000)'],
      DATA_DIR,
      ['--label L', 'name in history (default: the command line)'],
      ['--capture', "capture the command's output instead of passing it through"],
      ['--json', 'print one JSON document (the command\'s stdout goes to stderr)'],
      ['--quiet', 'print one line'],
    ],
    notes: 'Without --port or --ready-pattern, a command is ready when it exits 0 (one-shot commands).\nExit status: 0 started (and healthy), 1 a phase failed or interrupted, 2 bad usage.',
  },
  sessions: { usage: 'sessions [--data-dir D] [--json]', summary: 'list the sessions in history', options: [DATA_DIR, JSON_OUT] },
  show: {
    usage: 'show <id> [--data-dir D] [--json]',
    summary: "one session's report (an id prefix is enough)",
    options: [DATA_DIR, JSON_OUT],
  },
  stats: {
    usage: 'stats [--days N] [--label L] [--json]',
    summary: 'stats, trend and suggestions over history',
    options: [['--days N', 'sessions started in the last N days (default 7)'], ['--label L', 'only the sessions with this label'], DATA_DIR, JSON_OUT],
  },
  export: {
    usage: 'export <id> --format F [-o file] [--max-points N]',
    summary: 'one session as a file for other tools',
    options: [
      ['--format F', `required: ${EXPORT_FORMATS.join(' | ')}`],
      ['-o, --output FILE', 'write to FILE (default: stdout)'],
      ['--max-points N', 'at most N points per chrome-trace counter series (default: all)'],
      DATA_DIR,
    ],
  },
  report: { usage: 'report <id> --html out.html', summary: 'a self-contained HTML report', options: [['--html FILE', 'the file to write (required)'], DATA_DIR] },
  doctor: { usage: 'doctor [--json]', summary: 'which probe tier loads and why; kernel features', options: [JSON_OUT] },
  bench: {
    usage: 'bench [--quick] [--json]',
    summary: "this machine's overhead, against baselines",
    options: [['--quick', 'measure for 1 s instead of 5'], JSON_OUT],
  },
};

export function isCommand(name: string): name is Command {
  return (COMMANDS as readonly string[]).includes(name);
}

function columns(rows: [string, string][], indent: string): string {
  const width = Math.max(...rows.map(([a]) => a.length));
  return rows.map(([a, b]) => `${indent}${a.padEnd(width)}  ${b}`).join('\n');
}

/** `procprobe <command> --help`. */
export function commandHelp(cmd: Command): string {
  const h = HELP[cmd];
  const options = columns([...h.options, ['-h, --help', 'this help']], '  ');
  return `usage: procprobe ${h.usage}\n\n${h.summary}\n\noptions:\n${options}\n${h.notes ? `\n${h.notes}\n` : ''}`;
}

/** `procprobe --help`: every command's usage and summary. */
export function topLevelHelp(): string {
  const rows = COMMANDS.map((c): [string, string] => [`procprobe ${HELP[c].usage}`, HELP[c].summary]);
  return `procprobe — sample a process tree at 1 kHz and profile its startup

usage:
${columns(rows, '  ')}
  procprobe --version

procprobe <command> --help lists that command's options.
`;
}

/**
 * Whether argv (after the command) asks for help. Only what comes before `--` counts: after it,
 * `--help` belongs to the command being profiled (`procprobe run -- node --help`).
 */
export function wantsHelp(argv: readonly string[]): boolean {
  const dash = argv.indexOf('--');
  const own = dash >= 0 ? argv.slice(0, dash) : argv;
  return own.includes('--help') || own.includes('-h');
}
