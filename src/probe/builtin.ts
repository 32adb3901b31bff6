/**
 * The builtin tier: what Node itself can read without the addon. For this process,
 * process.resourceUsage() (µs CPU, all-thread context switches) and memoryUsage.rss(); where /proc
 * exists (Linux), the same kernel files as the native probe, kept open and re-read with pread.
 * For other pids it needs /proc; its CPU times then move in 10 ms ticks (no CPU clock from JS).
 */
import { closeSync, constants, fstatSync, openSync, readdirSync, readFileSync, readSync } from 'node:fs';
import { totalmem, uptime as osUptime } from 'node:os';
import { CHILDREN_COUNT, F, ProbeStatus } from './layout.js';
import { cpuPercent } from '../units.js';

const HAS_PROC = process.platform === 'linux' || process.platform === 'android';
const CLK_TCK = 100; // USER_HZ is 100 on every Linux architecture Node supports

/** True when this platform lets the builtin tier read other processes. */
export const builtinCanReadOthers = HAS_PROC;

interface ProcHandles {
  stat: number;
  statm: number;
  fdDir: number;
  taskDir: number;
}

function openOptional(path: string, flags: number): number {
  try {
    return openSync(path, flags);
  } catch {
    return -1;
  }
}

function errnoStatus(err: unknown): ProbeStatus {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return ProbeStatus.NOT_FOUND;
  if (code === 'ESRCH') return ProbeStatus.EXITED;
  if (code === 'EACCES' || code === 'EPERM') return ProbeStatus.ACCESS_DENIED;
  return ProbeStatus.IO_ERROR;
}

/** Fields after the last ')' of /proc/PID/stat, so that field N is at index N - 3. */
export function statFields(text: string): string[] | null {
  const close = text.lastIndexOf(')');
  return close < 0 ? null : text.slice(close + 2).split(' ');
}

export class BuiltinReader {
  readonly pid: number;
  readonly self: boolean;
  #proc: ProcHandles | null = null;
  #buf = Buffer.alloc(4096);
  #startTicks = NaN;
  #startTime: number;
  #startUptimeUs: number;
  #memTotal = totalmem();
  #prevCpu = NaN;
  #prevMono = NaN;
  #pageSize = pageSize();

  /** Throws nothing: check `openStatus` (non-OK when the pid cannot be opened). */
  readonly openStatus: ProbeStatus = ProbeStatus.OK;

  constructor(pid: number) {
    this.self = pid === process.pid;
    this.pid = pid;
    if (!HAS_PROC) {
      this.#startUptimeUs = 0;
      this.#startTime = Date.now() - process.uptime() * 1e3;
      if (!this.self) this.openStatus = ProbeStatus.UNSUPPORTED;
      return;
    }
    const dir = `/proc/${this.self ? 'self' : pid}`;
    let stat: number;
    try {
      stat = openSync(`${dir}/stat`, constants.O_RDONLY);
    } catch (err) {
      this.openStatus = errnoStatus(err);
      this.#startTime = this.#startUptimeUs = NaN;
      return;
    }
    this.#proc = {
      stat,
      statm: openOptional(`${dir}/statm`, constants.O_RDONLY),
      fdDir: openOptional(`${dir}/fd`, constants.O_RDONLY | constants.O_DIRECTORY),
      taskDir: openOptional(`${dir}/task`, constants.O_RDONLY | constants.O_DIRECTORY),
    };
    const fields = statFields(this.#read(stat));
    this.#startTicks = fields ? Number(fields[22 - 3]) : NaN;
    this.#startUptimeUs = (this.#startTicks / CLK_TCK) * 1e6;
    this.#startTime = Date.now() - osUptime() * 1e3 + this.#startUptimeUs / 1e3;
    if (!fields) this.openStatus = ProbeStatus.IO_ERROR;
    else this.#keepChildren(fields);
  }

  #read(fd: number): string {
    const n = readSync(fd, this.#buf, 0, this.#buf.length, 0);
    return this.#buf.toString('latin1', 0, n);
  }

  /** Reaped-children totals as of the last read of another pid (CHILDREN order), NaN before. */
  readonly #children = new Float64Array(CHILDREN_COUNT).fill(NaN);

  /** The reaped-children totals (see Probe.childrenInto): this process's read now. */
  readChildren(out: Float64Array): ProbeStatus {
    if (!this.#proc) return ProbeStatus.UNSUPPORTED;
    if (this.self) {
      const fields = statFields(this.#read(this.#proc.stat));
      if (!fields) return ProbeStatus.IO_ERROR;
      this.#keepChildren(fields);
    }
    out.set(this.#children);
    return ProbeStatus.OK;
  }

  #keepChildren(fields: string[]): void {
    const tickUs = 1e6 / CLK_TCK;
    this.#children[0] = Number(fields[16 - 3]) * tickUs;
    this.#children[1] = Number(fields[17 - 3]) * tickUs;
    this.#children[2] = Number(fields[11 - 3]);
    this.#children[3] = Number(fields[13 - 3]);
  }

  close(): void {
    const p = this.#proc;
    this.#proc = null;
    if (!p) return;
    for (const fd of [p.stat, p.statm, p.fdDir, p.taskDir]) if (fd >= 0) closeSync(fd);
  }

  /** Fill one row at `offset`; returns a ProbeStatus (OK and ZOMBIE fill the row). */
  readInto(row: Float64Array, offset: number): ProbeStatus {
    try {
      return this.self ? this.#readSelf(row, offset) : this.#readOther(row, offset);
    } catch (err) {
      return errnoStatus(err);
    }
  }

  #common(row: Float64Array, o: number, cpuUs: number): void {
    const mono = performance.now() * 1e3;
    row[o + F.pid] = this.pid;
    row[o + F.timestamp] = performance.timeOrigin + mono / 1e3;
    row[o + F.startTime] = this.#startTime;
    let pct: number;
    if (Number.isNaN(this.#prevCpu)) {
      const ageUs = this.self ? process.uptime() * 1e6 : osUptime() * 1e6 - this.#startUptimeUs;
      pct = cpuPercent(cpuUs, Math.max(ageUs, 1000));
    } else {
      pct = mono > this.#prevMono ? cpuPercent(cpuUs - this.#prevCpu, mono - this.#prevMono) : 0;
    }
    this.#prevCpu = cpuUs;
    this.#prevMono = mono;
    row[o + F.cpuPercent] = Math.max(0, pct);
  }

  #readSelf(row: Float64Array, o: number): ProbeStatus {
    const ru = process.resourceUsage();
    row[o + F.cpuUserUs] = ru.userCPUTime;
    row[o + F.cpuSystemUs] = ru.systemCPUTime;
    row[o + F.voluntaryContextSwitches] = ru.voluntaryContextSwitches;
    row[o + F.involuntaryContextSwitches] = ru.involuntaryContextSwitches;
    row[o + F.minorPageFaults] = ru.minorPageFault;
    row[o + F.majorPageFaults] = ru.majorPageFault;
    row[o + F.rssBytes] = process.memoryUsage.rss();
    this.#readStatm(row, o, false);
    this.#readCounts(row, o, NaN);
    row[o + F.memoryPercent] = (row[o + F.rssBytes]! / this.#memTotal) * 100;
    this.#common(row, o, ru.userCPUTime + ru.systemCPUTime);
    return ProbeStatus.OK;
  }

  #readStatm(row: Float64Array, o: number, withRss: boolean): void {
    const p = this.#proc;
    const text = p && p.statm >= 0 ? this.#read(p.statm) : null;
    if (text === null) {
      row[o + F.vmsBytes] = NaN;
      if (withRss) row[o + F.rssBytes] = NaN;
      return;
    }
    const [size, resident] = text.split(' ');
    row[o + F.vmsBytes] = Number(size) * this.#pageSize;
    if (withRss) row[o + F.rssBytes] = Number(resident) * this.#pageSize;
  }

  #readCounts(row: Float64Array, o: number, threadsFallback: number): void {
    const p = this.#proc;
    // st_size of /proc/PID/fd is the fd count on Linux >= 6.2 (0 before: then list the entries).
    let fds = NaN;
    if (p && p.fdDir >= 0) {
      fds = fstatSync(p.fdDir).size;
      if (fds === 0) fds = readdirSync(`/proc/${this.self ? 'self' : this.pid}/fd`).length;
    }
    row[o + F.openFds] = fds;
    const nlink = p && p.taskDir >= 0 ? fstatSync(p.taskDir).nlink : 0;
    row[o + F.threads] = nlink > 2 ? nlink - 2 : threadsFallback;
  }

  #readOther(row: Float64Array, o: number): ProbeStatus {
    const p = this.#proc!;
    const fields = statFields(this.#read(p.stat));
    if (!fields) return ProbeStatus.IO_ERROR;
    if (Number(fields[22 - 3]) !== this.#startTicks) return ProbeStatus.EXITED;
    const tickUs = 1e6 / CLK_TCK;
    const user = Number(fields[14 - 3]) * tickUs;
    const system = Number(fields[15 - 3]) * tickUs;
    row[o + F.cpuUserUs] = user;
    row[o + F.cpuSystemUs] = system;
    row[o + F.minorPageFaults] = Number(fields[10 - 3]);
    row[o + F.majorPageFaults] = Number(fields[12 - 3]);
    this.#keepChildren(fields);
    this.#common(row, o, user + system);
    const state = fields[0];
    // Z with other threads alive: the leader thread exited, the process runs on (not a zombie).
    if ((state === 'Z' || state === 'X') && Number(fields[20 - 3]) <= 1) {
      for (const f of ['rssBytes', 'vmsBytes', 'memoryPercent', 'openFds', 'threads'] as const) {
        row[o + F[f]] = NaN;
      }
      row[o + F.voluntaryContextSwitches] = row[o + F.involuntaryContextSwitches] = NaN;
      return ProbeStatus.ZOMBIE;
    }
    this.#readStatm(row, o, true);
    row[o + F.memoryPercent] = (row[o + F.rssBytes]! / this.#memTotal) * 100;
    this.#readCounts(row, o, Number(fields[20 - 3]));
    this.#readThreadSwitches(row, o);
    return ProbeStatus.OK;
  }

  /** tid -> last [voluntary, involuntary] read; threads gone since are folded into #exitedSwitches. */
  #threadSwitches = new Map<string, [number, number]>();
  #exitedSwitches: [number, number] = [0, 0];

  /**
   * Sum over threads: /proc/PID/status alone counts the leader thread only. Live threads' counts
   * plus the last counts of threads that exited since the probe opened, so the sums never go down.
   */
  #readThreadSwitches(row: Float64Array, o: number): void {
    const seen = new Map<string, [number, number]>();
    try {
      for (const tid of readdirSync(`/proc/${this.pid}/task`)) {
        let text: string;
        try {
          text = readFileSync(`/proc/${this.pid}/task/${tid}/status`, 'latin1');
        } catch {
          continue; // the thread exited while we listed: its last counts are folded below
        }
        seen.set(tid, [
          Number(/\nvoluntary_ctxt_switches:\s*(\d+)/.exec(text)?.[1] ?? NaN),
          Number(/\nnonvoluntary_ctxt_switches:\s*(\d+)/.exec(text)?.[1] ?? NaN),
        ]);
      }
    } catch {
      row[o + F.voluntaryContextSwitches] = row[o + F.involuntaryContextSwitches] = NaN;
      return;
    }
    for (const [tid, last] of this.#threadSwitches) {
      if (seen.has(tid)) continue;
      this.#exitedSwitches[0] += last[0];
      this.#exitedSwitches[1] += last[1];
    }
    this.#threadSwitches = seen;
    let [vol, invol] = this.#exitedSwitches;
    for (const [v, i] of seen.values()) {
      vol += v;
      invol += i;
    }
    row[o + F.voluntaryContextSwitches] = vol;
    row[o + F.involuntaryContextSwitches] = invol;
  }
}

let cachedPageSize = 0;

/**
 * Node has no getpagesize(): infer it once from memoryUsage.rss() (bytes, libuv reads statm x the
 * real page size) against statm's resident pages, rounded to a power of two (4K, 16K or 64K).
 */
function pageSize(): number {
  if (cachedPageSize) return cachedPageSize;
  cachedPageSize = 4096;
  if (HAS_PROC) {
    try {
      const resident = Number(readFileSync('/proc/self/statm', 'latin1').split(' ')[1]);
      const ratio = process.memoryUsage.rss() / resident;
      cachedPageSize = 2 ** Math.round(Math.log2(ratio));
    } catch {
      // keep 4096
    }
  }
  return cachedPageSize;
}
