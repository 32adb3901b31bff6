/**
 * Temp dirs for a test file: each made under the OS temp dir with a prefix naming the suite, and
 * all removed by removeTempDirs() (the suites call it in afterEach or afterAll, or through
 * test/helpers/cli.ts's cleanup()).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dirs: string[] = [];

/** A fresh temp dir whose name starts with `prefix`, e.g. 'procprobe-hist-'. */
export function tempDir(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
}

/** Remove every dir tempDir() made in this file so far. */
export function removeTempDirs(): void {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
}
