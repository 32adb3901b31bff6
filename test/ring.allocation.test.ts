/**
 * A ring the process cannot allocate is a typed error, not a bare RangeError ("Array buffer
 * allocation failed"): under an address-space limit set here (`ulimit -v`, confirmed from the
 * child's /proc/self/limits), a ring whose records alone exceed the limit is refused by
 * createRingBuffer, Sampler and RealTimeMonitor with an InvalidOptionError naming the capacity and
 * its value, and a small ring still works in the same process.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { FIXTURES } from './helpers/readers.js';

const LIMIT_KB = 2 * 1024 * 1024; // 2 GiB: room for node itself
const CAPACITY = 2 ** 26; // the largest capacity accepted
// Each record is at least its FIELD_COUNT (15) sample doubles and the 16 gauges: the records alone.
const AT_LEAST_BYTES = CAPACITY * (15 + 16) * 8;

interface Attempt {
  ok?: unknown;
  name?: string;
  isInvalidOption?: boolean;
  code?: string;
  option?: string;
  value?: unknown;
  message?: string;
}

describe('ring allocation', () => {
  it(`a ${AT_LEAST_BYTES / 2 ** 30} GiB ring under a 2 GiB address-space limit: InvalidOptionError naming capacity, from every door`, () => {
    const run = spawnSync('sh', ['-c', `ulimit -v ${LIMIT_KB} && exec "$0" "$@"`, process.execPath, `${FIXTURES}ring-too-big.mjs`, String(CAPACITY)], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(run.status, `stderr: ${run.stderr}`).toBe(0);
    const out = JSON.parse(run.stdout) as { limitBytes: number; attempts: Record<string, Attempt> };
    expect(out.limitBytes).toBe(LIMIT_KB * 1024);
    expect(AT_LEAST_BYTES).toBeGreaterThan(out.limitBytes);
    for (const door of ['createRingBuffer', 'Sampler', 'RealTimeMonitor']) {
      const a = out.attempts[door]!;
      expect(a, door).toMatchObject({ name: 'InvalidOptionError', isInvalidOption: true, code: 'ERR_PROCPROBE_INVALID_OPTION', option: 'capacity', value: CAPACITY });
      expect(a.message, door).toMatch(new RegExp(`^capacity must be a ring this process can allocate \\(\\d+ bytes .*\\), got ${CAPACITY}$`));
      const bytes = Number(/\((\d+) bytes/.exec(a.message!)![1]);
      expect(bytes, door).toBeGreaterThanOrEqual(AT_LEAST_BYTES);
    }
    expect(out.attempts.small!.ok).toBeGreaterThan(1000 * (15 + 16) * 8);
  });
});
