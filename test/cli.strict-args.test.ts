/**
 * The CLI reads numbers as a person reads them and takes a single-value flag once. Each refused
 * form (hex, binary, octal, exponent, spaces, a fraction where an integer is meant, a leading zero
 * or plus, Infinity, nothing) and each repeated flag is spawned against the real binary: exit 2,
 * one line naming the flag and the value, and no side effect (the command would write a marker
 * file, and the data dir would be created). The accepted forms are checked by what they did: the
 * sessions the data dir holds and the sampling interval in each session file's header, decoded
 * here with msgpackr.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { unpackMultiple } from 'msgpackr';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, dataDirIds, newDataDir, oneLineFailure, readIndex, runCli } from './helpers/cli.js';
import { tempDir } from './helpers/temp-dirs.js';

afterEach(cleanup);
const T = 60_000;

/** A command that writes `marker` when it runs: proof that procprobe started it. */
const writes = (marker: string): string[] => ['node', '-e', `require('fs').writeFileSync(${JSON.stringify(marker)}, 'ran')`];

/** `procprobe run <flags> -- <marker writer>` must be refused: exit 2, one line matching `re`, nothing run or created. */
async function refusedRun(flags: string[], re: RegExp): Promise<void> {
  const marker = join(tempDir('procprobe-args-'), 'marker');
  const dir = newDataDir();
  const r = await runCli(['run', ...flags, '--data-dir', dir, '--', ...writes(marker)]);
  expect(r.code, r.stdout + r.stderr).toBe(2);
  expect(oneLineFailure(r)).toMatch(re);
  expect(existsSync(marker), 'the command must not have run').toBe(false);
  expect(existsSync(dir), 'nothing created').toBe(false);
}

const quoted = (v: string): string => JSON.stringify(v).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('numbers are plain decimal', () => {
  // Each form Number() would take (or turn into 0) and a reader would not read as the same port.
  const integerForms = ['0x50', '0b11', '0o7', '80.0', '8e1', ' 80', '80 ', '+80', '080', '', 'Infinity', '80abc', '1_000'];
  it.each(integerForms)('--port %j is refused (an integer is meant)', async (v) => {
    await refusedRun(['--port', v], new RegExp(`^procprobe: --port must be a decimal integer from 1 to 65535, got ${quoted(v)}$`));
  }, T);

  const fractionForms = [' 5 ', '5 ', '1e3', '5E-1', '0x10', 'Infinity', 'NaN', '1.', '+1', '', '-0.5', '00.5'];
  it.each(fractionForms)('--interval %j is refused (a decimal fraction is meant)', async (v) => {
    await refusedRun([`--interval=${v}`], new RegExp(`^procprobe: --interval must be a decimal number from 0.1 to 60000, got ${quoted(v)}$`));
  }, T);

  // Every other numeric flag of every command, each with a form the old parser took.
  it.each([
    ['--runs', '0b11', 'integer'],
    ['--warmup', '1e0', 'integer'],
    ['--timeout', '1e3', 'number'],
    ['--grace', '0x10', 'number'],
  ])('run %s %j is refused', async (flag, v, what) => {
    await refusedRun([flag, v], new RegExp(`^procprobe: ${flag} must be a decimal ${what} from .*, got ${quoted(v)}$`));
  }, T);

  it('stats --days 0x7 and export --max-points 1e3 are refused before any reading', async () => {
    const dir = newDataDir();
    const days = await runCli(['stats', '--days', '0x7', '--data-dir', dir]);
    expect(days.code).toBe(2);
    expect(oneLineFailure(days)).toBe('procprobe: --days must be a decimal number from 0 to 36500, got "0x7"');
    const points = await runCli(['export', 'any-id', '--format', 'csv', '--max-points', '1e3', '--data-dir', dir]);
    expect(points.code).toBe(2);
    expect(oneLineFailure(points)).toBe('procprobe: --max-points must be a decimal integer from 2 to 10000000, got "1e3"');
    expect(existsSync(dir)).toBe(false);
  }, T);

  it('accepted forms do what they say: --interval 0.5 and .5 sample at 0.5 ms, --runs 2 --warmup 1 make 3 sessions', async () => {
    const dir = newDataDir();
    const r = await runCli(['run', '--interval', '0.5', '--timeout', '20000.5', '--grace', '0', '--runs', '2', '--warmup', '1', '--quiet', '--data-dir', dir, '--', 'node', '-e', '1']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const labels = readIndex(dir).map((s) => s.metadata.label).sort();
    expect(labels).toEqual(['node -e 1', 'node -e 1', 'node -e 1 (warmup)']);
    const dot = newDataDir();
    const r2 = await runCli(['run', '--interval', '.5', '--quiet', '--data-dir', dot, '--', 'node', '-e', '1']);
    expect(r2.code, r2.stdout + r2.stderr).toBe(0);
    for (const d of [dir, dot]) {
      for (const f of readdirSync(join(d, 'sessions'))) {
        const header = (unpackMultiple(readFileSync(join(d, 'sessions', f))) as { t?: string; intervalMs?: number }[]).find((v) => v?.t === 'H');
        expect(header?.intervalMs, f).toBe(0.5);
      }
    }
    expect(dataDirIds(dot).sessions).toHaveLength(1);
  }, T);
});

describe('a single-value flag given twice is refused, naming it', () => {
  // Every flag that takes one value, per command (from the help's option list), each with two values it would accept alone.
  const cases: [string, string, string, string][] = [
    ['run', 'port', '8001', '8002'],
    ['run', 'host', '127.0.0.1', 'localhost'],
    ['run', 'health-url', 'http://127.0.0.1:1/a', 'http://127.0.0.1:1/b'],
    ['run', 'ready-pattern', 'a', 'b'],
    ['run', 'cwd', '/', '/tmp'],
    ['run', 'interval', '1', '2'],
    ['run', 'timeout', '1000', '2000'],
    ['run', 'runs', '2', '3'],
    ['run', 'warmup', '0', '1'],
    ['run', 'grace', '0', '1'],
    ['run', 'label', 'a', 'b'],
    ['run', 'data-dir', 'DIR', 'DIR2'],
    ['sessions', 'data-dir', 'DIR', 'DIR2'],
    ['show', 'data-dir', 'DIR', 'DIR2'],
    ['stats', 'days', '1', '2'],
    ['stats', 'label', 'a', 'b'],
    ['stats', 'data-dir', 'DIR', 'DIR2'],
    ['export', 'format', 'csv', 'json'],
    ['export', 'max-points', '10', '20'],
    ['export', 'data-dir', 'DIR', 'DIR2'],
    ['report', 'html', 'OUT/a.html', 'OUT/b.html'],
    ['report', 'data-dir', 'DIR', 'DIR2'],
  ];
  it.each(cases)('%s --%s %s --%s …', async (cmd, flag, a, b) => {
    const base = tempDir('procprobe-args-');
    // DIR, DIR2 and OUT stand for paths in a fresh temp dir: none of them may appear.
    const fill = (v: string): string => v.replace(/^DIR2$/, join(base, 'd2')).replace(/^DIR$/, join(base, 'd1')).replace(/^OUT/, base);
    const marker = join(base, 'marker');
    const id = cmd === 'show' || cmd === 'export' || cmd === 'report' ? ['some-id'] : [];
    // A run that was wrongly accepted would save into a temp data dir (which must not appear either), never the repository's.
    const tail = cmd === 'run' ? [...(flag === 'data-dir' ? [] : ['--data-dir', join(base, 'd0')]), '--', ...writes(marker)] : [];
    const r = await runCli([cmd, ...id, `--${flag}`, fill(a), `--${flag}=${fill(b)}`, ...tail]);
    expect(r.code, r.stdout + r.stderr).toBe(2);
    expect(oneLineFailure(r)).toBe(`procprobe: --${flag} given twice (${JSON.stringify(fill(a))} and ${JSON.stringify(fill(b))}): it takes one value`);
    expect(readdirSync(base), 'nothing ran, nothing was created').toEqual([]);
  }, T);

  it('-o and --output are the same flag', async () => {
    const base = tempDir('procprobe-args-');
    const r = await runCli(['export', 'some-id', '--format', 'csv', '-o', join(base, 'a'), '--output', join(base, 'b'), '--data-dir', join(base, 'd')]);
    expect(r.code).toBe(2);
    expect(oneLineFailure(r)).toMatch(/^procprobe: -o\/--output given twice \(".*\/a" and ".*\/b"\): it takes one value$/);
    expect(readdirSync(base)).toEqual([]);
  }, T);

  it('repeatable and boolean flags still repeat: --require-env twice keeps both, --quiet twice is one --quiet', async () => {
    const dir = newDataDir();
    const args = ['run', '--require-env', 'PP_ARGS_A', '--require-env', 'PP_ARGS_B', '--quiet', '--quiet', '--data-dir', dir, '--', 'node', '-e', '1'];
    const ok = await runCli(args, { env: { PP_ARGS_A: '1', PP_ARGS_B: '1' } });
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    expect(ok.stdout.trimEnd().split('\n')).toHaveLength(1); // --quiet: one line
    // Both names were kept: without the second, environment_validation fails naming it.
    const missing = await runCli(args, { env: { PP_ARGS_A: '1', PP_ARGS_B: undefined } });
    expect(missing.code).toBe(1);
    const failed = readIndex(dir).find((s) => !s.success);
    expect(failed.phases[0].errorMessage).toContain('PP_ARGS_B');
  }, T);
});
