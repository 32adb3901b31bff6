/** A session file's records back into a session: samples, timings, errors, summary. */
import type { PhaseSummary, SessionError, SessionSummary } from '../session/types.js';
import { F } from '../probe/layout.js';
import { createProbe } from '../probe/probe.js';
import { R } from '../ring/layout.js';
import { resourceDelta } from '../session/resources.js';
import type { SessionSamples } from '../session/types.js';
import { decodeChunk, type SessionHeader, type SessionRecord } from './format.js';

export interface LoadedSession {
  header: SessionHeader;
  /** From the file's end record, or rebuilt from what was written (incomplete). */
  summary: SessionSummary;
  samples: SessionSamples;
  /** Its writer is still running: the session is not finished yet. */
  inProgress: boolean;
}

/** Is the process that wrote this header still the same live process? */
function writerAlive(h: SessionHeader): boolean {
  if (h.writerPid === process.pid) return Math.abs(h.writerStartTime - (Date.now() - process.uptime() * 1e3)) < 2000;
  try {
    const probe = createProbe({ pid: h.writerPid });
    const start = probe.sampleSync().startTime;
    probe.close();
    return Math.abs(start - h.writerStartTime) < 2000;
  } catch {
    return false;
  }
}

export function parseSession(records: SessionRecord[]): LoadedSession {
  const header = records[0] as SessionHeader;
  let gaugeNames: string[] = [];
  let total = 0;
  let end: SessionSummary | null = null;
  const phases: PhaseSummary[] = [];
  const errors: SessionError[] = [];
  for (const r of records) {
    if (r.t === 'S') total += r.n;
    else if (r.t === 'G') gaugeNames = r.names;
    else if (r.t === 'Z') end = r.summary;
    else if (r.t === 'E') errors.push({ timestamp: r.timestamp, message: r.message, ...(r.operation ? { operation: r.operation } : {}) });
    else if (r.t === 'T') {
      const { t: _t, id: _id, parentId: _p, ...phase } = r;
      phases.push(phase);
    }
  }
  const stride = R.GAUGES + gaugeNames.length;
  const out = new Float64Array(total * stride);
  let at = 0;
  for (const r of records) if (r.t === 'S') at += decodeChunk(r, header, out, stride, at);
  const samples: SessionSamples = { records: out, stride, count: at, gaugeNames };
  if (end) return { header, summary: end, samples, inProgress: false };

  const inProgress = writerAlive(header);
  const lastTs = at > 0 ? out[(at - 1) * stride + R.ROW + F.timestamp]! : header.startTime;
  const resources = resourceDelta(out, stride, at, header.startTime, lastTs);
  const summary: SessionSummary = {
    id: header.id,
    startTime: header.startTime,
    endTime: lastTs,
    durationMs: lastTs - header.startTime,
    success: false,
    incomplete: true,
    metadata: header.metadata,
    phases,
    errors,
    ...(resources ? { resources } : {}),
  };
  return { header, summary, samples, inProgress };
}
