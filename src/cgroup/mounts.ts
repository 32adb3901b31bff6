/**
 * Where this process's cgroups are: each mounted hierarchy (cgroup v2's unified one, and v1's
 * per-controller ones on a hybrid or legacy machine) with the directory of the group this
 * process is in. A tree's own group is made inside ours, never at a hierarchy's root: on a v1
 * machine the memory group we are in may carry the container's limit, and a child group stays
 * charged to it (hierarchical accounting), where a group at the root would escape it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** One hierarchy: `v2`, or the v1 controllers it carries (`memory`, `pids`, `cpuacct`...). */
export interface Hierarchy {
  version: 1 | 2;
  /** v1: the controllers mounted there; v2: empty (what is enabled is per group). */
  controllers: string[];
  /** The directory of this process's group in it. */
  dir: string;
}

/** /proc/self/cgroup: `id:controllers:path` per line (v2: `0::path`). */
function ownPaths(): { v2: string | null; v1: Map<string, string> } {
  const v1 = new Map<string, string>();
  let v2: string | null = null;
  for (const line of readFileSync('/proc/self/cgroup', 'utf8').split('\n')) {
    const m = /^\d+:([^:]*):(.*)$/.exec(line);
    if (!m) continue;
    if (m[1] === '') v2 = m[2]!;
    else for (const c of m[1]!.split(',')) v1.set(c, m[2]!);
  }
  return { v2, v1 };
}

/** A mount's path field with its octal escapes (a space is `\040`) decoded. */
const unescape = (s: string): string => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));

/**
 * The hierarchies mounted here with our group's directory in each; empty off Linux or where
 * /proc is unreadable.
 */
export function hierarchies(): Hierarchy[] {
  let mounts: string;
  let own: ReturnType<typeof ownPaths>;
  try {
    mounts = readFileSync('/proc/self/mounts', 'utf8');
    own = ownPaths();
  } catch {
    return [];
  }
  const out: Hierarchy[] = [];
  for (const line of mounts.split('\n')) {
    const [, where, type, options] = line.split(' ');
    if (where === undefined || options === undefined) continue;
    const at = unescape(where);
    if (type === 'cgroup2' && own.v2 !== null) out.push({ version: 2, controllers: [], dir: join(at, own.v2) });
    if (type !== 'cgroup') continue;
    const controllers = options.split(',').filter((c) => own.v1.has(c));
    if (controllers.length > 0) out.push({ version: 1, controllers, dir: join(at, own.v1.get(controllers[0]!)!) });
  }
  return out;
}
