/**
 * The sampler's self-accounting of a session (SamplerAccount) from two usage marks, and the
 * warning a report prints when watching costs more than it should. No I/O: the marks are read
 * by the sampler (sampler/self-usage.ts).
 */
import type { SamplerUsageMark } from '../sampler/self-usage.js';
import type { SamplerAccount } from './types.js';

/** Above this share of one core (%) the sampler is said to perturb what it measures. */
export const SAMPLER_CPU_WARN_PERCENT = 2;
/** Above this share of deadlines missed (%) the achieved rate is not the one asked for. */
export const SAMPLER_MISSED_WARN_PERCENT = 1;

/** The account between two marks of the same sampler thread; CPU is NaN if the thread changed. */
export function samplerAccount(from: SamplerUsageMark, to: SamplerUsageMark, intervalMs: number): SamplerAccount {
  const wallMs = to.atMs - from.atMs;
  const cpuMs = from.tid !== null && from.tid === to.tid ? (to.cpuUs - from.cpuUs) / 1e3 : NaN;
  const records = to.records - from.records;
  // The header's count is an Int32 that wraps at 2^31: a difference modulo 2^32 stays right.
  const missed = (to.missed - from.missed) >>> 0;
  return {
    cpuMs,
    wallMs,
    corePercent: wallMs > 0 ? (cpuMs / wallMs) * 100 : NaN,
    intervalMs,
    targetHz: 1000 / intervalMs,
    achievedHz: wallMs > 0 ? records / (wallMs / 1e3) : NaN,
    records,
    missedDeadlines: missed,
    missedPercent: records + missed > 0 ? (missed / (records + missed)) * 100 : 0,
  };
}

/**
 * One sentence when the sampler used more than SAMPLER_CPU_WARN_PERCENT of a core or missed more
 * than SAMPLER_MISSED_WARN_PERCENT of its deadlines, naming `option` (the setting that lowers
 * both: a longer interval); null otherwise.
 */
export function samplerWarning(a: SamplerAccount, option: string): string | null {
  const parts: string[] = [];
  if (a.corePercent > SAMPLER_CPU_WARN_PERCENT) parts.push(`used ${a.corePercent.toFixed(1)} % of a core`);
  if (a.missedPercent > SAMPLER_MISSED_WARN_PERCENT) parts.push(`missed ${a.missedPercent.toFixed(1)} % of its deadlines`);
  if (parts.length === 0) return null;
  return `the sampler ${parts.join(' and ')} (over ${SAMPLER_CPU_WARN_PERCENT} % of a core or ${SAMPLER_MISSED_WARN_PERCENT} % missed perturbs what it measures): a longer ${option} (now ${a.intervalMs} ms) lowers it`;
}
