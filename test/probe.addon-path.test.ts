/**
 * PROCPROBE_ADDON_PATH names the one binary the loader tries (npm run test:asan points it at the
 * sanitizer build). Each case runs in a fresh child (the loader caches per thread) on a copy of
 * the addon in a temp dir, and /proc/self/maps, the kernel's list of what the child mapped, says
 * which file was really loaded: the named one, or none at all when it does not load (never a
 * silent fall-through to build/Release).
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { need } from './helpers/optional-readers.js';
import { FIXTURES } from './helpers/readers.js';
import { removeTempDirs, tempDir } from './helpers/temp-dirs.js';

// The build this process loads: build/Release, or the sanitizer build under npm run test:asan.
const ADDON = process.env.PROCPROBE_ADDON_PATH || fileURLToPath(new URL('../build/Release/procprobe.node', import.meta.url));

interface Loaded {
  addon: boolean;
  source: string | null;
  reason: string;
  attempts: { path: string; error: string }[];
  native: { backend?: string; reason?: string; name?: string; code?: string; message?: string };
  mapped: string[];
}

function load(addonPath: string, cwd?: string): Loaded {
  const r = spawnSync(process.execPath, [join(FIXTURES, 'native-load.mjs')], {
    env: { ...process.env, PROCPROBE_ADDON_PATH: addonPath },
    cwd,
    encoding: 'utf8',
    timeout: 20_000,
  });
  expect(r.status, `fixture failed: ${r.stderr}`).toBe(0);
  return JSON.parse(r.stdout) as Loaded;
}

afterAll(() => removeTempDirs());

describe('PROCPROBE_ADDON_PATH', () => {
  it('loads exactly the file it names, a relative path from the cwd', (ctx) => {
    need(ctx, 'addon');
    const dir = tempDir('procprobe-addon-');
    const copy = join(dir, 'copy.node');
    copyFileSync(ADDON, copy);
    for (const [given, cwd] of [[copy, undefined], ['copy.node', dir]] as const) {
      const out = load(given, cwd);
      expect(out.mapped, given).toEqual([copy]);
      expect(out).toMatchObject({ addon: true, source: 'local build', reason: `loaded the local build ${copy}`, attempts: [] });
      expect(out.native).toEqual({ backend: 'native', reason: `native: loaded the local build ${copy}` });
    }
  });

  it('a missing file or one that is not an addon is the reason, and nothing else is loaded', () => {
    const dir = tempDir('procprobe-addon-');
    const missing = join(dir, 'missing.node');
    const text = join(dir, 'text.node');
    // Not an addon: the reason is dlopen's error, which ld.so begins with the path ("<path>: file too short").
    writeFileSync(text, 'not an ELF file\n');
    for (const [path, error] of [[missing, `PROCPROBE_ADDON_PATH names no file: ${missing}`], [text, `${text}: `]] as const) {
      const out = load(path);
      expect(out.mapped, path).toEqual([]);
      expect(out.addon).toBe(false);
      expect(out.attempts.map((a) => a.path)).toEqual([path]);
      expect(out.reason).toContain(error);
      expect(out.native).toMatchObject({ name: 'NativeUnavailableError', code: 'ERR_PROCPROBE_NATIVE_UNAVAILABLE' });
      expect(out.native.message).toContain(path);
    }
  });
});
