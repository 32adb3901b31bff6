/**
 * The terminal's process table (cli/report.ts processTable): the top processes by CPU like
 * systemd-analyze blame, with their exit, and the long tail as one line that says what it is made
 * of. Oracle: the synthetic tree (fixtures/process-list.ts), counted here by its own fields.
 */
import { describe, expect, it } from 'vitest';
import { processTable } from '../dist/cli/report.js';
import type { SessionSummary } from '../dist/session/types.js';
import { HOSTILE, processList } from './fixtures/process-list.js';

const START = Date.UTC(2026, 0, 2, 3, 4, 5);
const plain = { bold: (s: string) => s, dim: (s: string) => s, red: (s: string) => s, green: (s: string) => s, yellow: (s: string) => s, cyan: (s: string) => s };

function summaryWith(n: number, dropped = 0): SessionSummary {
  return { id: 'x', startTime: START, endTime: START + 2000, durationMs: 2000, success: true, incomplete: false, metadata: {}, phases: [], errors: [], processes: processList(START, n), processesDropped: dropped };
}

describe('processTable', () => {
  it('the top 8 by CPU with their exit, then one line for the other 52: how many of which program, their CPU', () => {
    const s = summaryWith(60);
    const lines = processTable(s, plain).split('\n');
    const rows = lines.slice(1, -1);
    expect(lines[0]).toMatch(/^pid\s+ppid\s+CPU ms\s+peak RSS\s+threads\s+start\s+end\s+exit\s+command$/);
    // The most CPU first: the listed CPU of each row, in order, is the list's 8 largest.
    const cpu = rows.map((r) => Number(r.split(/\s+/)[2]));
    expect(cpu).toEqual(s.processes!.map((p) => p.cpuMs).sort((a, b) => b - a).slice(0, 8).map((v) => Number(v.toFixed(1))));
    const exitOf = (pid: number) => rows.find((r) => r.startsWith(`${pid} `))!;
    expect(exitOf(1000)).toMatch(/\srunning\s+running\s+node server\.js$/); // end and exit
    expect(exitOf(1005)).toMatch(/\sSIGKILL\s/);
    expect(exitOf(1006)).toMatch(/\scode 1\s/);
    expect(exitOf(1007)).toMatch(/\s-\s+\/bin\/date \+%N$/); // reaped by its parent: unknown
    // The tail, counted from the fixture's own entries beyond the 8 shown.
    const shown = new Set(rows.map((r) => Number(r.split(/\s+/)[0])));
    const tail = s.processes!.filter((p) => !shown.has(p.pid));
    const dates = tail.filter((p) => p.command.startsWith('/bin/date')).length;
    const shs = tail.filter((p) => p.command.startsWith('/bin/sh')).length;
    expect(dates + shs).toBe(52);
    const cpuSum = tail.reduce((a, p) => a + p.cpuMs, 0).toFixed(1);
    expect(lines.at(-1)).toBe(`+ 52 more processes (${dates} × date, ${shs} × sh), ${cpuSum} CPU ms, largest 1.0 MiB`);
  });

  it('counts the entries the tree did not keep, and says so', () => {
    // 10 processes: the tail is pids 1008 (i 2: sh) and 1009 (i 3: date); equal counts by name.
    expect(processTable(summaryWith(10, 7), plain).split('\n').at(-1)).toMatch(/^\+ 9 more processes \(1 × date, 1 × sh\), 0\.2 CPU ms, largest 1\.0 MiB \(7 not kept\)$/);
    expect(processTable(summaryWith(8), plain).split('\n')).toHaveLength(9); // nothing beyond the top: no tail line
  });

  it('a command line with control bytes is inert: ESC shown as \\x1b, no raw control byte anywhere', () => {
    const out = processTable(summaryWith(60), plain);
    // eslint-disable-next-line no-control-regex
    expect(out).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f]/);
    expect(out).toContain(HOSTILE.replace('\x1b', '\\x1b').slice(0, 59));
  });
});
