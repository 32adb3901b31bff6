/**
 * src/export/chrome-trace-processes.ts: a tree session's processes as tracks of the Chrome trace,
 * checked by parsing the JSON the export writes. Oracles: the synthetic tree
 * (fixtures/process-list.ts), whose every field the test reads itself; and a real run of
 * fixtures/fork-tree.py, whose every process reports its own pid on stderr.
 */
import { existsSync, readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { exportSession } from '../dist/export/index.js';
import type { ExportInput } from '../dist/export/types.js';
import { MAX_PROCESS_TRACKS, TREE_TRACE_PID } from '../dist/export/chrome-trace-processes.js';
import { makeInput, START } from './fixtures/export-session.js';
import { HOSTILE, processList } from './fixtures/process-list.js';
import { cleanup, runCli } from './helpers/cli.js';
import { requireAddonFor } from './helpers/optional-readers.js';
import { tempDir } from './helpers/temp-dirs.js';

afterAll(cleanup);

// Not a `python3` found on PATH: a pyenv shim runs helper processes of its own, which are in the tree too.
const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

interface Ev { name: string; ph: string; ts: number; pid: number; tid?: number; dur?: number; cat?: string; args?: Record<string, any> }
type Doc = { traceEvents: Ev[]; metadata: Record<string, any> };

const ORIGIN = START - 80; // the fixture's node:process_init starts 80 ms before the session
const us = (epochMs: number): number => Math.round((epochMs - ORIGIN) * 1000);

function trace(input: ExportInput, maxPoints?: number): Doc {
  return JSON.parse(exportSession(input, 'chrome-trace', maxPoints === undefined ? {} : { maxPoints }) as string);
}

describe('chrome-trace: a track per process', () => {
  const processes = processList(START, 12);
  const input = makeInput({ processes, processesDropped: 0 });
  const doc = trace(input);
  const tree = doc.traceEvents.filter((e) => e.pid === TREE_TRACE_PID);

  it('each process a track named "pid command" and its lifespan as one X slice with CPU, peak RSS, threads and exit as args', () => {
    expect(doc.metadata.originEpochMs).toBe(ORIGIN);
    expect(tree.find((e) => e.name === 'process_name')!.args!.name).toBe('process tree (12 processes)');
    const slices = tree.filter((e) => e.ph === 'X');
    expect(slices.map((e) => e.tid).sort()).toEqual(processes.map((p) => p.pid).sort());
    for (const p of processes) {
      const s = slices.find((e) => e.tid === p.pid)!;
      const name = tree.find((e) => e.name === 'thread_name' && e.tid === p.pid)!.args!.name as string;
      expect(name.startsWith(`${p.pid} `), name).toBe(true);
      expect(s.ts).toBe(us(p.startTime));
      // Still running: to the session's end.
      expect(s.ts + s.dur!).toBe(us(p.endTime ?? input.summary.endTime));
      expect(s.args).toMatchObject({ pid: p.pid, ppid: p.ppid, command: p.command, cpuMs: p.cpuMs, peakRssBytes: p.peakRssBytes, peakThreads: p.peakThreads, exitCode: p.exitCode, signal: p.signal, running: p.endTime === null });
    }
    // The hostile command line is data: the same string back from JSON.parse, in the name and args.
    expect(slices.find((e) => e.tid === 1005)!.args!.command).toBe(HOSTILE);
    expect(tree.find((e) => e.name === 'thread_name' && e.tid === 1005)!.args!.name).toBe(`1005 ${HOSTILE}`);
  });

  it('tracks in start order; the session\'s own tracks and counters unchanged', () => {
    const order = tree.filter((e) => e.name === 'thread_sort_index').sort((a, b) => a.args!.sort_index - b.args!.sort_index).map((e) => e.tid);
    expect(order).toEqual([...processes].sort((a, b) => a.startTime - b.startTime).map((p) => p.pid));
    const without = trace(makeInput());
    expect(doc.traceEvents.filter((e) => e.pid !== TREE_TRACE_PID)).toEqual(without.traceEvents);
    expect(without.traceEvents.some((e) => e.pid === TREE_TRACE_PID)).toBe(false);
    expect(without.metadata.processTree).toBeUndefined();
  });
});

describe('chrome-trace: many processes', () => {
  const processes = processList(START, 400);
  const dropped = 25;
  const doc = trace(makeInput({ processes, processesDropped: dropped }));
  const tree = doc.traceEvents.filter((e) => e.pid === TREE_TRACE_PID);

  it(`the ${MAX_PROCESS_TRACKS} with the most CPU get a track each; the other ${400 - MAX_PROCESS_TRACKS} share one, with their count, CPU and programs`, () => {
    const own = tree.filter((e) => e.ph === 'X' && e.tid !== TREE_TRACE_PID);
    expect(own).toHaveLength(MAX_PROCESS_TRACKS);
    const cpus = own.map((e) => e.args!.cpuMs as number).sort((a, b) => b - a);
    const threshold = cpus[cpus.length - 1]!;
    const rest = processes.filter((p) => !own.some((e) => e.tid === p.pid));
    expect(rest).toHaveLength(400 - MAX_PROCESS_TRACKS);
    for (const p of rest) expect(p.cpuMs).toBeLessThanOrEqual(threshold);
    const other = tree.filter((e) => e.ph === 'X' && e.tid === TREE_TRACE_PID);
    expect(other).toHaveLength(1);
    expect(tree.find((e) => e.name === 'thread_name' && e.tid === TREE_TRACE_PID)!.args!.name).toBe(`other ${rest.length + dropped} processes`);
    const o = other[0]!;
    expect(o.args!.processes).toBe(rest.length);
    expect(o.args!.notKept).toBe(dropped);
    expect(o.args!.cpuMs).toBeCloseTo(rest.reduce((a, p) => a + p.cpuMs, 0), 9);
    const dates = rest.filter((p) => p.command.startsWith('/bin/date')).length;
    expect(o.args!.programs).toEqual([{ name: 'date', count: dates }, { name: 'sh', count: rest.length - dates }]);
    expect(o.ts).toBe(us(Math.min(...rest.map((p) => p.startTime))));
    expect(o.ts + o.dur!).toBe(us(Math.max(...rest.map((p) => p.endTime!))));
    expect(doc.metadata.processTree).toEqual({ pid: TREE_TRACE_PID, processes: 400, tracks: MAX_PROCESS_TRACKS, notKept: dropped });
  });

  it('a counter of how many of the other processes run, equal at every point to a count made here', () => {
    const points = tree.filter((e) => e.ph === 'C' && e.name === 'other processes running');
    const rest = processes.filter((p) => !tree.some((e) => e.ph === 'X' && e.tid === p.pid));
    expect(points.length).toBeGreaterThan(rest.length); // a start and an end for each, some shared
    for (const c of points) {
      // Running at this instant: started at or before it, not ended at or before it.
      const n = rest.filter((p) => us(p.startTime) <= c.ts && us(p.endTime!) > c.ts).length;
      expect(c.args!.value, `at ${c.ts}`).toBe(n);
    }
    expect(points.at(-1)!.args!.value).toBe(0);
    const few = trace(makeInput({ processes, processesDropped: dropped }), 20).traceEvents.filter((e) => e.name === 'other processes running');
    expect(few.length).toBeLessThanOrEqual(20);
    expect(Math.max(...few.map((e) => e.args!.value))).toBe(Math.max(...points.map((e) => e.args!.value)));
  });
});

describe('chrome-trace of a real run: procprobe export', () => {
  requireAddonFor('native');

  it('a track for every process the command started, with the pids they report', async () => {
    const dir = tempDir('procprobe-cli-');
    const r = await runCli(['run', '--json', '--data-dir', dir, '--', PYTHON, 'test/fixtures/fork-tree.py', '2', '10', '300']);
    expect(r.code, r.stderr).toBe(0);
    const told = r.stderr.split('\n').filter((l) => l.startsWith('{"role"')).map((l) => JSON.parse(l) as { pid: number });
    expect(told).toHaveLength(5);
    const id = JSON.parse(r.stdout).runs[0].sessionId;
    const out = `${dir}/trace.json`;
    const e = await runCli(['export', '--data-dir', dir, id, '--format', 'chrome-trace', '-o', out]);
    expect(e.code, e.stderr).toBe(0);
    const doc = JSON.parse(readFileSync(out, 'utf8')) as Doc;
    const slices = doc.traceEvents.filter((x) => x.pid === TREE_TRACE_PID && x.ph === 'X');
    expect(slices.map((x) => x.tid).sort()).toEqual(told.map((t) => t.pid).sort());
    for (const s of slices) expect(s.dur!, JSON.stringify(s)).toBeGreaterThan(250_000); // each lived >= 300 ms
  }, 60_000);
});
