#!/usr/bin/env node
/**
 * procprobe: profile any command's startup, report it, compare it with history, export it.
 * Exit status: 0 success, 1 a phase (or the command) failed, 2 bad usage.
 */
import { ProcprobeError } from '../errors.js';
import { parseRun, UsageError } from './args.js';
import { benchCommand } from './bench.js';
import { exportCommand, reportCommand, sessionsCommand, showCommand, statsCommand } from './commands.js';
import { doctorCommand } from './doctor.js';
import { runCommand } from './run-command.js';

const HELP = `procprobe — sample a process tree at 1 kHz and profile its startup

usage:
  procprobe run [options] -- <command> [args...]   start a command, time its startup phases
  procprobe sessions [--data-dir D] [--json]        list the sessions in history
  procprobe show <id> [--data-dir D] [--json]       one session's report
  procprobe stats [--days N] [--label L] [--json]   stats, trend and suggestions over history
  procprobe export <id> --format F [-o file] [--max-points N]
                                                    F: chrome-trace | csv | json | msgpack | openmetrics
  procprobe report <id> --html out.html             a self-contained HTML report
  procprobe doctor                                  which probe tier loads and why; kernel features
  procprobe bench [--quick]                         this machine's overhead, against baselines

run options:
  --port N             the port the command listens on: checked free before, waited for after
  --host H             host for --port (default 127.0.0.1)
  --health-url URL     wait until it answers 2xx (retries with backoff)
  --ready-pattern RE   ready when a line of output matches RE
  --require-env NAME   fail environment_validation unless NAME is set (repeatable)
  --cwd DIR            working directory of the command
  --interval MS        sampling interval (default 1)
  --timeout MS         give up on startup after MS (default 30000)
  --runs N, --warmup N repeat the startup (statistics over the runs)
  --keep               leave the command running (default: SIGTERM, then SIGKILL after --grace)
  --grace MS           time between SIGTERM and SIGKILL (default 3000)
  --data-dir DIR       history location (default .procprobe)
  --label L            name in history (default: the command line)
  --capture            capture the command's output instead of passing it through
  --json               print one JSON document; --quiet prints one line

Without --port or --ready-pattern, a command is ready when it exits 0 (one-shot commands).
`;

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case 'run':
      return runCommand(parseRun(rest));
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
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(HELP);
      return cmd === undefined ? 2 : 0;
    case '--version':
    case '-v': {
      const { readFileSync } = await import('node:fs');
      const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
      process.stdout.write(`${pkg.version}\n`);
      return 0;
    }
    default:
      throw new UsageError(`unknown command ${JSON.stringify(cmd)} (procprobe --help)`);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof UsageError) {
      process.stderr.write(`procprobe: ${err.message}\n`);
      process.exitCode = 2;
    } else if (err instanceof ProcprobeError) {
      process.stderr.write(`procprobe: ${err.message} (${err.code})\n`);
      process.exitCode = 1;
    } else {
      process.stderr.write(`procprobe: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exitCode = 1;
    }
  },
);
