/**
 * Every benchmark module loads against today's dist/ and has the shape the runner needs (name,
 * question, run). Importing is cheap and runs nothing; it catches what once broke `npm run bench`
 * unnoticed: a bench importing an export that had been renamed.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const dir = new URL('../bench/', import.meta.url);
const files = readdirSync(dir).filter((f) => f.endsWith('.bench.mjs'));

describe('bench/*.bench.mjs', () => {
  it('there are benchmarks', () => {
    expect(files.length).toBeGreaterThanOrEqual(4);
  });
  // In plain node, not through vitest's module runner: it lets a missing named export through
  // as undefined, where node refuses to link the module.
  it.each(files)('%s loads in node and exports name, question and run()', (file) => {
    const script = `const m = await import(${JSON.stringify(new URL(file, dir).href)}); console.log(JSON.stringify([typeof m.name, typeof m.question, typeof m.run]));`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout.trim().split('\n').pop()!)).toEqual(['string', 'string', 'function']);
  });
});
