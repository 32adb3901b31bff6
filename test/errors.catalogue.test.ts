/**
 * The error catalogue: one class per code, the README's table 1:1 with it, errors rebuilt in
 * their class after a structured clone (as between threads) and after crossing the analysis
 * pool, and `instanceof` across a second copy of the package (a copy of dist/errors.js loaded as
 * its own module, as npm's duplicate installs do).
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import {
  DataDirLayoutError,
  ERROR_CLASSES,
  InvalidOptionError,
  PerformanceMonitor,
  ProcessNotFoundError,
  ProcprobeError,
  SamplerError,
} from '../dist/index.js';
import { errorData, rebuildError } from '../dist/errors.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const temp = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'procprobe-errors-'));
  dirs.push(d);
  return d;
};

describe('the error catalogue', () => {
  it('every class has its own code, and the README table lists exactly those codes with those classes', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const section = readme.slice(readme.indexOf('\n## Errors\n'), readme.indexOf('\n## ', readme.indexOf('\n## Errors\n') + 5));
    const rows = [...section.matchAll(/^\| `([A-Z_]+)` \| `([A-Za-z]+)` \|/gm)].map((m) => [m[1], m[2]]);
    const catalogue = Object.entries(ERROR_CLASSES).map(([code, cls]) => [code, cls.name]);
    expect(rows.sort()).toEqual(catalogue.sort());
    for (const [code, cls] of Object.entries(ERROR_CLASSES)) expect(cls.code).toBe(code);
  });

  it('an error rebuilt from its structured clone is of its class, with its fields, message and stack', () => {
    const original = new ProcessNotFoundError(424242);
    const back = rebuildError(structuredClone(errorData(original)));
    expect(back).toBeInstanceOf(ProcessNotFoundError);
    expect(back).toBeInstanceOf(ProcprobeError);
    expect(back).not.toBeInstanceOf(InvalidOptionError);
    expect(back).toMatchObject({ code: 'ERR_PROCPROBE_NO_SUCH_PROCESS', name: 'ProcessNotFoundError', pid: 424242, message: original.message });
    expect(back.stack).toBe(original.stack);
    // A function as the offending value cannot be cloned: dropped, the message still says what it was.
    const bad = rebuildError(structuredClone(errorData(new InvalidOptionError('options.pid', 'a positive integer', () => 1))));
    expect(bad).toBeInstanceOf(InvalidOptionError);
    expect(bad.message).toBe('options.pid must be a positive integer, got a function');
    // Something that is not ours comes back as the fallback class, its message kept.
    const plain = rebuildError(structuredClone(errorData(new TypeError('boom'))));
    expect(plain).toBeInstanceOf(SamplerError);
    expect(plain.message).toBe('boom');
  });

  it('an error thrown in the analysis pool arrives in its class (a data dir whose sessions/ is a file)', async () => {
    const dir = temp();
    mkdirSync(join(dir, 'index'));
    writeFileSync(join(dir, 'sessions'), 'not a folder');
    const pm = new PerformanceMonitor({ dataDir: dir });
    try {
      const err = await pm.getPerformanceStats().then(() => null, (e: unknown) => e);
      expect(err).toBeInstanceOf(DataDirLayoutError);
      expect(err).toMatchObject({ code: 'ERR_PROCPROBE_DATA_DIR_LAYOUT', path: join(dir, 'sessions') });
    } finally {
      await pm.close();
    }
  });

  it('instanceof holds across a second copy of the package, by brand and code', async () => {
    const dir = temp();
    for (const f of ['errors.js', 'errors.js.map']) copyFileSync(new URL(`../dist/${f}`, import.meta.url), join(dir, f));
    writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
    const copy = (await import(pathToFileURL(join(dir, 'errors.js')).href)) as typeof import('../dist/errors.js');
    expect(copy.ProcprobeError).not.toBe(ProcprobeError); // really another module instance
    const theirs = new copy.ProcessNotFoundError(7);
    expect(theirs).toBeInstanceOf(ProcessNotFoundError);
    expect(theirs).toBeInstanceOf(ProcprobeError);
    expect(theirs).not.toBeInstanceOf(InvalidOptionError);
    expect(new ProcessNotFoundError(7)).toBeInstanceOf(copy.ProcessNotFoundError);
    // A plain Error with a procprobe-like code is not one of ours: no brand.
    expect(Object.assign(new Error('x'), { code: 'ERR_PROCPROBE_NO_SUCH_PROCESS' })).not.toBeInstanceOf(ProcessNotFoundError);
  });
});
