/**
 * Module figures of a session's node profile (node-hooks/types.ts) grouped the ways a person asks
 * about them: by package (`node_modules/<pkg>`), and by the tree each module pulled in after it.
 * Pure; used by the Node suggestions (node-suggest.ts), the terminal and the HTML reports.
 */
import type { NodeModule } from '../node-hooks/types.js';

/** `…/node_modules/@s/p/x.js` → `@s/p`; the innermost node_modules wins (a nested dependency is its own package). */
export function packageOf(path: string): string | null {
  const parts = path.split(/[\\/]/);
  const i = parts.lastIndexOf('node_modules');
  if (i < 0 || i + 1 >= parts.length) return null;
  const name = parts[i + 1]!;
  return name.startsWith('@') && i + 2 < parts.length ? `${name}/${parts[i + 2]}` : name;
}

export interface PackageTime {
  name: string;
  /** Σ self time of its modules. */
  selfMs: number;
  modules: number;
  /** Its module with the most self time. */
  slowest: NodeModule;
}

/** Self ms, module count and the slowest module of each package, the slowest package first. */
export function packageTimes(modules: readonly NodeModule[]): PackageTime[] {
  const by = new Map<string, PackageTime>();
  for (const m of modules) {
    const name = packageOf(m.path);
    if (name === null) continue;
    const p = by.get(name);
    if (!p) by.set(name, { name, selfMs: m.selfMs, modules: 1, slowest: m });
    else {
      p.selfMs += m.selfMs;
      p.modules++;
      if (m.selfMs > p.slowest.selfMs) p.slowest = m;
    }
  }
  return [...by.values()].sort((a, b) => b.selfMs - a.selfMs);
}

/** A module's key in one run: paths repeat across the processes of a tree. */
const keyOf = (m: Pick<NodeModule, 'pid' | 'path'>): string => `${m.pid}\0${m.path}`;

/** The modules each module loaded first (its children in NodeModule.parent links), by key. */
export function childrenOf(modules: readonly NodeModule[]): Map<string, NodeModule[]> {
  const children = new Map<string, NodeModule[]>();
  for (const m of modules) {
    if (m.parent === null || m.parent === m.path) continue;
    const k = keyOf({ pid: m.pid, path: m.parent });
    const list = children.get(k);
    if (list) list.push(m);
    else children.set(k, [m]);
  }
  return children;
}

/**
 * How many modules each module brought in, itself included (its subtree in first-importer
 * links; a cycle is counted once), by key. Iterative: a deep chain must not overflow the stack.
 */
export function treeSizes(modules: readonly NodeModule[], children = childrenOf(modules)): Map<string, number> {
  const size = new Map<string, number>();
  for (const root of modules) {
    const stack: [NodeModule, boolean][] = [[root, false]];
    const visiting = new Set<string>();
    while (stack.length > 0) {
      const [m, expanded] = stack.pop()!;
      const k = keyOf(m);
      if (size.has(k)) continue;
      const kids = children.get(k) ?? [];
      if (expanded) {
        size.set(k, 1 + kids.reduce((n, c) => n + (size.get(keyOf(c)) ?? 0), 0));
        continue;
      }
      if (visiting.has(k)) continue;
      visiting.add(k);
      stack.push([m, true]);
      for (const c of kids) if (!size.has(keyOf(c)) && !visiting.has(keyOf(c))) stack.push([c, false]);
    }
  }
  return size;
}

export { keyOf as moduleKey };
