#!/usr/bin/env node
/**
 * procprobe: profile any command's startup, report it, compare it with history, export it.
 * Exit status: 0 success; 1 a phase (or the command) failed, its session could not be saved, or
 * the system refused (a data dir that is not a directory, a deleted cwd, a full disk); 2 bad usage
 * (a --baseline file that is not one too); 3 `run --baseline` found a regression.
 * Every expected failure is one line on stderr; a stack trace means a bug in procprobe.
 */
import { BaselineFormatError, ProcprobeError, UsageError } from '../errors.js';
import { parseRun } from './args.js';
import { benchCommand } from './bench.js';
import { compareCommand } from './compare.js';
import { exportCommand, reportCommand, sessionsCommand, showCommand, statsCommand } from './commands.js';
import { doctorCommand } from './doctor.js';
import { isSystemError, missingCwd } from './files.js';
import { commandHelp, isCommand, topLevelHelp, wantsHelp } from './help.js';
import { readNativeSwitch } from '../probe/native.js';
import { procprobeVersion } from '../schema.js';
import { escapeControls } from './terminal.js';
import { runCommand } from './run-command.js';

/**
 * `procprobe … | head`: once the reader is gone, what is left to print is dropped, not thrown as
 * an unhandled 'error' (a stack trace, exit 1), and the run goes on: its session is still saved
 * and the exit status is still the command's.
 */
function dropOutputOnClosedPipe(): void {
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
  });
}

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  // Before the command's own parser, which would refuse --help or a missing <id>.
  if (cmd !== undefined && isCommand(cmd) && wantsHelp(rest)) {
    process.stdout.write(commandHelp(cmd));
    return 0;
  }
  if (cmd !== undefined && isCommand(cmd)) {
    // Checked before the command starts, so that none of them fails later in a less clear way.
    const gone = missingCwd();
    if (gone !== null) {
      process.stderr.write(`procprobe: ${gone}\n`);
      return 1;
    }
    const { problem } = readNativeSwitch(); // the library runs on the fallback and warns; a command line is refused
    if (problem !== null) throw new UsageError(problem);
  }
  switch (cmd) {
    case 'run':
      return runCommand(parseRun(rest));
    case 'compare':
      return compareCommand(rest);
    case 'sessions':
      return sessionsCommand(rest);
    case 'show':
      return showCommand(rest);
    case 'stats':
      return statsCommand(rest);
    case 'export':
      return exportCommand(rest);
    case 'report':
      return reportCommand(rest);
    case 'doctor':
      return doctorCommand(rest);
    case 'bench':
      return benchCommand(rest);
    case 'help': {
      // `procprobe help <command>`, as git has it.
      const [topic] = rest;
      if (topic === undefined) process.stdout.write(topLevelHelp());
      else if (isCommand(topic)) process.stdout.write(commandHelp(topic));
      else throw new UsageError(`no command ${JSON.stringify(topic)} (procprobe --help)`);
      return 0;
    }
    case undefined:
    case '--help':
    case '-h':
      process.stdout.write(topLevelHelp());
      return cmd === undefined ? 2 : 0;
    case '--version':
    case '-v':
      process.stdout.write(`${procprobeVersion()}\n`);
      return 0;
    default:
      throw new UsageError(`unknown command ${JSON.stringify(cmd)} (procprobe --help)`);
  }
}

dropOutputOnClosedPipe();
main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    // Messages quote arguments, file names and what the data dir holds: escaped, one line each.
    if (err instanceof UsageError) {
      process.stderr.write(`procprobe: ${escapeControls(err.message)}\n`);
      process.exitCode = 2;
    } else if (err instanceof BaselineFormatError) {
      // The command line named a file that is not a baseline: its mistake, as a usage error is.
      process.stderr.write(`procprobe: ${escapeControls(err.message)} (${err.code})\n`);
      process.exitCode = 2;
    } else if (err instanceof ProcprobeError) {
      process.stderr.write(`procprobe: ${escapeControls(err.message)} (${err.code})\n`);
      process.exitCode = 1;
    } else if (isSystemError(err)) {
      // The system refused (ENOSPC, EIO...): expected, and its message says what; no stack.
      process.stderr.write(`procprobe: ${escapeControls(err.message)}\n`);
      process.exitCode = 1;
    } else {
      // A bug's stack: escaped line by line, so it stays readable.
      const text = err instanceof Error ? (err.stack ?? err.message) : String(err);
      process.stderr.write(`procprobe: ${text.split('\n').map(escapeControls).join('\n')}\n`);
      process.exitCode = 1;
    }
  },
);
