/**
 * What the sampler itself costs: the CPU of its worker thread, read from the kernel's per-thread
 * files, and the ring's record and missed-deadline counters, as a mark at one moment. Two marks
 * make a session's self-accounting (session/sampler-account.ts).
 *
 * Why the thread's own files: process-wide figures (getrusage, process.cpuUsage) mix the sampler
 * with the host's main thread and every other worker. /proc/self/task/TID/schedstat's first field
 * is the thread's time on a CPU in nanoseconds (the scheduler's sum_exec_runtime); its stat file
 * has the same in 10 ms ticks, the fallback where schedstat is not built in (CONFIG_SCHED_INFO).
 * Linux only: elsewhere the CPU is NaN and the counters are still there.
 */
import { readFileSync, readlinkSync } from 'node:fs';
import type { RingReader } from '../ring/ring.js';

/** USER_HZ: the unit of /proc stat times, 100 on every architecture Node runs on. */
const USER_HZ = 100;

/** A moment of the sampler's life: its thread's CPU so far and the ring's counters. */
export interface SamplerUsageMark {
  /** The worker thread's kernel id; null where unknown. */
  tid: number | null;
  /** That thread's CPU since it was born, µs; NaN where unreadable. */
  cpuUs: number;
  /** performance.now() of the mark, ms. */
  atMs: number;
  /** Records written to the ring so far. */
  records: number;
  /** Deadlines the sampler missed so far (ring header). */
  missed: number;
}

/**
 * The calling thread's kernel id, from /proc/thread-self ("PID/task/TID"). Call it on the
 * sampler's own thread: a synchronous fs call runs on the thread that makes it, and
 * /proc/thread-self names that thread. null where there is no such link.
 */
export function ownThreadId(): number | null {
  try {
    const tid = Number(/task\/(\d+)$/.exec(readlinkSync('/proc/thread-self'))?.[1]);
    return Number.isInteger(tid) && tid > 0 ? tid : null;
  } catch {
    return null;
  }
}

/** A thread of this process's CPU since its birth, µs; NaN when it cannot be read (or is gone). */
export function threadCpuUs(tid: number | null): number {
  if (tid === null) return NaN;
  try {
    return Number(readFileSync(`/proc/self/task/${tid}/schedstat`, 'latin1').split(' ')[0]) / 1e3;
  } catch {
    // no schedstat: utime + stime (fields 14 and 15, counted after the last ')' of comm)
  }
  try {
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'latin1');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1e6) / USER_HZ;
  } catch {
    return NaN;
  }
}

/** A mark now, for the sampler thread `tid` writing into `reader`'s ring. */
export function usageMark(tid: number | null, reader: RingReader): SamplerUsageMark {
  return { tid, cpuUs: threadCpuUs(tid), atMs: performance.now(), records: reader.latestSeq() + 1, missed: reader.missedDeadlines };
}
