#!/usr/bin/env node
// `npm install` hook: compile the native probe with node-gyp. It must never fail the install: if
// the addon cannot be built (no compiler, no headers, unsupported OS) it prints one line saying the
// JavaScript fallback will be used, keeps the full log in build/procprobe-build.log, and exits 0.
// PROCPROBE_NATIVE=0 skips the build. --verbose streams the compiler output.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const verbose = process.argv.includes('--verbose');
const log = join(root, 'build', 'procprobe-build.log');

function fallback(reason) {
  console.log(`procprobe: native addon not built (${reason}); the JavaScript fallback will be used. Details: ${log}`);
  process.exit(0);
}

if (process.env.PROCPROBE_NATIVE === '0') {
  console.log('procprobe: PROCPROBE_NATIVE=0, native addon not built; the JavaScript fallback will be used.');
  process.exit(0);
}

let gyp;
try {
  gyp = createRequire(import.meta.url).resolve('node-gyp/bin/node-gyp.js');
} catch {
  mkdirSync(join(root, 'build'), { recursive: true });
  writeFileSync(log, 'node-gyp is not installed\n');
  fallback('node-gyp is not installed');
}

/** The most telling line of a failed build: the compiler's error, else node-gyp's own. */
function reasonOf(text) {
  const pick = [
    /^.*:\d+:\d+: (?:fatal )?error: .*$/m, // the compiler
    /^gyp ERR! stack Error: (.*)$/m, // node-gyp: `make` failed, no Python, no headers, ...
    /^gyp ERR! (?:find \w+|configure error|build error).*$/m,
  ];
  for (const re of pick) {
    const m = re.exec(text);
    if (m) return (m[1] ?? m[0]).trim().slice(0, 160);
  }
  return '';
}

const started = Date.now();
const result = spawnSync(process.execPath, [gyp, 'rebuild'], {
  cwd: root,
  stdio: verbose ? 'inherit' : 'pipe',
  encoding: 'utf8',
  env: process.env,
});
mkdirSync(join(root, 'build'), { recursive: true });
if (!verbose) writeFileSync(log, `${result.stdout ?? ''}${result.stderr ?? ''}`);
if (result.error) fallback(result.error.message);
if (result.status !== 0) fallback(reasonOf(`${result.stdout ?? ''}\n${result.stderr ?? ''}`) || `node-gyp exited with ${result.status}`);
console.log(`procprobe: native addon built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
