/**
 * The terminal sparklines (cli/sparklines.ts): every line of a block is as long as the others and
 * each cell is the same slice of time, so what happened at one instant sits in one column. The
 * records are built here with known values at known times; a real run's block is read from the CLI.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { sparklines } from '../dist/cli/report.js';
import { styleFor } from '../dist/cli/terminal.js';
import { F } from '../dist/probe/layout.js';
import { R } from '../dist/ring/layout.js';
import { cleanup, newDataDir, runCli } from './helpers/cli.js';

const plain = styleFor({ isTTY: false } as NodeJS.WriteStream);
const T0 = 1_700_000_000_000;
/** The cells of each line of a block, keyed by its name. */
function cellsOf(block: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of block.matchAll(/^(CPU %|RSS|threads|time)\s+(.*?)  (?:peak|\()/gm)) out[m[1]!] = m[2]!;
  return out;
}
afterAll(cleanup);

describe('sparklines: one length, one time axis', () => {
  it('a CPU burst and an RSS spike at the same instant land in the same column; unmeasured records are blanks', () => {
    const count = 1000; // 1 s at 1 kHz
    const stride = R.GAUGES;
    const records = new Float64Array(count * stride);
    let cpu = 0;
    for (let i = 0; i < count; i++) {
      const at = i * stride;
      const busy = i >= 500 && i < 520; // 20 ms at one full core
      cpu += busy ? 1000 : 0;
      // 700-760 ms: the read failed (STATUS 1): nothing is known there.
      records[at + R.STATUS] = i >= 700 && i < 760 ? 1 : 0;
      records[at + R.PROCESSES] = 1;
      records[at + R.ROW + F.timestamp] = T0 + i;
      records[at + R.ROW + F.cpuUserUs] = cpu;
      records[at + R.ROW + F.rssBytes] = (busy ? 50 : 10) * 2 ** 20;
      records[at + R.ROW + F.threads] = busy ? 9 : 3;
    }
    const block = sparklines({ records, stride, count, gaugeNames: [] }, plain);
    const c = cellsOf(block);
    expect(Object.keys(c)).toEqual(['CPU %', 'RSS', 'threads', 'time']);
    const n = [...c['CPU %']!].length;
    expect(n).toBe(48);
    for (const k of ['RSS', 'threads', 'time']) expect([...c[k]!].length, k).toBe(n);
    const cellMs = 999 / n;
    const col = (ms: number): number => Math.min(n - 1, Math.floor(ms / cellMs));
    // The burst's column is the highest bar in all three lines.
    for (const k of ['CPU %', 'RSS', 'threads']) expect([...c[k]!][col(510)], k).toBe('█');
    // A cell wholly inside the failed reads is blank in every line.
    for (const k of ['CPU %', 'RSS', 'threads']) expect([...c[k]!][col(730)], k).toBe(' ');
    expect(block).toMatch(/RSS .* peak 50\.0 MiB/);
    // The 20 ms burst at one core, averaged over a 20.8 ms cell (or split over two): at most 100 %, at least half.
    const peak = Number(/CPU % .* peak ([\d.]+)%/.exec(block)![1]);
    expect(peak).toBeGreaterThanOrEqual(48);
    expect(peak).toBeLessThanOrEqual(100.1);
  });

  it('a short session gets fewer, still equal, cells (none under 20 ms)', () => {
    const count = 100; // 99 ms: 4 cells of 24.75 ms
    const stride = R.GAUGES;
    const records = new Float64Array(count * stride);
    for (let i = 0; i < count; i++) {
      records[i * stride + R.PROCESSES] = 1;
      records[i * stride + R.ROW + F.timestamp] = T0 + i;
      records[i * stride + R.ROW + F.cpuUserUs] = i * 300;
      records[i * stride + R.ROW + F.rssBytes] = 2 ** 20 * (1 + i);
      records[i * stride + R.ROW + F.threads] = 1;
    }
    const c = cellsOf(sparklines({ records, stride, count, gaugeNames: [] }, plain));
    for (const k of ['CPU %', 'RSS', 'threads', 'time']) expect([...c[k]!].length, k).toBe(4);
  });

  it('a real run: the block the CLI prints has lines of one length', async () => {
    const dir = newDataDir();
    const r = await runCli(['run', '--data-dir', dir, '--', 'node', '-e', 'const a = []; for (let i = 0; i < 40; i++) a.push(Buffer.alloc(1 << 20, 1)); setTimeout(() => {}, 300)'], { env: { NO_COLOR: '1' } });
    expect(r.code, r.stderr).toBe(0);
    const c = cellsOf(r.stdout);
    expect(Object.keys(c), r.stdout).toEqual(['CPU %', 'RSS', 'threads', 'time']);
    const lengths = Object.values(c).map((s) => [...s].length);
    expect(new Set(lengths).size, r.stdout).toBe(1);
    expect(lengths[0]).toBeGreaterThan(1);
  }, 90_000);
});
