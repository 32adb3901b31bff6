/**
 * Where each of a tree session's figures came from, and which are exact: the kernel counted every
 * event (a cgroup's counters; wait4's rusage of the command, which holds every descendant it
 * waited for) or they were read at the sampling rate (the members' own counters plus their
 * reaped-children totals, levels summed at each sample). No I/O: the CLI tells what it had.
 */
import type { FigureSource, TreeAccount } from './types.js';
import type { CgroupCounters } from '../cgroup/tree-cgroup.js';

const EXACT = (from: FigureSource['from']): FigureSource => ({ from, exact: true });
const SAMPLED: FigureSource = { from: 'samples', exact: false };

/**
 * The account of a tree session: `cgroup` what its own cgroup counted (null: none), `wait4`
 * whether the one-shot phase's cumulative figures are the command's wait4 rusage.
 */
export function treeAccount(cgroup: CgroupCounters | null, wait4: boolean): TreeAccount {
  const has = (v: number | undefined): boolean => v !== undefined && Number.isFinite(v);
  return {
    cgroup,
    sources: {
      cpu: has(cgroup?.cpuUs) ? EXACT('cgroup') : wait4 ? EXACT('wait4') : SAMPLED,
      pageFaults: wait4 ? EXACT('wait4') : SAMPLED,
      contextSwitches: wait4 ? EXACT('wait4') : SAMPLED,
      memoryPeak: has(cgroup?.memoryPeakBytes) ? EXACT('cgroup') : SAMPLED,
      processesPeak: has(cgroup?.pidsPeak) ? EXACT('cgroup') : SAMPLED,
      rss: SAMPLED,
      pss: SAMPLED,
    },
  };
}

/** One line for a report: `cpu cgroup (exact) · page faults wait4 (exact) · rss samples …`. */
export function describeSources(a: TreeAccount): string {
  const names: Record<keyof TreeAccount['sources'], string> = { cpu: 'cpu', pageFaults: 'page faults', contextSwitches: 'context switches', memoryPeak: 'memory peak', processesPeak: 'processes peak', rss: 'rss', pss: 'pss' };
  return (Object.keys(names) as (keyof TreeAccount['sources'])[]).map((k) => `${names[k]} ${a.sources[k].from}${a.sources[k].exact ? ' (exact)' : ''}`).join(' · ');
}
