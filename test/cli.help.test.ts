/**
 * `procprobe <command> --help` / `-h` for every command, `procprobe help <command>` and
 * `procprobe --help`, with the real binary. The options each command must list are written out
 * here from the parsers' option tables (src/cli/args.ts, commands.ts, doctor.ts, bench.ts), not
 * read from the help module, so a help text that forgets an option fails.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { cleanup, newDataDir, runCli } from './helpers/cli.js';

const T = 60_000;
const FORMATS = ['chrome-trace', 'csv', 'json', 'msgpack', 'openmetrics'];
const OPTIONS: Record<string, string[]> = {
  run: [
    '--port', '--host', '--health-url', '--ready-pattern', '--require-env', '--cwd', '--interval', '--timeout',
    '--runs', '--warmup', '--keep', '--grace', '--data-dir', '--label', '--capture', '--json', '--quiet', '--no-node-hooks', '--no-cgroup', '--node-esm-hooks',
    '--prepare', '--cleanup', '--save-baseline', '--baseline', '--max-regression', '--alpha', '--gate-phase', '--markdown', '--export-hyperfine', '--export-bmf', '--html',
  ],
  compare: [
    '--runs', '--warmup', '-n, --name', '--alpha', '--port', '--host', '--health-url', '--ready-pattern', '--cwd', '--interval', '--timeout',
    '--grace', '--prepare', '--cleanup', '--data-dir', '--markdown', '--export-hyperfine', '--export-bmf', '--json',
  ],
  sessions: ['--data-dir', '--json'],
  show: ['--data-dir', '--json'],
  stats: ['--days', '--label', '--data-dir', '--json'],
  export: ['--format', '-o, --output', '--max-points', '--data-dir'],
  report: ['--html', '--label', '--last', '--data-dir'],
  doctor: ['--json'],
  bench: ['--quick', '--json'],
};

/** The option lines of a help text (indented, starting with a dash). */
function optionLines(text: string): string[] {
  const at = text.indexOf('\noptions:\n');
  expect(at, text).toBeGreaterThan(0);
  return text.slice(at).split('\n').filter((l) => /^ {2}-/.test(l)).map((l) => l.trim());
}

afterAll(cleanup);

describe('procprobe <command> --help', () => {
  it.each(Object.keys(OPTIONS))('%s --help and -h: its usage and every option it accepts on stdout, exit 0', async (cmd) => {
    const [long, short] = await Promise.all([runCli([cmd, '--help']), runCli([cmd, '-h'])]);
    for (const r of [long, short]) {
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toBe('');
    }
    expect(short.stdout).toBe(long.stdout);
    const text = long.stdout;
    expect(text.startsWith(`usage: procprobe ${cmd}`)).toBe(true);
    const lines = optionLines(text);
    for (const opt of [...OPTIONS[cmd]!, '-h, --help']) {
      expect(lines.some((l) => l.startsWith(`${opt} `)), `${cmd}: ${opt}\n${text}`).toBe(true);
    }
    expect(lines).toHaveLength(OPTIONS[cmd]!.length + 1); // nothing listed that the parser refuses
    if (cmd === 'export') for (const f of FORMATS) expect(text).toContain(f);
  }, T);

  it('--help wins over missing arguments (show and export need an id; run needs --)', async () => {
    for (const args of [['show', '--help'], ['export', '--format', 'csv', '--help'], ['run', '--port', '3000', '--help']]) {
      const r = await runCli(args);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
      expect(r.stdout.startsWith(`usage: procprobe ${args[0]}`)).toBe(true);
    }
  }, T);

  it('after --, --help belongs to the profiled command', async () => {
    const dir = newDataDir();
    // node -e ... -- --help: the script sees --help in its argv and exits 0 only then.
    const script = "process.exit(process.argv.includes('--help') ? 0 : 5)";
    const r = await runCli(['run', '--json', '--data-dir', dir, '--', 'node', '-e', script, '--', '--help']);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.runs[0].childExit).toBe('code 0');
  }, T);
});

describe('procprobe --help and procprobe help <command>', () => {
  it('--help lists every command with the usage line of its own help, exit 0', async () => {
    const top = await runCli(['--help']);
    expect(top.code, top.stderr).toBe(0);
    for (const cmd of Object.keys(OPTIONS)) {
      const own = (await runCli([cmd, '--help'])).stdout.split('\n')[0]!.replace(/^usage: /, '');
      expect(top.stdout.split('\n').some((l) => l.trim().startsWith(`${own}  `)), `${cmd}: ${own}`).toBe(true);
    }
    expect(top.stdout).toContain('procprobe <command> --help');
  }, T);

  it('help <command> is <command> --help; help <unknown> is bad usage', async () => {
    const [a, b] = await Promise.all([runCli(['help', 'stats']), runCli(['stats', '--help'])]);
    expect(a.code).toBe(0);
    expect(a.stdout).toBe(b.stdout);
    const bad = await runCli(['help', 'nope']);
    expect(bad.code).toBe(2);
    expect(bad.stdout).toBe('');
    expect(bad.stderr).toBe('procprobe: no command "nope" (procprobe --help)\n');
  }, T);
});
