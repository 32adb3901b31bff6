/**
 * The records a session file is made of, built in one place: the header a writer opens the file
 * with, and the timing (T), error (E) and end (Z) records that follow its sample chunks.
 */
import { hostname, totalmem } from 'node:os';
import { processStartEpochMs } from '../probe/probe.js';
import type { PhaseSummary, SessionError, SessionSummary } from '../session/types.js';
import { SESSION_FORMAT, SESSION_FORMAT_VERSION, type SessionHeader, type SessionRecord } from './format.js';

/** What the caller knows of a new session; the rest of the header is this process and machine. */
export interface HeaderFields {
  id: string;
  startTime: number;
  metadata: Record<string, unknown>;
  pid: number;
  tree: boolean;
  intervalMs: number;
}

export function sessionHeader(f: HeaderFields): SessionHeader {
  return {
    t: 'H',
    format: SESSION_FORMAT,
    v: SESSION_FORMAT_VERSION,
    id: f.id,
    startTime: f.startTime,
    metadata: f.metadata,
    pid: f.pid,
    processStartTime: processStartEpochMs(f.pid),
    tree: f.tree,
    intervalMs: f.intervalMs,
    // Who writes the file: a loader tells a file still being written from one a crash left.
    writerPid: process.pid,
    writerStartTime: processStartEpochMs(process.pid),
    memTotalBytes: totalmem(),
    hostname: hostname(),
  };
}

/** A finished timing; `id` and `parentId` keep its nesting. */
export function timingRecord(phase: PhaseSummary, id: string, parentId?: string): SessionRecord {
  return { t: 'T', id, ...(parentId ? { parentId } : {}), ...phase };
}

export function errorRecord(e: SessionError): SessionRecord {
  return { t: 'E', ...e };
}

export function endRecord(summary: SessionSummary): SessionRecord {
  return { t: 'Z', summary };
}
