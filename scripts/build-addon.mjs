#!/usr/bin/env node
// `npm install` hook: make sure a native probe is there, compiling it with node-gyp only when no
// binary fits. In order:
//   1. build/Release/procprobe.node, if it loads and is not older than native/ and binding.gyp
//      (a repeated `npm install`, or npx linking the package, rebuilds nothing);
//   2. the package's prebuild, prebuilds/<platform>-<arch>/procprobe.node (made by
//      prebuildify at `npm pack`), if it loads and is not older than the sources;
//   3. node-gyp rebuild.
// It must never fail the install: if the addon cannot be built (no compiler, no headers,
// unsupported OS) it prints one line saying the JavaScript fallback will be used, keeps the full
// log in build/procprobe-build.log, and exits 0.
// PROCPROBE_NATIVE=0 (or false, no, off, in any case) skips everything; --force (or npm's --build-from-source) compiles even when a
// binary fits; --verbose streams the compiler output.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
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

// The off spellings of src/probe/native.ts's readNativeSwitch, which this script cannot import: in
// a checkout it runs before dist/ is built. Any other value builds as usual (the runtime loader
// refuses an unknown value itself); test/probe.native-switch.test.ts runs both on each spelling.
if (/^(0|false|no|off)$/i.test(process.env.PROCPROBE_NATIVE ?? '')) {
  console.log(`procprobe: PROCPROBE_NATIVE=${process.env.PROCPROBE_NATIVE}, native addon not built; the JavaScript fallback will be used.`);
  process.exit(0);
}

/** Newest modification time of what the addon is compiled from, ms. */
function sourcesMtime() {
  const files = ['binding.gyp', ...readdirSync(join(root, 'native')).map((f) => join('native', f))];
  return Math.max(...files.map((f) => statSync(join(root, f)).mtimeMs));
}

/** Whether `path` is a procprobe addon this Node can load (the runtime loader checks the rest). */
function loads(path) {
  try {
    return typeof createRequire(import.meta.url)(path).abiVersion === 'number';
  } catch {
    return false;
  }
}

const force = process.argv.includes('--force') || process.env.npm_config_build_from_source === 'true';
if (!force) {
  const newest = sourcesMtime();
  const fits = (rel) => {
    const path = join(root, rel);
    return existsSync(path) && statSync(path).mtimeMs >= newest && loads(path);
  };
  const local = 'build/Release/procprobe.node';
  const prebuild = `prebuilds/${process.platform}-${process.arch}/procprobe.node`;
  if (fits(local)) {
    console.log(`procprobe: native addon up to date (${local})`);
    process.exit(0);
  }
  if (fits(prebuild)) {
    console.log(`procprobe: using the prebuilt native addon (${prebuild}); nothing to compile`);
    process.exit(0);
  }
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
  // node-gyp's message for a failed header download blames the network in two half-sentences.
  if (/gyp http GET .*headers\.tar\.gz/.test(text) && /network connectivity/.test(text)) {
    return "node-gyp could not download Node's headers: point it at local ones with npm_config_nodedir (e.g. /usr)";
  }
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
