#!/usr/bin/env node
// `npm run test:asan`: the native code under AddressSanitizer and UndefinedBehaviorSanitizer.
//   1. The addon compiled with -fsanitize=address,undefined into build/asan/ (node-gyp run in a
//      folder of its own that links binding.gyp and native/: build/Release, which `npm test`
//      loads, is never touched).
//   2. Leaks, in two programs run with LeakSanitizer on, each proving first that LSan reports a
//      planted leak: test/asan/harness.cc (the probe, loop and spawn sources without Node) and
//      test/asan/addon-churn.mjs (the N-API glue, under Node).
//   3. Memory errors and UB: the probe, ring, native and sampler test files (vitest) with that
//      addon loaded (PROCPROBE_ADDON_PATH). Leak detection is off there: LSan's scan at exit
//      takes about a second per Node process, which the tests' exit timings cannot absorb.
// Node is not instrumented, but the ASan runtime must come first in its library list, so that
// its malloc and interceptors serve the addon: a copy of Node with libasan added as its first
// needed library (patchelf) runs steps 2 and 3. Not LD_PRELOAD: every child would inherit it,
// and procps's tools (the tests' `ps`) and Chromium hang at startup with GCC 12's libasan
// preloaded, while `sleep` targets change size. The copy is process.execPath in the runner, so
// every Node child the tests start gets it, and nothing else does.
// Every process writes its reports into build/asan/reports/ (log_path), so a report from a
// test's child process counts as much as one from the runner. Any ASan or UBSan error fails the
// run (-fno-sanitize-recover=all makes UB fatal); a leak fails it when its stack passes through
// our code, while Node's own leaks at exit (V8 pages) are counted and ignored: LSan cannot be
// told "only this library" any other way. Extra arguments replace the list of test files.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'build', 'asan');
const reports = join(out, 'reports');
const addon = join(out, 'build', 'Release', 'procprobe.node');
const SANITIZE = ['-fsanitize=address,undefined', '-fno-sanitize-recover=all', '-fno-omit-frame-pointer', '-g'];
/**
 * Tests that cannot run under the sanitizer: ring.allocation limits a child's address space
 * (`ulimit -v`), and ASan's shadow memory alone needs terabytes of it; the ring it checks is a
 * SharedArrayBuffer, no native code.
 */
const UNSANITIZABLE = new Set(['ring.allocation.test.ts']);
/** The test files that run the native code: probe, ring, native (entry points, spawn) and sampler (the loop). */
const TESTS = process.argv.length > 2
  ? process.argv.slice(2)
  : readdirSync(join(root, 'test'))
    .filter((f) => /^(probe|ring|native|sampler)\..*\.test\.ts$/.test(f) && !UNSANITIZABLE.has(f))
    .map((f) => `test/${f}`);

function fail(message) {
  console.error(`test:asan: ${message}`);
  process.exit(1);
}

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { cwd: root, encoding: 'utf8', maxBuffer: 64 << 20, ...opts });
  if (r.error) fail(`${cmd}: ${r.error.message}${r.error.code === 'ENOENT' ? ` (apt-get install ${cmd})` : ''}`);
  return r;
}

const times = [];
function step(name, fn) {
  const t0 = Date.now();
  console.log(`test:asan: ${name}`);
  fn();
  times.push(`${name.split(' ')[0]} ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}

function buildAddon() {
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  // node-gyp builds into <dir>/build: a folder whose binding.gyp and native/ are the real ones.
  symlinkSync('../../binding.gyp', join(out, 'binding.gyp'));
  symlinkSync('../../native', join(out, 'native'));
  const gyp = createRequire(import.meta.url).resolve('node-gyp/bin/node-gyp.js');
  // gyp's Makefiles append CFLAGS, CXXFLAGS and LDFLAGS from the environment to every target.
  const flags = [...SANITIZE, '-O1'].join(' ');
  const env = { ...process.env, CFLAGS: flags, CXXFLAGS: flags, LDFLAGS: SANITIZE.join(' ') };
  const r = run(process.execPath, [gyp, 'rebuild', '-C', out, '--jobs', '2'], { env });
  writeFileSync(join(out, 'build.log'), `${r.stdout}${r.stderr}`);
  // As scripts/build-addon.mjs says: offline, node-gyp needs Node's headers pointed at.
  const hint = /headers\.tar\.gz/.test(r.stderr) ? " (offline? point node-gyp at Node's headers: npm_config_nodedir=/usr)" : '';
  if (r.status !== 0) fail(`node-gyp failed${hint} (build/asan/build.log):\n${r.stderr.split('\n').slice(-15).join('\n')}`);
  if (!run('nm', ['-D', addon]).stdout.includes('__asan_report')) fail(`${addon} is not instrumented`);
}

/** A copy of this Node whose first needed library is the sanitizer runtime the addon links. */
function asanNode() {
  const lib = run('g++', ['-print-file-name=libasan.so']).stdout.trim();
  if (!lib.startsWith('/') || !existsSync(lib)) fail(`g++ has no libasan (${lib || 'not found'}): apt-get install g++ (Debian's gcc brings libasan)`);
  const node = join(out, 'bin', 'node');
  mkdirSync(dirname(node), { recursive: true });
  copyFileSync(process.execPath, node);
  // --add-needed puts the entry first: ld.so loads libasan before libc and libstdc++.
  const r = run('patchelf', ['--add-needed', realpathSync(lib), node]);
  if (r.status !== 0) fail(`patchelf failed: ${r.stderr.trim()}`);
  return node;
}

/**
 * The environment of a sanitized run. exitcode=0 + abort_on_error=1: a memory error or UB aborts
 * the process (SIGABRT), while a leak report at exit leaves its exit status alone (the tests
 * check their children's codes, and Node leaks at exit); the report files decide.
 * allocator_may_return_null: a huge allocation fails as without ASan (the tests ask for rings
 * that cannot be allocated) instead of aborting. quarantine_size_mb: freed memory held back to
 * catch a use after free is RSS, and the worker churn test bounds RSS growth (default 256 MiB).
 */
function sanitizerEnv(node, name, leaks) {
  const dir = join(reports, name);
  mkdirSync(dir, { recursive: true });
  return {
    ...process.env,
    PROCPROBE_ADDON_PATH: addon,
    // A test that runs `node` by name gets the copy too.
    PATH: node ? `${dirname(node)}${delimiter}${process.env.PATH}` : process.env.PATH,
    ASAN_OPTIONS: `detect_leaks=${leaks ? 1 : 0}:exitcode=0:abort_on_error=1:allocator_may_return_null=1:quarantine_size_mb=16:log_path=${dir}/asan`,
    UBSAN_OPTIONS: `print_stacktrace=1:halt_on_error=1:abort_on_error=1:log_path=${dir}/ubsan`,
  };
}

/**
 * Split sanitizer output into what fails the run and what is Node's. A leak is ours when a frame
 * of its stack is in the addon (the module name, when unsymbolized) or in a native/ source file
 * (symbolized frames name the file, not the module).
 */
function classify(text) {
  const ours = [];
  const others = [];
  const lines = text.split('\n');
  const errors = lines.flatMap((l, i) => (/ERROR: AddressSanitizer|runtime error:/.test(l) ? [lines.slice(i, i + 8).join('\n')] : []));
  for (const block of text.split(/\n(?=(?:Direct|Indirect) leak of )/).filter((b) => /^(Direct|Indirect) leak of /.test(b))) {
    (/procprobe\.node|\bnative\/\w+\.(cc|h):\d+/.test(block) ? ours : others).push(block.trim());
  }
  return { errors, ours, others };
}

/** Every report written under build/asan/reports/<name>/, classified. */
function reportsOf(name) {
  const dir = join(reports, name);
  const files = existsSync(dir) ? readdirSync(dir) : [];
  const all = { files: files.length, errors: [], ours: [], others: [] };
  for (const f of files) {
    const c = classify(readFileSync(join(dir, f), 'utf8'));
    // A leak's first frames say where it was allocated; the rest is V8 calling in.
    const head = (t) => t.split('\n').slice(0, 8).join('\n');
    for (const k of ['errors', 'ours', 'others']) all[k].push(...c[k].map((t) => `${name}/${f}: ${head(t)}`));
  }
  return all;
}

function failOn(name, r) {
  const bad = [...r.errors, ...r.ours];
  if (bad.length > 0) fail(`sanitizer reports (full text in build/asan/reports/${name}/):\n${bad.join('\n\n')}`);
}

/** The harness, compiled with the sources a Linux build links (binding.gyp) minus the N-API glue. */
function harness() {
  const sources = ['probe_linux', 'proc_linux', 'threads_linux', 'timing_posix', 'loop', 'spawn_posix'].map((f) => `native/${f}.cc`);
  const bin = join(out, 'harness');
  // -iquote, not -I: native/spawn.h would shadow the system <spawn.h> for every include.
  const c = run('g++', ['-std=c++17', '-Wall', '-Wextra', '-O1', ...SANITIZE, '-iquote', 'native', 'test/asan/harness.cc', ...sources, '-o', bin, '-lpthread']);
  if (c.status !== 0) fail(`the harness did not compile:\n${c.stderr}`);
  const planted = run(bin, ['--plant-leak'], { env: sanitizerEnv(null, 'harness-planted', true) });
  if (!reportsOf('harness-planted').ours.some((l) => l.includes('pp_open'))) {
    fail(`the harness's planted leak was not reported: LeakSanitizer is not working:\n${planted.stdout}${planted.stderr}`);
  }
  const r = run(bin, [], { env: sanitizerEnv(null, 'harness', true) });
  process.stdout.write(r.stdout);
  failOn('harness', reportsOf('harness'));
  if (r.status !== 0) fail(`the harness failed (exit ${r.status ?? r.signal}):\n${r.stderr}`);
}

/** test/asan/addon-churn.mjs with leak detection, after the shared library whose leak must show. */
function addonChurn(node) {
  const lib = join(out, 'planted-leak.so');
  // -z nodelete: Node dlcloses a library that is not an addon, and a leak's frames in an unmapped
  // library would be "<unknown module>"; this one stays mapped, so its report names it.
  const c = run('gcc', ['-shared', '-fPIC', '-g', '-O0', '-Wl,-z,nodelete', 'test/asan/planted-leak.c', '-o', lib]);
  if (c.status !== 0) fail(`planted-leak.c did not compile:\n${c.stderr}`);
  const r = run(node, ['test/asan/addon-churn.mjs', lib], { env: sanitizerEnv(node, 'churn', true) });
  process.stdout.write(r.stdout);
  const found = reportsOf('churn');
  failOn('churn', found);
  if (!found.others.some((l) => l.includes('planted-leak'))) fail(`the planted leak was not reported: LeakSanitizer did not check Node:\n${r.stderr}`);
  if (r.status !== 0) fail(`addon-churn failed (exit ${r.status ?? r.signal}):\n${r.stderr}`);
  console.log(`addon-churn: no leak through the addon; the planted one and ${found.others.length - 1} of Node's own reported and ignored`);
}

function vitest(node) {
  const env = sanitizerEnv(node, 'tests', false);
  // Before the suite: the loader takes this build, and libasan is mapped (else nothing is checked).
  const check = `const m = await import(${JSON.stringify(join(root, 'dist', 'index.js'))}); const fs = await import('node:fs');
    console.log(JSON.stringify({ reason: m.loadNative().reason, asan: fs.readFileSync('/proc/self/maps', 'utf8').includes('libasan') }));`;
  const r = run(node, ['--input-type=module', '-e', check], { env });
  const seen = r.status === 0 ? JSON.parse(r.stdout) : null;
  if (!seen?.asan || !seen.reason.includes(addon)) fail(`the sanitizer build is not what loads: ${r.stdout}${r.stderr}`);
  const bin = join(dirname(createRequire(import.meta.url).resolve('vitest/package.json')), 'vitest.mjs');
  const t = spawnSync(node, [bin, 'run', ...TESTS], { cwd: root, env, stdio: 'inherit' });
  const found = reportsOf('tests');
  failOn('tests', found);
  if (t.status !== 0) fail(`vitest failed (exit ${t.status ?? t.signal}) with the sanitizer build`);
  console.log(`test:asan: ${TESTS.length} test files passed, ${found.files} sanitizer report files, none with an error`);
}

const started = Date.now();
step('building the addon with -fsanitize=address,undefined into build/asan', buildAddon);
const node = asanNode();
step('harness: the native sources without Node, leak detection on', harness);
step('addon-churn: the N-API glue under Node, leak detection on', () => addonChurn(node));
step(`vitest: ${TESTS.length} test files against the sanitizer build`, () => vitest(node));
console.log(`test:asan: passed in ${((Date.now() - started) / 1000).toFixed(0)} s (${times.join(', ')})`);
