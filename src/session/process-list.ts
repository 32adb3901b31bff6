/**
 * A session's processes (SessionSummary.processes) as every report shows them: the ones that
 * used the most CPU by name, the long tail as one group, an exit status in words. Pure functions,
 * shared by the terminal table (cli/report.ts), the Chrome trace (export/chrome-trace-processes.ts)
 * and the HTML Gantt (report/processes.ts), so the three rank and group the same way.
 */
import type { TreeProcess } from '../sampler/processes.js';

/** The processes beyond the top ones, as one group. */
export interface ProcessTail {
  /** Listed processes in the group. */
  count: number;
  /** Ended processes the tree did not keep (SessionSummary.processesDropped): counted, not described. */
  dropped: number;
  /** Their CPU, summed (the dropped ones' is not known). */
  cpuMs: number;
  /** The largest peak RSS among them. */
  peakRssBytes: number;
  /** The earliest start and the latest end (ms since epoch); `lastEnd` null while one runs. */
  firstStart: number;
  lastEnd: number | null;
  /** Their programs (programOf), the most frequent first: at most 3, then how many others. */
  programs: { name: string; count: number }[];
  otherPrograms: number;
}

/** A process's lifespan for ranking: a running one as if it ran for ever. */
const lifespan = (p: TreeProcess): number => (p.endTime ?? Infinity) - p.startTime;

/**
 * The `top` processes by CPU (ties: the longer lifespan, then the lower pid), and the rest in the
 * same order. A short-lived process that used no CPU ranks by how long it lived.
 */
export function rankProcesses(list: readonly TreeProcess[], top: number): { top: TreeProcess[]; tail: TreeProcess[] } {
  const ranked = [...list].sort((a, b) => b.cpuMs - a.cpuMs || lifespan(b) - lifespan(a) || a.pid - b.pid);
  return { top: ranked.slice(0, top), tail: ranked.slice(top) };
}

/** The program of a command line: the basename of its first word ("/usr/bin/python3 x.py" -> "python3"), a [comm] as it is. */
export function programOf(command: string): string {
  if (command.startsWith('[')) return command;
  const first = command.split(' ', 1)[0] ?? '';
  return first.slice(first.lastIndexOf('/') + 1) || command;
}

/** The command line with its program's directory left out ("/usr/bin/python3 x.py" -> "python3 x.py"): a label where room is short. */
export function shortCommand(command: string): string {
  if (command.startsWith('[')) return command;
  const space = command.indexOf(' ');
  return space < 0 ? programOf(command) : `${programOf(command)}${command.slice(space)}`;
}

/** The long tail as one group (`dropped`: the session's processesDropped). */
export function tailOf(tail: readonly TreeProcess[], dropped = 0): ProcessTail {
  const counts = new Map<string, number>();
  let cpuMs = 0;
  let peakRssBytes = 0;
  let firstStart = Infinity;
  let lastEnd: number | null = -Infinity;
  for (const p of tail) {
    cpuMs += p.cpuMs;
    peakRssBytes = Math.max(peakRssBytes, p.peakRssBytes);
    if (Number.isFinite(p.startTime)) firstStart = Math.min(firstStart, p.startTime);
    lastEnd = p.endTime === null || lastEnd === null ? null : Math.max(lastEnd, p.endTime);
    const name = programOf(p.command);
    counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  const programs = [...counts].map(([name, count]) => ({ name, count })).sort((a, b) => b.count - a.count || (a.name < b.name ? -1 : 1));
  return { count: tail.length, dropped, cpuMs, peakRssBytes, firstStart, lastEnd, programs: programs.slice(0, 3), otherPrograms: Math.max(0, programs.length - 3) };
}

/** "38 × date, 2 × sh, 1 other program": what the group is made of (raw text: escape it where it is shown). */
export function tailPrograms(t: ProcessTail): string {
  const named = t.programs.map((p) => `${p.count} × ${p.name}`);
  if (t.otherPrograms > 0) named.push(`${t.otherPrograms} other program${t.otherPrograms > 1 ? 's' : ''}`);
  return named.join(', ');
}

/** "code 3", "SIGKILL", "running", or "" when nobody told (its own parent reaped it). */
export function exitText(p: TreeProcess): string {
  // `?? null`: sessions saved before exit statuses were recorded lack the fields.
  const signal = p.signal ?? null;
  const code = p.exitCode ?? null;
  if (signal !== null) return signal;
  if (code !== null) return `code ${code}`;
  return p.endTime === null ? 'running' : '';
}
