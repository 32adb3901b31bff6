/**
 * The terminal report of a long session: 200,000 samples (over 3 minutes at 1 kHz) must print,
 * not throw (a spread of that many values into Math.max is a RangeError). The peaks are checked
 * against the values the test put in.
 */
import { describe, expect, it } from 'vitest';
import { sparklines } from '../dist/cli/report.js';
import { sparkline, styleFor } from '../dist/cli/terminal.js';
import { F } from '../dist/probe/layout.js';
import { R } from '../dist/ring/layout.js';

describe('the terminal report of a 200,000-sample session', () => {
  it('prints sparklines with the true peaks', () => {
    const count = 200_000;
    const stride = R.GAUGES;
    const records = new Float64Array(count * stride);
    for (let i = 0; i < count; i++) {
      const at = i * stride;
      records[at + R.STATUS] = 0;
      records[at + R.PROCESSES] = 1;
      records[at + R.ROW + F.timestamp] = 1_700_000_000_000 + i;
      records[at + R.ROW + F.cpuUserUs] = i * 500; // half a core
      records[at + R.ROW + F.rssBytes] = 10 * 2 ** 20 + (i === 123_456 ? 90 * 2 ** 20 : 0); // one 100 MiB spike
      records[at + R.ROW + F.threads] = i < 150_000 ? 4 : 7;
    }
    const text = sparklines({ records, stride, count, gaugeNames: [] }, styleFor({ isTTY: false } as NodeJS.WriteStream));
    expect(text).toMatch(/RSS .* peak 100(\.0)? MiB/);
    expect(text).toMatch(/threads .* peak 7/);
    expect(sparkline(Array.from({ length: count }, (_, i) => i), 10)).toHaveLength(10);
  });
});
