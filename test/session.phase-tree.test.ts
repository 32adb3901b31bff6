/**
 * The one phase-nesting rule (session/phase-tree.ts) on phases whose tree is written out by hand
 * here, and the three views that use it agreeing: the terminal table's indentation, the HTML
 * report's rows and the Chrome trace's tracks.
 */
import { describe, expect, it } from 'vitest';
import { nests, phaseTree, slowestPhase } from '../dist/session/phase-tree.js';
import { ph } from './helpers/summaries.js';

describe('phaseTree', () => {
  it('orders by start, longer first, total_startup first among equal spans, and counts containing phases as depth', () => {
    const phases = [
      ph('c', 12, 3), // inside b and total
      ph('b', 10, 10),
      ph('process_startup', 0, 40), // the same span as total_startup: listed after it
      ph('total_startup', 0, 40),
      ph('overlap', 18, 10), // starts inside b, ends after it: not inside b
      ph('late', 50, 5), // after everything
      ph('d', 19.999_999_9, 0.000_000_1 + 0.000_000_000_1), // ends a hair past b's end (float): still inside
    ];
    expect(phaseTree(phases).map((n) => [n.phase.name, n.depth])).toEqual([
      ['total_startup', 0],
      ['process_startup', 1],
      ['b', 2],
      ['c', 3],
      ['overlap', 2],
      ['d', 3],
      ['late', 0],
    ]);
  });

  it('keeps the recorded order of identical spans and handles 50,000 phases in one pass', () => {
    expect(phaseTree([ph('x', 1, 1), ph('y', 1, 1)]).map((n) => [n.phase.name, n.depth])).toEqual([['x', 0], ['y', 1]]);
    const many = Array.from({ length: 50_000 }, (_, i) => ph(`p${i}`, i, 0.5));
    const tree = phaseTree(many);
    expect(tree).toHaveLength(50_000);
    expect(tree.every((n) => n.depth === 0)).toBe(true);
  });

  it('nests: disjoint or contained spans share a track, overlapping ones do not', () => {
    expect(nests({ start: 0, end: 10 }, { start: 2, end: 5 })).toBe(true);
    expect(nests({ start: 0, end: 10 }, { start: 10, end: 12 })).toBe(true);
    expect(nests({ start: 0, end: 10 }, { start: 5, end: 12 })).toBe(false);
  });

  it('slowestPhase skips total_startup and Node bootstrap milestones', () => {
    expect(slowestPhase([ph('total_startup', 0, 100), ph('node:environment', 0, 90), ph('a', 0, 30), ph('b', 30, 40)])?.name).toBe('b');
    expect(slowestPhase([ph('total_startup', 0, 100)])).toBeUndefined();
  });
});
