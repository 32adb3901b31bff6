/**
 * The node-hooks part of the terminal report (`procprobe run`, `show`): the slowest modules by
 * self time, the packages (node_modules/<pkg>, @scope/pkg included) by the self time of their
 * modules, the first listen(), GC pauses and the loop's use before listen(). Everything is in
 * `--json` (the session's `node`).
 */
import type { NodeProfile } from '../node-hooks/types.js';
import { packageTimes } from '../analysis/node-modules.js';
import type { SessionSummary } from '../session/types.js';
import { escapeControls, fmtMs, fmtNum, table, type Style } from './terminal.js';

const short = (s: string): string => escapeControls(s.length > 70 ? `…${s.slice(-69)}` : s); // paths are anyone's bytes

/** The report's node section, or '' when the session has no node profile (or no modules). */
export function nodeSection(summary: SessionSummary, style: Style, top = 8): string {
  const node: NodeProfile | undefined = summary.node;
  if (!node || (node.modules.length === 0 && !node.listen)) return '';
  const out: string[] = [];
  const loadMs = node.modules.reduce((s, m) => s + m.selfMs, 0);
  const pids = new Set(node.modules.map((m) => m.pid)).size;
  out.push(style.bold(`modules: ${node.modules.length} loaded in ${fmtMs(loadMs)} (self time summed${pids > 1 ? `, ${pids} Node processes` : ''})`));
  if (node.modules.length > 0) {
    const slow = [...node.modules].sort((a, b) => b.selfMs - a.selfMs).slice(0, top);
    out.push(table(['module', 'kind', 'self', 'total', 'pid'], slow.map((m) => [`${short(m.path)}${m.failed ? style.red(' ✗') : ''}`, m.kind, fmtMs(m.selfMs), fmtMs(m.totalMs), String(m.pid)]), style));
  }
  const pkgs = packageTimes(node.modules).slice(0, top);
  if (pkgs.length > 0) {
    out.push('');
    out.push(table(['package', 'self', 'modules', 'slowest module'], pkgs.map((p) => [escapeControls(p.name), fmtMs(p.selfMs), fmtNum(p.modules), short(p.slowest.path)]), style));
  }
  if (node.listen) {
    const l = node.listen;
    const where = l.port === null ? l.address : `${l.address.includes(':') ? `[${l.address}]` : l.address}:${l.port}`;
    out.push(style.dim(`listen(): ${escapeControls(where)} by pid ${l.pid} at +${fmtMs(l.atMs - summary.startTime)}`));
  }
  if (node.gc.length > 0) {
    const longest = node.gc.reduce((a, b) => (b.durationMs > a.durationMs ? b : a));
    const sum = node.gc.reduce((t, g) => t + g.durationMs, 0);
    out.push(`GC: ${node.gc.length} pause${node.gc.length > 1 ? 's' : ''}, ${fmtMs(sum)} in all, longest ${fmtMs(longest.durationMs)} (${escapeControls(longest.kind)}) at +${fmtMs(longest.startTime - summary.startTime)}`);
  }
  const loop = node.loop.find((l) => l.at === 'listen' && l.pid === node.listen?.pid);
  // Before the loop started (a listen() in the entry's synchronous run) there is nothing to say.
  if (loop && loop.activeMs + loop.idleMs > 0) out.push(`event loop before listen(): busy ${fmtMs(loop.activeMs)} of ${fmtMs(loop.activeMs + loop.idleMs)} since it started`);
  if (node.dropped > 0) out.push(style.dim(`(${node.dropped} node-hooks records not kept)`));
  return out.join('\n');
}
