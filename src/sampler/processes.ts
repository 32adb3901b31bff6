/**
 * The processes of a sampled tree, one entry each: who it was, when it lived, what it used. The
 * tree keeps one per member from its adoption; entries of members that exited stay (up to
 * MAX_ENDED) until the tree's totals are reset, so a session lists every process it saw.
 */
import { readFileSync } from 'node:fs';
import { statFields } from '../probe/builtin.js';

/** One process of a tree, as the tree saw it. Times are ms since the Unix epoch. */
export interface TreeProcess {
  pid: number;
  /** Its parent when the tree adopted it. */
  ppid: number;
  /** argv joined by spaces (an empty argument as ''), else [comm] where argv is unreadable. */
  command: string;
  /** Process start (the kernel's, 10 ms resolution). */
  startTime: number;
  /** When the tree first read it. */
  adoptedAt: number;
  /** The first sample it was missing from (it had exited), or null while it lives. */
  endTime: number | null;
  /**
   * Its CPU at its last reading, with that of the children it waited for that the tree never
   * adopted (they are not listed): the list sums to the tree's CPU.
   */
  cpuMs: number;
  peakRssBytes: number;
  peakThreads: number;
}

/** Ended entries kept at most: a build tool's thousands of compiler runs stay bounded (README). */
export const MAX_ENDED = 2000;

export function newEntry(pid: number, ppid: number): TreeProcess {
  return { pid, ppid, command: readCommand(pid), startTime: NaN, adoptedAt: NaN, endTime: null, cpuMs: 0, peakRssBytes: 0, peakThreads: 0 };
}

/**
 * The process's argv from /proc/PID/cmdline, else (a zombie, a kernel thread) its comm in
 * brackets; `previous` is kept over a comm or a failed read (an exiting process loses its argv).
 */
export function readCommand(pid: number, previous = ''): string {
  try {
    const raw = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    if (raw.length > 0) {
      return raw.replace(/\0$/, '').split('\0').map((a) => (a === '' ? "''" : a)).join(' ');
    }
    return previous || `[${readFileSync(`/proc/${pid}/comm`, 'utf8').trim()}]`;
  } catch {
    return previous;
  }
}

/** The parent pid from /proc/PID/stat, NaN where unreadable. */
export function readPpid(pid: number): number {
  try {
    return Number(statFields(readFileSync(`/proc/${pid}/stat`, 'latin1'))?.[4 - 3] ?? NaN);
  } catch {
    return NaN;
  }
}

/** Entries of members that exited, oldest first, bounded. */
export class EndedProcesses {
  readonly list: TreeProcess[] = [];
  /** Entries dropped beyond MAX_ENDED since the last clear. */
  dropped = 0;

  add(p: TreeProcess): void {
    if (this.list.length >= MAX_ENDED) {
      this.list.shift();
      this.dropped++;
    }
    this.list.push(p);
  }

  clear(): void {
    this.list.length = 0;
    this.dropped = 0;
  }
}
