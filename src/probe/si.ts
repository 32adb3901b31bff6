/**
 * The last-resort tier: systeminformation, for other pids where neither the addon nor /proc is
 * available (macOS and Windows without a compiled addon). It spawns `ps` or PowerShell on every
 * call, so reads are rate-limited: callers within `minIntervalMs` of a read share its result, and
 * concurrent callers share one read in flight. Async only.
 */
import { F, FIELD_COUNT, ProbeStatus } from './layout.js';

/** Shortest interval between two real reads by this tier. */
export const SI_MIN_INTERVAL_MS = 1000;

interface SiProcess {
  pid: number;
  cpu: number;
  mem: number;
  memRss: number;
  memVsz: number;
  started: string;
}

export class SystemInformationReader {
  readonly pid: number;
  #inflight: Promise<ProbeStatus> | null = null;
  #lastAt = -Infinity;
  #lastStatus: ProbeStatus = ProbeStatus.OK;
  #row = new Float64Array(FIELD_COUNT).fill(NaN);

  constructor(pid: number) {
    this.pid = pid;
  }

  /** Read (or reuse a read younger than SI_MIN_INTERVAL_MS) into `row` at `offset`. */
  async readInto(row: Float64Array, offset: number): Promise<ProbeStatus> {
    if (performance.now() - this.#lastAt >= SI_MIN_INTERVAL_MS && !this.#inflight) {
      this.#inflight = this.#refresh().finally(() => {
        this.#inflight = null;
      });
    }
    const status = this.#inflight ? await this.#inflight : this.#lastStatus;
    row.set(this.#row, offset);
    return status;
  }

  async #refresh(): Promise<ProbeStatus> {
    const si = await import('systeminformation');
    const list = (await si.processes()).list as unknown as SiProcess[];
    this.#lastAt = performance.now();
    const p = list.find((x) => x.pid === this.pid);
    if (!p) {
      this.#lastStatus = ProbeStatus.EXITED;
      return this.#lastStatus;
    }
    const r = this.#row;
    r.fill(NaN); // CPU times, fds, threads, switches and faults: systeminformation has none per pid
    r[F.pid] = this.pid;
    r[F.timestamp] = Date.now();
    r[F.cpuPercent] = p.cpu;
    r[F.rssBytes] = p.memRss * 1024;
    r[F.vmsBytes] = p.memVsz * 1024;
    r[F.memoryPercent] = p.mem;
    const started = Date.parse(p.started.replace(' ', 'T'));
    r[F.startTime] = Number.isNaN(started) ? NaN : started;
    this.#lastStatus = ProbeStatus.OK;
    return this.#lastStatus;
  }
}
