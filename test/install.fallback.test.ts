// `npm install` must never fail because the addon cannot build: scripts/build-addon.mjs (the
// package's install script) is run in a scratch copy of the package with a compiler that always
// fails. Independent facts: its exit status, its output, and that no addon was produced; then the
// library in that copy falls back to the builtin tier and says why.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');
const copy = mkdtempSync(join(tmpdir(), 'procprobe-install-'));
afterAll(() => rmSync(copy, { recursive: true, force: true }));

describe('the install script when the addon cannot compile', () => {
  it('exits 0 with one line saying the fallback will be used, and builds nothing', () => {
    for (const part of ['package.json', 'binding.gyp', 'native', 'scripts', 'dist']) cpSync(join(root, part), join(copy, part), { recursive: true });
    symlinkSync(join(root, 'node_modules'), join(copy, 'node_modules'), 'dir');
    const r = spawnSync(process.execPath, ['scripts/build-addon.mjs'], {
      cwd: copy,
      encoding: 'utf8',
      // Every compile fails; the headers are found where npm tells node-gyp (npm_config_nodedir).
      env: { ...process.env, CXX: '/bin/false', CC: '/bin/false', npm_config_nodedir: process.env.npm_config_nodedir ?? (existsSync('/usr/include/node/node.h') ? '/usr' : '') },
      timeout: 240_000,
    });
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^procprobe: native addon not built \(.+\); the JavaScript fallback will be used\. Details: .*procprobe-build\.log$/);
    expect(lines[0]).toMatch(/make|compil|error/i); // the reason is the build's, not a download's
    expect(existsSync(join(copy, 'build/Release/procprobe.node'))).toBe(false);
    expect(existsSync(join(copy, 'build/procprobe-build.log'))).toBe(true);

    // The library of that copy: 'auto' falls back with the reason, 'native' says every path tried.
    const probe = spawnSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `import { createProbe } from './dist/index.js';
         const p = createProbe();
         let native = null;
         try { createProbe({ backend: 'native' }); } catch (e) { native = { code: e.code, attempts: e.attempts.length, message: e.message }; }
         console.log(JSON.stringify({ backend: p.backend, reason: p.backendReason, rss: p.sampleSync().rssBytes, native }));`,
      ],
      { cwd: copy, encoding: 'utf8', timeout: 60_000 },
    );
    expect(probe.status, probe.stderr).toBe(0);
    const out = JSON.parse(probe.stdout) as { backend: string; reason: string; rss: number; native: { code: string; attempts: number; message: string } };
    expect(out.backend).toBe('builtin');
    expect(out.reason).toContain('not built');
    expect(out.rss).toBeGreaterThan(10 * 1024 * 1024);
    expect(out.native.code).toBe('ERR_PROCPROBE_NATIVE_UNAVAILABLE');
    expect(out.native.attempts).toBe(3); // build/Release, build/Debug, the prebuild
    expect(out.native.message).toContain('build/Release/procprobe.node');
    // The one-line notice of the fallback, once, on stderr (a process warning).
    expect(probe.stderr.match(/PROCPROBE_FALLBACK|native addon unavailable/g)?.length ?? 0).toBeGreaterThanOrEqual(1);
  }, 300_000);
});
