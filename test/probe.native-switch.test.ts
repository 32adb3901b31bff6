/**
 * PROCPROBE_NATIVE takes 1/true/yes/on and 0/false/no/off in any case. Each spelling runs the
 * probe in a fresh child process (the loader caches per thread), and what the child chose is
 * checked against the kernel's view of it: whether procprobe.node is mapped in /proc/self/maps.
 * A value that is none of them loads nothing, says why in the reason and in one fallback warning,
 * and makes the CLI refuse to start (one line, exit 2). The install script skips the build for
 * the same off spellings.
 */
import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanup, newDataDir, oneLineFailure, ROOT, runCli } from './helpers/cli.js';
import { need } from './helpers/optional-readers.js';
import { FIXTURES } from './helpers/readers.js';

const T = 60_000;
afterAll(cleanup);

interface FixtureOut {
  env: string | undefined;
  auto: { backend: string; reason: string };
  nativeError: { name: string; code: string; message: string } | null;
  load: { addon: boolean; reason: string };
  mapped: boolean;
  warnings: string[];
}

/** The fixture's report with PROCPROBE_NATIVE set to `value` (undefined: unset). */
function childWith(value: string | undefined): FixtureOut {
  const env = { ...process.env };
  if (value === undefined) delete env.PROCPROBE_NATIVE;
  else env.PROCPROBE_NATIVE = value;
  const r = spawnSync(process.execPath, [join(FIXTURES, 'native-disabled.mjs'), String(process.pid)], { env, encoding: 'utf8', timeout: 30_000 });
  expect(r.status, `fixture failed: ${r.stderr}`).toBe(0);
  const out = JSON.parse(r.stdout) as FixtureOut;
  expect(out.env).toBe(value);
  return out;
}

const OFF = ['0', 'false', 'no', 'off', 'FALSE', 'Off', 'NO'];
const ON = ['1', 'true', 'yes', 'on', 'TRUE', 'On', 'YES'];
const UNKNOWN = ['2', 'fasle', 'enable', 'disabled', ' 1', '0 ', 'nein'];

describe('PROCPROBE_NATIVE in the library', () => {
  it.each(OFF)('%j: the builtin tier, the addon never mapped, no warning (it was asked for)', (v) => {
    const out = childWith(v);
    expect(out.auto.backend).toBe('builtin');
    expect(out.load).toMatchObject({ addon: false, reason: `disabled by PROCPROBE_NATIVE=${v}` });
    expect(out.mapped).toBe(false);
    expect(out.warnings).toEqual([]);
    expect(out.nativeError?.code).toBe('ERR_PROCPROBE_NATIVE_UNAVAILABLE');
  }, T);

  it.for<string | undefined>([...ON, '', undefined])('%j: the native tier, its binary mapped (on Linux, where it is tested, unset means on too)', { timeout: T }, (v, ctx) => {
    need(ctx, 'addon');
    const out = childWith(v);
    expect(out.auto.backend).toBe('native');
    expect(out.load.addon).toBe(true);
    expect(out.mapped).toBe(true);
    expect(out.warnings).toEqual([]);
    expect(out.nativeError).toBeNull();
  });

  it.each(UNKNOWN)('%j: not guessed at: nothing mapped, the reason and one warning name the variable and the value', (v) => {
    const out = childWith(v);
    const problem = `PROCPROBE_NATIVE must be 1, true, yes, on (use the addon) or 0, false, no, off (do not), in any case, got ${JSON.stringify(v)}`;
    expect(out.auto.backend).toBe('builtin');
    expect(out.mapped).toBe(false);
    expect(out.load).toMatchObject({ addon: false, reason: `not loaded: ${problem}` });
    expect(out.auto.reason).toContain(problem);
    expect(out.warnings).toHaveLength(1);
    expect(out.warnings[0]).toContain('PROCPROBE_FALLBACK');
    expect(out.warnings[0]).toContain(problem);
    expect(out.nativeError).toMatchObject({ name: 'NativeUnavailableError', code: 'ERR_PROCPROBE_NATIVE_UNAVAILABLE' });
    expect(out.nativeError!.message).toContain(problem);
  }, T);
});

describe('PROCPROBE_NATIVE in the CLI', () => {
  it.each([
    ['doctor', ['doctor']],
    ['sessions', ['sessions', '--data-dir', 'DIR']],
    ['run', ['run', '--data-dir', 'DIR', '--', 'node', '-e', '1']],
  ])('an unknown value: %s refuses to start, one line naming it, exit 2', async (_cmd, args) => {
    const dir = newDataDir();
    const r = await runCli(args.map((a) => (a === 'DIR' ? dir : a)), { env: { PROCPROBE_NATIVE: 'fasle' } });
    expect(r.code, r.stdout + r.stderr).toBe(2);
    expect(oneLineFailure(r)).toBe('procprobe: PROCPROBE_NATIVE must be 1, true, yes, on (use the addon) or 0, false, no, off (do not), in any case, got "fasle"');
  }, T);

  it("'Off': doctor reports the builtin tier and why; 'yes': the native one", async (ctx) => {
    const off = await runCli(['doctor', '--json'], { env: { PROCPROBE_NATIVE: 'Off' } });
    expect(off.code, off.stderr).toBe(0);
    const o = JSON.parse(off.stdout);
    expect(o.backend).toBe('builtin');
    expect(o.backendReason).toContain('disabled by PROCPROBE_NATIVE=Off');
    expect(o.addonSource).toBeNull();
    need(ctx, 'addon');
    const on = await runCli(['doctor', '--json'], { env: { PROCPROBE_NATIVE: 'yes' } });
    expect(on.code, on.stderr).toBe(0);
    expect(JSON.parse(on.stdout).backend).toBe('native');
  }, T);
});

describe('PROCPROBE_NATIVE in the install script', () => {
  it.each(OFF)('%j: builds nothing, says so, exits 0', (v) => {
    const addon = join(ROOT, 'build/Release/procprobe.node');
    const before = statSync(addon, { throwIfNoEntry: false })?.mtimeMs;
    const r = spawnSync(process.execPath, [join(ROOT, 'scripts/build-addon.mjs')], { env: { ...process.env, PROCPROBE_NATIVE: v }, encoding: 'utf8', timeout: 30_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe(`procprobe: PROCPROBE_NATIVE=${v}, native addon not built; the JavaScript fallback will be used.\n`);
    expect(statSync(addon, { throwIfNoEntry: false })?.mtimeMs).toBe(before);
  }, T);
});
