/** StartupSession and ResourceSnapshot: the seed's data classes. */
import type { PhaseSummary, ResourceDelta, SampleAccount, SamplerAccount, SessionError, SessionSamples, SessionSummary, TreeAccount } from './types.js';
import { FIELD_COUNT, FIELDS, type ProcessSample } from '../probe/layout.js';
import { createProbe, type Probe } from '../probe/probe.js';
import { R } from '../ring/layout.js';
import type { ProcprobeError } from '../errors.js';
import type { TreeProcess } from '../sampler/processes.js';
import type { NodeProfile } from '../node-hooks/types.js';

/** Complete startup session data. */
export class StartupSession {
  readonly id: string;
  readonly metadata: Record<string, unknown>;
  /** ms since epoch. */
  readonly startTime: number;
  endTime = NaN;
  success: boolean | undefined = undefined;
  /** The process died before the session was finished (recovered from history). */
  incomplete = false;
  /**
   * Its history file was written whole, end record included (set by finishSession). False when
   * writing failed (a full disk, say): `saveError` says why; the history then holds no file of it,
   * or, when only the end record failed, one that loads as incomplete.
   */
  saved = false;
  saveError: ProcprobeError | undefined = undefined;
  readonly timings: PhaseSummary[] = [];
  readonly errors: SessionError[] = [];
  /** Resource use over the whole session. */
  resources: ResourceDelta | undefined = undefined;
  samples: SessionSamples | undefined = undefined;
  /** What the figures rest on and what the ring's readers missed (set by finishSession). */
  sampleAccount: SampleAccount | undefined = undefined;
  /** What the sampler itself cost during the session (set by finishSession). */
  sampler: SamplerAccount | undefined = undefined;
  /** A tree's processes at the end (set by finishSession). */
  processes: { list: TreeProcess[]; dropped: number } | undefined = undefined;
  /** What the run's Node processes reported from inside (procprobe run's node hooks). */
  node: NodeProfile | undefined = undefined;
  /** A `procprobe run` tree's exact counters and figure sources (set by the CLI before finishSession). */
  tree: TreeAccount | undefined = undefined;

  constructor(id: string, metadata: Record<string, unknown>, startTime: number) {
    this.id = id;
    this.metadata = metadata;
    this.startTime = startTime;
  }

  get finished(): boolean {
    return !Number.isNaN(this.endTime);
  }

  get durationMs(): number {
    return this.endTime - this.startTime;
  }

  /** Mark the session as finished (the seed's finish(success)). */
  finish(success: boolean, endTime = Date.now()): void {
    this.endTime = endTime;
    this.success = success;
  }

  /** Samples as objects (allocates). */
  getSamples(): ProcessSample[] {
    const s = this.samples;
    if (!s) return [];
    const list: ProcessSample[] = [];
    for (let i = 0; i < s.count; i++) {
      const o = {} as ProcessSample;
      for (let f = 0; f < FIELD_COUNT; f++) o[FIELDS[f]!] = s.records[i * s.stride + R.ROW + f]!;
      list.push(o);
    }
    return list;
  }

  /** What the history index keeps. */
  toSummary(): SessionSummary {
    return {
      id: this.id,
      startTime: this.startTime,
      endTime: this.endTime,
      durationMs: this.durationMs,
      success: this.success === true,
      incomplete: this.incomplete,
      metadata: this.metadata,
      phases: this.timings,
      errors: this.errors,
      ...(this.resources ? { resources: this.resources } : {}),
      ...(this.processes ? { processes: this.processes.list, processesDropped: this.processes.dropped } : {}),
      ...(this.sampler ? { sampler: this.sampler } : {}),
      ...(this.node ? { node: this.node } : {}),
      ...(this.tree ? { tree: this.tree } : {}),
    };
  }
}

const probes = new Map<number, Probe>();

/** System resource usage snapshot (the seed's ResourceSnapshot). */
export class ResourceSnapshot {
  readonly timestamp: number;
  readonly pid: number;
  readonly cpuPercent: number;
  readonly cpuUserUs: number;
  readonly cpuSystemUs: number;
  readonly rssBytes: number;
  readonly memoryMb: number;
  readonly memoryPercent: number;
  readonly openFds: number;
  readonly threads: number;
  readonly voluntaryContextSwitches: number;
  readonly involuntaryContextSwitches: number;

  constructor(s: ProcessSample) {
    this.timestamp = s.timestamp;
    this.pid = s.pid;
    this.cpuPercent = s.cpuPercent;
    this.cpuUserUs = s.cpuUserUs;
    this.cpuSystemUs = s.cpuSystemUs;
    this.rssBytes = s.rssBytes;
    this.memoryMb = s.rssBytes / 1048576;
    this.memoryPercent = s.memoryPercent;
    this.openFds = s.openFds;
    this.threads = s.threads;
    this.voluntaryContextSwitches = s.voluntaryContextSwitches;
    this.involuntaryContextSwitches = s.involuntaryContextSwitches;
  }

  /**
   * Capture current resource usage with one synchronous read (no worker). The probe of each pid
   * is kept for the next capture, so cpuPercent covers the time since the previous capture.
   */
  static capture(pid = process.pid): ResourceSnapshot {
    let probe = probes.get(pid);
    if (!probe || probe.closed) {
      probe = createProbe({ pid });
      probes.set(pid, probe);
    }
    try {
      return new ResourceSnapshot(probe.sampleSync());
    } catch (err) {
      probe.close();
      probes.delete(pid);
      throw err;
    }
  }
}

