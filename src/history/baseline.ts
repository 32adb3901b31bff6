/**
 * Baseline files (`procprobe run --save-baseline FILE`, read back by `--baseline FILE`): the
 * history a CI job can keep. One self-describing JSON document, meant to be committed or cached:
 * what was run, with which settings, on which machine, and every measured run's phases with their
 * resources. The data dir's msgpack history stays local; this file travels.
 *
 * Reading is strict where a comparison depends on it (the format name, the version, runs with
 * phase names and durations) and lenient elsewhere (unknown fields are ignored, as the
 * schemaVersion rule allows). Every refusal is a BaselineFormatError naming the file.
 */
import { availableParallelism, cpus, release } from 'node:os';
import { BaselineFormatError } from '../errors.js';
import { procprobeVersion, SCHEMA_VERSION } from '../schema.js';
import type { PhaseSummary, ResourceDelta, SessionSummary } from '../session/types.js';
import { totalStartupMs } from '../session/types.js';

/** The value of the `format` field: what says "this is a procprobe baseline" to a reader. */
export const BASELINE_FORMAT = 'procprobe-baseline';

/** The machine a baseline was measured on: a comparison across machines compares the machines. */
export interface MachineInfo {
  cpuModel: string;
  /** CPUs this process may use (os.availableParallelism: the affinity mask, not the socket). */
  cores: number;
  platform: string;
  arch: string;
  /** os.release(): the kernel's version on Linux. */
  kernel: string;
  node: string;
  procprobe: string;
}

export interface BaselineRun {
  sessionId: string;
  /** ms since the epoch. */
  startTime: number;
  totalStartupMs: number;
  /** Every timing of the session (name, offset, duration, success, resources), as `run --json` has them. */
  phases: PhaseSummary[];
  /** The whole session's resources; null without samples. */
  resources: ResourceDelta | null;
}

export interface Baseline {
  format: typeof BASELINE_FORMAT;
  schemaVersion: number;
  /** ISO 8601, UTC. */
  createdAt: string;
  command: string[];
  label: string;
  /** The options of the run that shape its timings (readiness, sampling, runs, warmup). */
  settings: Record<string, unknown>;
  machine: MachineInfo;
  runs: BaselineRun[];
}

/** This machine, as a baseline records it. */
export function machineInfo(): MachineInfo {
  return {
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    cores: availableParallelism(),
    platform: process.platform,
    arch: process.arch,
    kernel: release(),
    node: process.version,
    procprobe: procprobeVersion(),
  };
}

/** A baseline of these measured sessions (successful runs only: a failed start has no startup time to compare). */
export function buildBaseline(command: string[], label: string, settings: Record<string, unknown>, runs: readonly SessionSummary[]): Baseline {
  return {
    format: BASELINE_FORMAT,
    schemaVersion: SCHEMA_VERSION,
    createdAt: new Date().toISOString(),
    command,
    label,
    settings,
    machine: machineInfo(),
    runs: runs.map((s) => ({ sessionId: s.id, startTime: s.startTime, totalStartupMs: totalStartupMs(s), phases: s.phases, resources: s.resources ?? null })),
  };
}

/** JSON writes NaN as null (JSON.stringify's rule): read null back as NaN where a number is meant. */
const num = (v: unknown): number => (typeof v === 'number' ? v : NaN);

/**
 * Parse and check a baseline file's text. `source` names it in every message (the path).
 *
 * @throws BaselineFormatError when it is not JSON, not a procprobe baseline, newer than this
 *   procprobe reads, or without runs and phases
 */
export function parseBaseline(text: string, source: string): Baseline {
  const fail = (why: string): never => {
    throw new BaselineFormatError(`baseline ${source}: ${why}`);
  };
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    return fail(`not JSON (${(err as Error).message})`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return fail('not a procprobe baseline (a JSON object with "format": "procprobe-baseline")');
  const d = doc as Record<string, unknown>;
  if (d.format !== BASELINE_FORMAT) {
    // hyperfine's --export-json and procprobe's own --export-hyperfine look like this: say so.
    const what = Array.isArray(d.results) ? 'a hyperfine export, not a procprobe baseline' : `not a procprobe baseline (its "format" is ${JSON.stringify(d.format) ?? 'missing'}, not "${BASELINE_FORMAT}")`;
    return fail(`${what}: write one with procprobe run --save-baseline`);
  }
  if (!Number.isInteger(d.schemaVersion) || (d.schemaVersion as number) < 1) return fail(`schemaVersion must be a positive integer, got ${JSON.stringify(d.schemaVersion)}`);
  if ((d.schemaVersion as number) > SCHEMA_VERSION) return fail(`schemaVersion ${d.schemaVersion} is newer than this procprobe reads (${SCHEMA_VERSION}): upgrade procprobe`);
  if (!Array.isArray(d.runs) || d.runs.length === 0) return fail('has no runs');
  const runs = d.runs.map((r: unknown, i: number) => parseRun(r, i, fail));
  const command = Array.isArray(d.command) && d.command.every((c) => typeof c === 'string') ? (d.command as string[]) : fail('"command" must be an array of strings');
  const m = (typeof d.machine === 'object' && d.machine !== null ? d.machine : {}) as Record<string, unknown>;
  const str = (v: unknown): string => (typeof v === 'string' ? v : 'unknown');
  return {
    format: BASELINE_FORMAT,
    schemaVersion: d.schemaVersion as number,
    createdAt: str(d.createdAt),
    command,
    label: typeof d.label === 'string' ? d.label : command.join(' '),
    settings: typeof d.settings === 'object' && d.settings !== null ? (d.settings as Record<string, unknown>) : {},
    machine: { cpuModel: str(m.cpuModel), cores: num(m.cores), platform: str(m.platform), arch: str(m.arch), kernel: str(m.kernel), node: str(m.node), procprobe: str(m.procprobe) },
    runs,
  };
}

/** One run of the file: phases with a name and a duration at least (the rest is kept as it is). */
function parseRun(r: unknown, i: number, fail: (why: string) => never): BaselineRun {
  if (typeof r !== 'object' || r === null || !Array.isArray((r as { phases?: unknown }).phases)) return fail(`runs[${i}] has no "phases" array`);
  const run = r as Record<string, unknown>;
  const phases = (run.phases as unknown[]).map((p, j): PhaseSummary => {
    const ph = p as Record<string, unknown> | null;
    if (typeof ph !== 'object' || ph === null || typeof ph.name !== 'string') return fail(`runs[${i}].phases[${j}] has no "name"`);
    if (ph.durationMs !== null && typeof ph.durationMs !== 'number') return fail(`runs[${i}].phases[${j}].durationMs must be a number, got ${JSON.stringify(ph.durationMs)}`);
    return { ...(ph as unknown as PhaseSummary), durationMs: num(ph.durationMs), success: ph.success !== false };
  });
  return {
    sessionId: typeof run.sessionId === 'string' ? run.sessionId : `run ${i + 1}`,
    startTime: num(run.startTime),
    totalStartupMs: num(run.totalStartupMs),
    phases,
    resources: (run.resources as ResourceDelta | null | undefined) ?? null,
  };
}

/** The fields of two machines that differ, as `name: baseline → now` (empty when they match). */
export function machineDifferences(then: MachineInfo, now: MachineInfo): string[] {
  const keys: (keyof MachineInfo)[] = ['cpuModel', 'cores', 'platform', 'arch', 'kernel', 'node', 'procprobe'];
  return keys.filter((k) => then[k] !== now[k]).map((k) => `${k} ${JSON.stringify(then[k])} → ${JSON.stringify(now[k])}`);
}
