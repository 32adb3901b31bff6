/**
 * Proportional set size: a process's resident memory with each shared page divided among the
 * processes that map it, from the `Pss:` line of /proc/PID/smaps_rollup (Linux >= 4.14). Summed
 * over a tree of forked workers it counts each shared page once, where summed RSS counts it once
 * per process.
 *
 * Reading it walks the process's page tables (milliseconds for a large heap, and it takes the
 * mm's lock the process itself needs to fault pages in), so the sampler reads it at its own
 * lower rate (pssIntervalMs), never at the sampling rate.
 *
 * The file is opened for each read, by pid, and not kept open like the probe's: an open
 * smaps_rollup stays bound to the address space it was opened on, and a child that execs after
 * its adoption gets a new one. Reading by pid could meet a reused pid, but the tree only reads
 * members its probe read OK in the same tick, microseconds before.
 */
import { readFileSync } from 'node:fs';

const HAS_SMAPS = process.platform === 'linux' || process.platform === 'android';

/** PSS of process `pid` in bytes; NaN where it cannot be read (another OS, gone, not permitted, Linux < 4.14). */
export function readPssBytes(pid: number): number {
  if (!HAS_SMAPS) return NaN;
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/smaps_rollup`, 'latin1');
  } catch {
    return NaN;
  }
  return pssFrom(text);
}

/** The `Pss:` line of smaps_rollup text, in bytes (the kernel writes kB: KiB); NaN without one. */
export function pssFrom(text: string): number {
  const at = text.indexOf('\nPss:');
  if (at < 0) return NaN;
  const kib = Number.parseInt(text.slice(at + 5, text.indexOf('\n', at + 5)).trim(), 10);
  return Number.isFinite(kib) ? kib * 1024 : NaN;
}
