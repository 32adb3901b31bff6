/**
 * The help text, once per command: `procprobe <command> --help` prints that command's entry, and
 * `procprobe --help` is built from the entries' usage and summary lines, so the two cannot drift.
 * The options come from args.ts's FLAGS, the table each parser is built from, so help cannot list an
 * option the parser refuses or miss one it accepts (test/cli.help.test.ts checks against its own list).
 */
import { COMMANDS, FLAGS, type Command, type Flag } from './args.js';

export { COMMANDS, type Command } from './args.js';

interface CommandHelp {
  /** After `procprobe `. */
  usage: string;
  summary: string;
  /** A paragraph after the options (which come from args.ts's FLAGS). */
  notes?: string;
}

const HELP: Record<Command, CommandHelp> = {
  run: {
    usage: 'run [options] -- <command> [args...]',
    summary: 'start a command, time its startup phases',
    notes:
      'Without --port or --ready-pattern, a command is ready when it exits 0 (one-shot commands),\nor when one of its Node processes listens (node hooks: the instant is its own).\nExit status: 0 started (and healthy), 1 a phase failed, interrupted, or the session could not be saved, 2 bad usage\n(or a --baseline file that is not one), 3 a gated phase regressed against --baseline.',
  },
  compare: {
    usage: "compare [options] '<cmd A>' '<cmd B>' [...]",
    summary: 'startups of several commands, interleaved, with ratios',
    notes:
      "Each command is one string, split into words as a shell would (quotes, backslashes) but never run by one.\nRuns alternate A B, B A, ... so that drift hits every command alike. Exit status: 0, 1 a startup failed, 2 bad usage.",
  },
  sessions: { usage: 'sessions [--data-dir D] [--json]', summary: 'list the sessions in history' },
  show: { usage: 'show <id> [--data-dir D] [--json]', summary: "one session's report (an id prefix is enough)" },
  stats: { usage: 'stats [--days N] [--label L] [--json]', summary: 'per label: count, median, trend; with --label: its phases and suggestions' },
  export: { usage: 'export <id> --format F [-o file] [--max-points N]', summary: 'one session as a file for other tools' },
  report: { usage: 'report <id> --html out.html | report --label L [--last N] --html out.html', summary: 'a self-contained HTML report of a session, or of a series of runs' },
  doctor: { usage: 'doctor [--json]', summary: 'which probe tier loads and why; kernel features' },
  bench: { usage: 'bench [--quick] [--json]', summary: "this machine's overhead, against baselines" },
};

/** `-o, --output FILE`: how a flag is written in the help. */
function flagText(name: string, f: Flag): string {
  return `${f.short ? `-${f.short}, ` : ''}--${name}${f.arg ? ` ${f.arg}` : ''}`;
}

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
  const flags = Object.entries(FLAGS[cmd]).map(([name, f]): [string, string] => [flagText(name, f), f.help]);
  const options = columns([...flags, ['-h, --help', 'this help']], '  ');
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
