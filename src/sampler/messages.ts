/**
 * Control between the sampler worker and its owner: one tagged union, typed once. Data never
 * travels here: samples go through the shared ring.
 */
import type { ProbeBackend, ProbeBackendOption } from '../probe/probe.js';
import type { ErrorData } from '../errors.js';
import type { TreeProcess } from './processes.js';

export interface SamplerWorkerData {
  sab: SharedArrayBuffer;
  pid: number;
  tree: boolean;
  /** Tree without the root's own use: only its descendants (e.g. the CLI sampling its child). */
  excludeRoot: boolean;
  intervalMs: number;
  backend: ProbeBackendOption;
  rescanIntervalMs: number;
  /** Whether rescanIntervalMs was the default (live fork and exec events then lengthen it). */
  rescanDefault: boolean;
  /** ms between PSS readings; 0: none. */
  pssIntervalMs: number;
  /** ms between readings of fds, threads and per-thread switches (createProbe's countsIntervalMs). */
  countsIntervalMs: number;
  /** Whether a tree may lengthen countsIntervalMs as it grows (false when the user set it). */
  countsBudget: boolean;
}

export type WorkerMessage =
  /** The first sample is in the ring. */
  /** `tid`: the worker thread's kernel id (self-usage.ts), null where the OS has none to give. */
  | { code: 'READY'; backend: ProbeBackend; backendReason: string; intervalMs: number; firstSeq: number; treeDiscovery: string | null; tid: number | null }
  /** Something the user should know, sampling goes on (e.g. interval clamped). */
  | { code: 'WARNING'; error: ErrorData }
  /** A tree's counts budget changed every member's counts interval (sampler/tree-upkeep.ts), ms. */
  | { code: 'COUNTS_INTERVAL'; countsIntervalMs: number }
  /** Sampling failed and stopped. */
  | { code: 'ERROR'; error: ErrorData }
  /** The loop ended: asked to, or the target process exited. */
  | { code: 'STOPPED'; reason: 'requested' | 'target-exited'; status: number }
  /** A tree's process list, asked for with the PROCESSES header word. */
  | { code: 'PROCESSES'; list: TreeProcess[]; dropped: number };
