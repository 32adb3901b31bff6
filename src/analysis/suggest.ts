/**
 * Optimisation suggestions from the stats and the sessions behind them. Each rule fires only on
 * its evidence, which it reports; pure and synchronous.
 */
import { TOTAL_STARTUP, type SessionSummary } from '../session/types.js';
import type { PerformanceStats, Suggestion, SuggestionKind } from './types.js';
import { COMPUTE_ADVICE, CONTENTION_ADVICE } from './advice.js';
import { dominantRuntime, type Runtime } from './runtime.js';
import { nodeSuggestions } from './node-suggest.js';
import { quantile, sortedWithoutNaN } from './stats.js';

const MiB = 1024 * 1024;

/** A phase above half the median startup: nothing else can save as much (the rest is < 50 %). */
export const DOMINANT_SHARE = 0.5;
/** ...and another phase of at least 0.5 ms median beside it: one phase alone dominates nothing. */
export const DOMINANT_MIN_OTHER_MS = 0.5;
/** Mean CPU ≥ 80 % of one core: the phase computes (parse, compile, run JS) rather than waits. */
export const CPU_BOUND_PERCENT = 80;
/** ...over at least 20 ms median: shorter phases are not worth optimising and few samples cover them. */
export const CPU_BOUND_MIN_MS = 20;
/** Mean CPU ≤ 20 % of one core: the phase spends most of its wall time blocked (I/O, timers, network). */
export const WAITING_PERCENT = 20;
/** ...over at least 100 ms median: a noticeable wait, long enough that overlapping it pays. */
export const WAITING_MIN_MS = 100;
/** Median RSS growth over a phase of 50 MiB is a large eager load wherever the process starts. */
export const RSS_GROWTH_BYTES = 50 * MiB;
/** ...or growth by half of the RSS the phase starts with: the phase dominates memory. */
export const RSS_GROWTH_FRACTION = 0.5;
/**
 * Involuntary context switches per CPU-second: an uncontended thread is preempted at most a few
 * hundred times per second (scheduler ticks, timeslice ends), 1000+ means it waits for a core.
 */
export const CONTENTION_SWITCHES_PER_CPU_S = 1000;
/** Below 100 ms of CPU in total over a phase, a handful of switches gives a meaningless rate. */
export const CONTENTION_MIN_CPU_MS = 100;
/** fd leak: the last this-many sessions with resource data are examined... */
export const FD_LEAK_WINDOW = 10;
/** ...at least 5 of them, so one spike cannot look like a trend... */
export const FD_LEAK_MIN_SESSIONS = 5;
/** ...the count at session end must rise by 10 or more (first to last): jitter is a few fds... */
export const FD_LEAK_MIN_RISE = 10;
/** ...and rise steadily: Spearman rank correlation with session order ≥ 0.8. */
export const FD_LEAK_MIN_SPEARMAN = 0.8;

/** Most urgent first: a regression, then the biggest lever, then the more speculative findings. */
const KIND_ORDER: readonly SuggestionKind[] = [
  'degrading_trend',
  'dominant_phase',
  // From inside a Node startup (node-suggest.ts): which module, package, GC or loop to act on.
  'slow_package',
  'sync_require_tree',
  'slow_module',
  'loop_blocked_before_listen',
  'startup_gc',
  'slow_node_bootstrap',
  'cpu_bound_phase',
  'waiting_phase',
  'rss_growth',
  'fd_leak',
  'cpu_contention',
];

interface PhaseResources {
  rssDelta: number[];
  rssStart: number[];
  involuntary: number;
  cpuMs: number;
  samples: number;
}

const r1 = (x: number) => Math.round(x * 10) / 10;
const pct = (fraction: number) => `${r1(fraction * 100)} %`;
const ms = (x: number) => `${Math.round(x)} ms`;
const mib = (bytes: number) => `${r1(bytes / MiB)} MiB`;

/**
 * Suggestions, most important first (degrading_trend, dominant_phase, cpu_bound_phase,
 * waiting_phase, rss_growth, fd_leak, cpu_contention; within a kind, the larger effect first).
 * Rules (thresholds are the exported constants):
 * - dominant_phase: a phase's median duration > 50 % of the median total startup, with another
 *   phase of ≥ 0.5 ms median beside it (Node's node:* milestones, inside process_startup, are not).
 * - cpu_bound_phase: mean CPU ≥ 80 % of one core, median duration ≥ 20 ms.
 * - waiting_phase: mean CPU ≤ 20 % of one core, median duration ≥ 100 ms.
 * - rss_growth: median RSS delta over the phase ≥ 50 MiB or ≥ 50 % of its median starting RSS.
 * - cpu_contention: Σ involuntary context switches / Σ CPU seconds over a phase ≥ 1000
 *   (with ≥ 100 ms of CPU in total).
 * - fd_leak: fds open at the end of the last ≤ 10 sessions with resources (≥ 5): Spearman ρ with
 *   session order ≥ 0.8 and a rise, first to last, ≥ 10.
 * - degrading_trend: the total or a phase whose trend verdict is 'degrading'.
 * - slow_package, slow_module, sync_require_tree, startup_gc, loop_blocked_before_listen,
 *   slow_node_bootstrap: from the latest session's node profile (node-suggest.ts).
 *
 * @param stats the stats (durations in ms, CPU in % of one core)
 * @param sessions the sessions the stats were computed from (any order)
 * @returns the suggestions; evidence in ms, bytes, percent (named so) and counts
 */

export function suggest(stats: Omit<PerformanceStats, 'suggestions'>, sessions: readonly SessionSummary[]): Suggestion[] {
  const out: { s: Suggestion; weight: number }[] = [];
  const add = (weight: number, s: Suggestion) => out.push({ s, weight });

  const t = stats.totalTrend;
  if (t.verdict === 'degrading') {
    add(Infinity, {
      kind: 'degrading_trend',
      message: `Startup got ${pct(t.delta)} slower: median of the last ${t.recentCount} runs against the ${t.baselineCount} before (p = ${t.p.toPrecision(2)}, gate ${pct(t.gate)}). Look at what changed since: dependencies, configuration, data size.`,
      evidence: evidenceOfTrend('total', t),
    });
  }
  const runtime = dominantRuntime(sessions); // advice only for what the command is
  for (const ph of stats.phases) phaseSuggestions(ph, stats, runtime, add);
  for (const [name, r] of resourcesByPhase(sessions)) if (name !== TOTAL_STARTUP) resourceSuggestions(name, r, runtime, add);

  nodeSuggestions(sessions, add);

  const fd = fdLeak(sessions);
  if (fd) add(fd.rise, fd.suggestion);

  out.sort((a, b) => KIND_ORDER.indexOf(a.s.kind) - KIND_ORDER.indexOf(b.s.kind) || b.weight - a.weight);
  return out.map((o) => o.s);
}

type Add = (weight: number, s: Suggestion) => void;

/** A phase's trend, its share of startup, and whether it computes or waits. */
function phaseSuggestions(ph: PerformanceStats['phases'][number], stats: Omit<PerformanceStats, 'suggestions'>, runtime: Runtime, add: Add): void {
  const totalMedian = stats.totalStartup.median;
  const med = ph.durations.median;
  // total_startup is the whole startup: its trend matters, but where the time and the resources
  // go is told by the phases inside it.
  const aggregate = ph.name === TOTAL_STARTUP;
  if (ph.trend.verdict === 'degrading') {
    add(ph.trend.delta, {
      kind: 'degrading_trend',
      phase: ph.name,
      message: `'${ph.name}' got ${pct(ph.trend.delta)} slower: median of the last ${ph.trend.recentCount} runs against the ${ph.trend.baselineCount} before (p = ${ph.trend.p.toPrecision(2)}, gate ${pct(ph.trend.gate)}). Look at what it does differently since.`,
      evidence: evidenceOfTrend(ph.name, ph.trend),
    });
  }
  if (aggregate) return;
  // Only beside other phases: a startup that is one phase (a one-shot command) has no lever to
  // point at. Node's bootstrap milestones (node:*) are inside process_startup, not beside it.
  const beside = (p: (typeof stats.phases)[number]) => p !== ph && p.name !== TOTAL_STARTUP && !p.name.startsWith('node:') && p.durations.median >= DOMINANT_MIN_OTHER_MS;
  const others = stats.phases.filter(beside).length;
  if (totalMedian > 0 && med > DOMINANT_SHARE * totalMedian && others > 0) {
    add(med / totalMedian, {
      kind: 'dominant_phase',
      phase: ph.name,
      message: `'${ph.name}' takes ${pct(med / totalMedian)} of startup (median ${ms(med)} of ${ms(totalMedian)}): it is where shortening startup starts.`,
      evidence: { phaseMedianMs: med, totalMedianMs: totalMedian, sharePercent: (100 * med) / totalMedian },
    });
  }
  const cpu = ph.meanCpuPercent;
  if (cpu >= CPU_BOUND_PERCENT && med >= CPU_BOUND_MIN_MS) {
    add(med * cpu, {
      kind: 'cpu_bound_phase',
      phase: ph.name,
      message: `'${ph.name}' computes rather than waits (mean CPU ${r1(cpu)} % of one core over a median ${ms(med)}). ${COMPUTE_ADVICE[runtime]}`,
      evidence: { meanCpuPercent: cpu, medianMs: med, runtime },
    });
  }
  if (cpu <= WAITING_PERCENT && med >= WAITING_MIN_MS) {
    add(med, {
      kind: 'waiting_phase',
      phase: ph.name,
      message: `'${ph.name}' mostly waits (mean CPU ${r1(cpu)} % of one core over a median ${ms(med)}): overlap it with other startup work (start it earlier, run independent steps concurrently), and check DNS, disk and network calls and their timeouts.`,
      evidence: { meanCpuPercent: cpu, medianMs: med },
    });
  }
}

/** A phase's memory growth and CPU contention, from its resource deltas over the sessions. */
function resourceSuggestions(name: string, r: PhaseResources, runtime: Runtime, add: Add): void {
  const delta = quantile(sortedWithoutNaN(r.rssDelta), 0.5);
  const start = quantile(sortedWithoutNaN(r.rssStart), 0.5);
  if (delta >= RSS_GROWTH_BYTES || (start > 0 && delta >= RSS_GROWTH_FRACTION * start)) {
    add(delta, {
      kind: 'rss_growth',
      phase: name,
      message: `'${name}' grows RSS by ${mib(delta)} (median over ${r.samples} runs; ${start > 0 ? `${pct(delta / start)} of the ${mib(start)} it starts with` : 'from nothing: the process is born in it'}): look for large eager loads, caches or buffers built up front, and load or stream them on demand.`,
      evidence: { medianRssDeltaBytes: delta, medianRssStartBytes: start, growthPercent: (100 * delta) / start, samples: r.samples },
    });
  }
  const cpuS = r.cpuMs / 1000;
  const rate = r.involuntary / cpuS;
  if (r.cpuMs >= CONTENTION_MIN_CPU_MS && rate >= CONTENTION_SWITCHES_PER_CPU_S) {
    add(rate, {
      kind: 'cpu_contention',
      phase: name,
      message: `'${name}' is preempted ${Math.round(rate)} times per CPU-second (involuntary context switches): it competes for CPU. ${CONTENTION_ADVICE[runtime]}`,
      evidence: { involuntarySwitchesPerCpuSecond: rate, involuntaryContextSwitches: r.involuntary, cpuMs: r.cpuMs, samples: r.samples, runtime },
    });
  }
}

function evidenceOfTrend(scope: string, t: PerformanceStats['totalTrend']): Record<string, number | string> {
  return {
    scope,
    deltaPercent: 100 * t.delta,
    p: t.p,
    gatePercent: 100 * t.gate,
    recentCount: t.recentCount,
    baselineCount: t.baselineCount,
  };
}

/** Per phase name: RSS figures and summed switches/CPU over every timing that has resources. */
function resourcesByPhase(sessions: readonly SessionSummary[]): Map<string, PhaseResources> {
  const map = new Map<string, PhaseResources>();
  for (const s of sessions) {
    for (const ph of s.phases) {
      const res = ph.resources;
      if (!res) continue;
      let r = map.get(ph.name);
      if (!r) map.set(ph.name, (r = { rssDelta: [], rssStart: [], involuntary: 0, cpuMs: 0, samples: 0 }));
      r.samples++;
      r.rssDelta.push(res.rssDeltaBytes);
      r.rssStart.push(res.rssStartBytes);
      if (Number.isFinite(res.involuntaryContextSwitches) && Number.isFinite(res.cpuMs)) {
        r.involuntary += res.involuntaryContextSwitches;
        r.cpuMs += res.cpuMs;
      }
    }
  }
  return map;
}

/** The fd_leak rule over the sessions' whole-session resources, in start order. */
function fdLeak(sessions: readonly SessionSummary[]): { rise: number; suggestion: Suggestion } | undefined {
  const measured = sessions.filter((s) => s.resources !== undefined && Number.isFinite(s.resources.fdsEnd));
  measured.sort((a, b) => a.startTime - b.startTime);
  const window = measured.slice(-FD_LEAK_WINDOW);
  const n = window.length;
  if (n < FD_LEAK_MIN_SESSIONS) return undefined;
  const fds = window.map((s) => (s.resources as NonNullable<SessionSummary['resources']>).fdsEnd);
  const first = fds[0] as number;
  const last = fds[n - 1] as number;
  const rise = last - first;
  const rho = spearmanWithOrder(fds);
  if (!(rise >= FD_LEAK_MIN_RISE && rho >= FD_LEAK_MIN_SPEARMAN)) return undefined;
  return {
    rise,
    suggestion: {
      kind: 'fd_leak',
      message: `Open file descriptors at the end of startup rose from ${first} to ${last} over the last ${n} sessions (Spearman ρ ${rho.toFixed(2)}): something is opened per run and never closed, or one per accumulated item (log, cache, lock files). List what the process holds (/proc/<pid>/fd, lsof -p).`,
      evidence: { sessions: n, firstFds: first, lastFds: last, rise, spearman: rho },
    },
  };
}

/** Spearman ρ between values and their position (0, 1, 2, ...), midranks for ties; NaN if constant. */
function spearmanWithOrder(values: readonly number[]): number {
  const n = values.length;
  const order = Array.from(values.keys()).sort((a, b) => (values[a] as number) - (values[b] as number));
  const ranks = new Float64Array(n);
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && values[order[j + 1] as number] === values[order[i] as number]) j++;
    for (let k = i; k <= j; k++) ranks[order[k] as number] = (i + j) / 2;
    i = j + 1;
  }
  const mean = (n - 1) / 2;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = i - mean;
    const dy = (ranks[i] as number) - mean;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  return sxy / Math.sqrt(sxx * syy);
}
