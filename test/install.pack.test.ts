/**
 * The package as a consumer gets it: `npm pack` of a copy of this checkout (its prepack makes the
 * prebuilt addon), then the tarball installed into an empty project by this machine's npm, with
 * every compiler and `make` removed from PATH — once as npm 11 installs by default (it runs the
 * install script, which must find the prebuild and compile nothing) and once with
 * --ignore-scripts (what npm 12 and pnpm 10 do with a dependency's install script). In each:
 * ESM import, CommonJS require, `npx procprobe run`, the types under tsc, and the tier and its
 * reason as the README states them. Independent facts: the tarball's file list, what is on disk
 * in node_modules, npm's and the children's exit status and output.
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWith } from './helpers/optional-readers.js';

const root = join(import.meta.dirname, '..');
const work = mkdtempSync(join(tmpdir(), 'procprobe-pack-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const npmCli = realpathSync(spawnSync('sh', ['-c', 'command -v npm'], { encoding: 'utf8' }).stdout.trim());
const npxCli = join(npmCli, '..', 'npx-cli.js');

/** A PATH with every program of this one except C/C++ compilers and make. */
function pathWithoutCompilers(): string {
  const bin = join(work, 'bin');
  mkdirSync(bin);
  const compiler = /(^|-)(cc|c\+\+|g\+\+|gcc|cpp|clang(\+\+)?|make|gmake)(-\d+(\.\d+)*)?$/;
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    let names: string[] = [];
    try {
      names = readdirSync(dir);
    } catch {
      continue;
    }
    for (const n of names) {
      if (compiler.test(n) || existsSync(join(bin, n))) continue;
      symlinkSync(join(dir, n), join(bin, n));
    }
  }
  return bin;
}

let env: NodeJS.ProcessEnv = {};
/** The environment of a consumer's shell: none of the outer `npm test`'s npm_* variables. */
function consumerEnv(path: string): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^npm_|^INIT_CWD$/i.test(k)) out[k] = v;
  out.PATH = path;
  return out;
}

function run(cmd: string, args: string[], cwd: string, timeout = 120_000): SpawnSyncReturns<string> {
  return spawnSync(cmd, args, { cwd, env, encoding: 'utf8', timeout });
}
function ok(r: SpawnSyncReturns<string>, what: string): string {
  if (r.status !== 0) throw new Error(`${what} exited ${r.status ?? r.signal}: ${r.stderr}\n${r.stdout}`.slice(0, 4000));
  return r.stdout;
}

let tarball = '';
let files: string[] = [];
const consumers: Record<'scripts' | 'ignore-scripts', { dir: string; install: string }> = {} as never;

describeWith('compiler', 'the packed package in an empty project, with no compiler on PATH', () => {
  beforeAll(() => {
    // A copy, so that prebuildify's node-gyp rebuild never touches this checkout's build/ while
    // other test files load its addon.
    const src = join(work, 'src');
    for (const part of ['package.json', 'binding.gyp', 'native', 'scripts', 'src', 'tsconfig.json', 'tsconfig.build.json', 'README.md']) {
      cpSync(join(root, part), join(src, part), { recursive: true });
    }
    symlinkSync(join(root, 'node_modules'), join(src, 'node_modules'), 'dir');
    env = consumerEnv(process.env.PATH ?? '');
    const out = ok(run(process.execPath, [npmCli, 'pack', '--json', '--pack-destination', work], src, 240_000), 'npm pack');
    // The lifecycle scripts' output (prebuildify, tsc) comes first on stdout; npm's JSON is last.
    const packed = JSON.parse(out.slice(out.search(/^\[$/m))) as { filename: string; files: { path: string }[] }[];
    tarball = join(work, packed[0]!.filename);
    files = packed[0]!.files.map((f) => f.path);

    env = consumerEnv(pathWithoutCompilers());
    for (const mode of ['scripts', 'ignore-scripts'] as const) {
      const dir = join(work, `consumer-${mode}`);
      mkdirSync(dir);
      writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: `consumer-${mode}`, version: '1.0.0', private: true }));
      const flags = ['--no-audit', '--no-fund', '--prefer-offline', '--foreground-scripts', ...(mode === 'ignore-scripts' ? ['--ignore-scripts'] : [])];
      const install = ok(run(process.execPath, [npmCli, 'install', tarball, ...flags], dir, 300_000), `npm install (${mode})`);
      consumers[mode] = { dir, install };
    }
  }, 600_000);

  it('packs the prebuild, the build and the install script, and no sources, tests or build caches', () => {
    expect(files).toContain(`prebuilds/${process.platform}-${process.arch}/procprobe.node`);
    for (const f of ['dist/index.js', 'dist/index.d.ts', 'dist/cli/main.js', 'scripts/build-addon.mjs', 'binding.gyp', 'native/addon.cc', 'README.md']) expect(files).toContain(f);
    expect(files.filter((f) => /^(src|test|bench)\/|\.tsbuildinfo$|\.build-stamp$|^build\//.test(f))).toEqual([]);
  });

  it('the PATH of the consumer has no compiler and no make', () => {
    const r = run('sh', ['-c', 'command -v cc gcc g++ c++ clang make || true'], work);
    expect(r.stdout.trim()).toBe('');
  });

  for (const mode of ['scripts', 'ignore-scripts'] as const) {
    it(`${mode}: the install compiles nothing and the prebuild is the native tier, from ESM and CommonJS`, () => {
      const { dir, install } = consumers[mode];
      const pkg = join(dir, 'node_modules', 'procprobe');
      if (mode === 'scripts') expect(install).toContain('procprobe: using the prebuilt native addon (prebuilds/linux-x64/procprobe.node); nothing to compile');
      else expect(install).not.toContain('procprobe:');
      expect(existsSync(join(pkg, 'build')), 'no build/ directory: nothing was compiled').toBe(false);

      const prebuild = join(pkg, 'prebuilds', `${process.platform}-${process.arch}`, 'procprobe.node');
      const show = 'const p = createProbe(); const s = p.sampleSync(); const rss = process.memoryUsage().rss;' +
        'console.log(JSON.stringify({ backend: p.backend, reason: p.backendReason, source: loadNative().source, rss: s.rssBytes, nodeRss: rss }));';
      const esm = JSON.parse(ok(run(process.execPath, ['--input-type=module', '-e', `import { createProbe, loadNative } from 'procprobe'; ${show}`], dir), 'ESM import'));
      const cjs = JSON.parse(ok(run(process.execPath, ['-e', `const { createProbe, loadNative } = require('procprobe'); ${show}`], dir), 'CommonJS require'));
      for (const out of [esm, cjs]) {
        // The README's words for an install from the registry on linux-x64.
        expect(out).toMatchObject({ backend: 'native', source: 'prebuild', reason: `native: loaded the prebuild ${prebuild}` });
        // A real reading: within 20% of what Node itself says of its RSS a moment later.
        expect(Math.abs(out.rss - out.nodeRss)).toBeLessThanOrEqual(out.nodeRss * 0.2);
      }
    });

    it(`${mode}: npx procprobe run -- node -e 0 works and rebuilds nothing`, () => {
      const { dir } = consumers[mode];
      const r = run(process.execPath, [npxCli, 'procprobe', 'run', '--data-dir', join(dir, 'history'), '--json', '--', 'node', '-e', '0'], dir);
      const doc = JSON.parse(ok(r, 'npx procprobe run')) as { ok: boolean; runs: { ok: boolean; childExit: string }[] };
      expect(doc.ok).toBe(true);
      expect(doc.runs[0]).toMatchObject({ ok: true, childExit: 'code 0' });
      expect(r.stderr).not.toMatch(/native addon|gyp|tsc/);
      expect(readdirSync(join(dir, 'history', 'sessions'))).toHaveLength(1);
      expect(existsSync(join(dir, 'node_modules', 'procprobe', 'build'))).toBe(false);
    });

    it(`${mode}: the types resolve for a TypeScript consumer (tsc --noEmit, no skipLibCheck)`, () => {
      const { dir } = consumers[mode];
      writeFileSync(join(dir, 'check.ts'), "import { createProbe, type ProcessSample } from 'procprobe';\nconst s: ProcessSample = createProbe().sampleSync(); console.log(s.rssBytes.toFixed(0));\n");
      writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({
        compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', strict: true, noEmit: true, skipLibCheck: false, typeRoots: [join(root, 'node_modules', '@types')], types: ['node'] },
        files: ['check.ts'],
      }));
      ok(run(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', dir], dir), 'tsc');
      // A mistyped use is caught: the declarations are really read.
      writeFileSync(join(dir, 'check.ts'), "import { createProbe } from 'procprobe';\nconst n: string = createProbe().sampleSync().rssBytes;\n");
      const bad = run(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', dir], dir);
      expect(bad.status).not.toBe(0);
      expect(bad.stdout).toContain("Type 'number' is not assignable to type 'string'");
    }, 120_000); // two tsc runs: ~10 s on a quiet machine, over 30 s on a loaded one
  }

});
