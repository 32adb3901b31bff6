#!/usr/bin/env node
// The TypeScript build: tsc -p tsconfig.build.json, then the CLI made executable.
// --if-stale (the `prepare` hook) does nothing when dist/ is newer than every source: npm runs
// `prepare` again whenever it links this folder (npx in a clone, `npm install ../procprobe`),
// and a full tsc there would cost seconds for nothing.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const stamp = join(root, 'dist', '.build-stamp');

/** Newest modification time under `dir` (recursive, directories too: a deleted file changes its folder's), ms. */
function newest(dir) {
  let t = statSync(dir).mtimeMs;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

if (process.argv.includes('--if-stale') && existsSync(stamp)) {
  const inputs = Math.max(newest(join(root, 'src')), ...['tsconfig.json', 'tsconfig.build.json'].map((f) => statSync(join(root, f)).mtimeMs));
  if (statSync(stamp).mtimeMs >= inputs) process.exit(0);
}

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const r = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
if (r.status !== 0) process.exit(r.status ?? 1);
removeStale(join(root, 'dist'), join(root, 'src'));
chmodSync(join(root, 'dist', 'cli', 'main.js'), 0o755);
writeFileSync(stamp, `${new Date().toISOString()}\n`);

/**
 * tsc never deletes: the output of a source file that was moved or removed would stay in dist/
 * and ship in the package. Remove every .js/.d.ts (and map) whose .ts is gone, then empty folders.
 */
function removeStale(out, src) {
  for (const e of readdirSync(out, { withFileTypes: true })) {
    const p = join(out, e.name);
    if (e.isDirectory()) {
      removeStale(p, join(src, e.name));
      if (readdirSync(p).length === 0) rmSync(p, { recursive: true });
      continue;
    }
    const m = /^(.*?)(\.d\.ts|\.js)(\.map)?$/.exec(e.name);
    if (m && !existsSync(join(src, `${m[1]}.ts`))) rmSync(p);
  }
}
