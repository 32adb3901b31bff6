/**
 * `procprobe run --prepare CMD --cleanup CMD` with the real binary: what ran in which order, as
 * the hooks and the fixture appended it to one file, and the hooks' own clock readings
 * (`date +%s%N`) against each session's start and end in the data dir's index (msgpackr here):
 * the hooks run outside the timed session, before and after every run, warmups too.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanup, readIndex, ROOT, runCli } from './helpers/cli.js';
import { tempDir } from './helpers/temp-dirs.js';

const T = 120_000;
const FIXTURE = join(ROOT, 'test/fixtures/sleep-ms.mjs');

afterAll(cleanup);

describe('procprobe run --prepare / --cleanup', () => {
  it('run before and after each run (the warmup too), outside its session', async () => {
    const dir = tempDir('procprobe-hooks-');
    const record = join(dir, 'record.txt');
    const data = join(dir, 'data');
    // Each hook appends its name and its clock (ms since the epoch, from date(1)) to the record.
    const hook = (name: string): string => `echo ${name} $(($(date +%s%N) / 1000000)) >> '${record}'`;
    const r = await runCli(['run', '--runs', '2', '--warmup', '1', '--data-dir', data, '--prepare', `sleep 0.2; ${hook('prepare')}`, '--cleanup', hook('cleanup'), '--', process.execPath, FIXTURE, 'run'], {
      env: { RECORD_FILE: record, SLEEP_MS: '0' },
    });
    expect(r.code, r.stderr).toBe(0);
    const lines = readFileSync(record, 'utf8').trim().split('\n');
    expect(lines.map((l) => l.split(' ')[0])).toEqual(['prepare', '["run"]', 'cleanup', 'prepare', '["run"]', 'cleanup', 'prepare', '["run"]', 'cleanup']);
    const clocks = lines.filter((l) => !l.startsWith('[')).map((l) => Number(l.split(' ')[1]));
    const sessions = readIndex(data) as { startTime: number; endTime: number; metadata: { warmup: boolean } }[];
    expect(sessions.map((s) => s.metadata.warmup)).toEqual([true, false, false]);
    for (const [i, s] of sessions.entries()) {
      expect(s.startTime, `session ${i} starts after its prepare`).toBeGreaterThanOrEqual(clocks[2 * i]! - 1); // date(1) truncates to the ms
      expect(s.endTime, `session ${i} ends before its cleanup`).toBeLessThanOrEqual(clocks[2 * i + 1]! + 1);
    }
  }, T);

  it('a failing --prepare stops before the run: exit 1, the reason on stderr, no session', async () => {
    const dir = tempDir('procprobe-hooks-');
    const data = join(dir, 'data');
    const r = await runCli(['run', '--runs', '3', '--data-dir', data, '--prepare', 'exit 7', '--', 'true']);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr.trim().split('\n').at(-1)).toBe('procprobe: --prepare "exit 7" exited with code 7');
    expect(readIndex(data)).toEqual([]);
  }, T);
});
