/**
 * Which tier a probe uses and why: the native addon here (its file exists and is mapped into this
 * process per /proc/self/maps); PROCPROBE_NATIVE=0 in a fresh child process (builtin, nothing
 * mapped); the systeminformation tier, async only, its RSS against ps.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { createProbe, SyncUnsupportedError, type Probe } from '../dist/index.js';
import { FIXTURES, killChildren, ps, spawnSleeper, startTimeMs } from './helpers/readers.js';
import { need } from './helpers/optional-readers.js';

// The build the loader takes: build/Release, or the one PROCPROBE_ADDON_PATH names (npm run test:asan).
const ADDON = process.env.PROCPROBE_ADDON_PATH || fileURLToPath(new URL('../build/Release/procprobe.node', import.meta.url));

describe('backend selection', () => {
  let probe: Probe | undefined;
  afterEach(async () => {
    probe?.close();
    probe = undefined;
    await killChildren();
  });

  it("is 'native' here, naming the addon file it loaded (mapped in /proc/self/maps)", (ctx) => {
    need(ctx, 'addon');
    expect(existsSync(ADDON), `${ADDON} is built`).toBe(true);
    probe = createProbe();
    expect(probe.backend).toBe('native');
    expect(probe.backendReason).toContain(ADDON);
    expect(readFileSync('/proc/self/maps', 'latin1')).toContain(ADDON);
    const forced = createProbe({ backend: 'native' });
    expect(forced.backend).toBe('native');
    forced.close();
  });

  it("'fallback' and 'builtin' choose the builtin tier and say so", () => {
    probe = createProbe({ backend: 'fallback' });
    expect(probe.backend).toBe('builtin');
    expect(probe.backendReason).toContain('fallback');
    const b = createProbe({ backend: 'builtin' });
    expect(b.backend).toBe('builtin');
    expect(b.backendReason).toContain('requested');
    b.close();
  });

  it("with PROCPROBE_NATIVE=0: 'builtin', the reason names the switch, 'native' throws", async () => {
    const sleeper = await spawnSleeper('sleep', 'sleep');
    const r = spawnSync(process.execPath, [join(FIXTURES, 'native-disabled.mjs'), String(sleeper.pid)], {
      env: { ...process.env, PROCPROBE_NATIVE: '0' },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(r.status, `fixture failed: ${r.stderr}`).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.env).toBe('0');
    expect(out.pid).toBe(r.pid);
    expect(out.auto.backend).toBe('builtin');
    expect(out.auto.reason).toContain('PROCPROBE_NATIVE=0');
    expect(out.other.backend).toBe('builtin');
    expect(out.other.reason).toContain('PROCPROBE_NATIVE=0');
    expect(out.other.sample.pid).toBe(sleeper.pid);
    expect(out.other.sample.threads).toBe(1);
    expect(out.nativeError).toMatchObject({ name: 'NativeUnavailableError', code: 'ERR_PROCPROBE_NATIVE_UNAVAILABLE' });
    expect(out.nativeError.message).toContain('PROCPROBE_NATIVE=0');
    expect(out.load).toEqual({ addon: false, reason: 'disabled by PROCPROBE_NATIVE=0', attempts: [] });
    expect(out.mapped, 'the addon must not even be loaded').toBe(false);
    expect(out.warnings, 'the kill switch is deliberate: no fallback warning').toEqual([]);
    // The builtin sample of the child itself, bracketed by the child's own resourceUsage().
    expect(out.sample.pid).toBe(r.pid);
    expect(out.sample.cpuUserUs).toBeGreaterThanOrEqual(out.r0.userCPUTime);
    expect(out.sample.cpuUserUs).toBeLessThanOrEqual(out.r1.userCPUTime);
    expect(out.sample.cpuSystemUs).toBeGreaterThanOrEqual(out.r0.systemCPUTime);
    expect(out.sample.cpuSystemUs).toBeLessThanOrEqual(out.r1.systemCPUTime);
  });

  it("'systeminformation': await sample() works (RSS within 10% of ps), sampleSync throws", async (ctx) => {
    need(ctx, 'ps');
    const child = await spawnSleeper('sleep', 'sleep');
    probe = createProbe({ pid: child.pid, backend: 'systeminformation' });
    const p = probe;
    expect(p.backend).toBe('systeminformation');
    expect(p.backendReason).toContain('requested');
    for (const call of [() => p.sampleSync(), () => p.sampleInto(new Float64Array(32), 0)]) {
      let err: unknown;
      try {
        call();
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(SyncUnsupportedError);
      expect((err as SyncUnsupportedError).code).toBe('ERR_PROCPROBE_SYNC_UNSUPPORTED');
    }
    const s = await p.sample();
    const psRss = ps(child.pid).rssKb * 1024;
    expect(s.pid).toBe(child.pid);
    expect(Math.abs(s.rssBytes - psRss), `si ${s.rssBytes} ps ${psRss}`).toBeLessThanOrEqual(psRss * 0.1);
    // ps-based start times have whole-second resolution.
    expect(Math.abs(s.startTime - startTimeMs(child.pid))).toBeLessThanOrEqual(2000);
    // What it cannot read is NaN, never a made-up 0.
    for (const f of ['cpuUserUs', 'cpuSystemUs', 'openFds', 'threads', 'voluntaryContextSwitches'] as const) {
      expect(s[f], f).toBeNaN();
    }
  });
});
