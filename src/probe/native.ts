/**
 * Loads the compiled addon once per thread and says why when it cannot. The binary's exports are
 * typed by hand here (NativeAddon); the loader checks its ABI version and row layout so that a
 * stale build is refused with a reason instead of writing a wrong row.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ABI_VERSION, FIELDS } from './layout.js';

/** Kernel and platform facts reported by the addon (for `procprobe doctor`). */
export interface NativeFeatures {
  /** Open fds counted in O(1) (Linux >= 6.2). */
  fdCountO1: boolean;
  /** A per-process CPU clock with sub-ms resolution is readable for other pids. */
  cpuClock: boolean;
  pageSize: number;
  clockTicks: number;
  memTotalBytes: number;
}

/** What a native sampling thread achieved (pp_loop_stats). */
export interface NativeLoopStats {
  ticks: number;
  missed: number;
  /** CPU time of the sampling thread, µs. */
  cpuUs: number;
  lagP50Us: number;
  lagP99Us: number;
  lagMaxUs: number;
}

/**
 * The addon's exports (native/addon.cc): procprobe's own, not a stable API. Every function checks
 * every argument in C++ before use (native/args.h) and throws a TypeError or RangeError with code
 * ERR_PROCPROBE_INVALID_OPTION (`instanceof InvalidOptionError`) for a bad one.
 */
export interface NativeAddon {
  readonly abiVersion: number;
  readonly fields: readonly string[];
  /** Handle >= 0, or -status. */
  open(pid: number): number;
  /** Fills FIELD_COUNT doubles at `offset`; returns a ProbeStatus. */
  sampleInto(handle: number, row: Float64Array, offset: number): number;
  /** Reaped-children totals (CHILDREN order) into out[0..3]; returns a ProbeStatus. */
  childrenInto(handle: number, out: Float64Array): number;
  close(handle: number): void;
  /** Open fds, threads and another pid's per-thread switches at most every `ms` (0: every read); carried in between. */
  setCountsInterval(handle: number, ms: number): void;
  features(): NativeFeatures;
  /** Elapsed ns of `iterations` reads doing the same system calls in a plain C loop. */
  baseline(handle: number, iterations: number): number;
  /** A native thread sampling to absolute deadlines (sampler benchmark baseline); blocks the caller. */
  baselineThread(handle: number, intervalMs: number, durationMs: number): NativeLoopStats | null;
  /** The monotonic clock sampler deadlines are set on, ms, written into cell[index]: no allocation (a returned double is boxed). */
  nowInto(cell: Float64Array, index: number): void;
  /**
   * The sampler's loop in C (native/loop.cc): ticks into the ring until its stop or pause word is
   * set, the target is gone or params[3] ms passed. Returns 0 stop, 1 pause, 2 target gone
   * (state[1]: status), 3 unsupported, 4 yield (call again); state [nextSeq, lastStatus, deadline].
   */
  runLoop(
    handle: number,
    header: Int32Array,
    records: Float64Array,
    versions: Int32Array,
    gauges: Float64Array,
    layout: Int32Array,
    params: Float64Array,
    state: Float64Array,
    win: Float64Array,
  ): number;
  /** Sleep to cell[1], write the wake-up time into cell[0], read `handle` into row (-1: no read). */
  tick(handle: number, cell: Float64Array, row: Float64Array | null): number;
  /** Precise timer wake-ups for the calling thread (Linux: timer slack 1 ns). */
  tuneThread(): void;
  /** prctl(PR_SET_CHILD_SUBREAPER): 0 or an errno (ENOSYS off Linux); absent in builds before it. */
  setChildSubreaper?(): number;
  /**
   * Listen for process forks, execs and exits (native/forkwatch.h; the Linux proc connector): a handle
   * >= 0, or -errno. Wrapped by src/sampler/fork-events.ts. The three forkWatch functions are
   * absent in builds before them.
   */
  forkWatchOpen?(): number;
  /**
   * Pending events into out: out[0] = overflows (events lost), then n records of forkWatchFields
   * int32s [kind, pid, ppid, status] (an exit's status in waitpid's encoding); returns n, or -errno.
   */
  forkWatchDrain?(handle: number, out: Int32Array): number;
  /** Int32s per forkWatchDrain record: 4; absent in builds that wrote 3 (no status). */
  readonly forkWatchFields?: number;
  /** The kind of an exec record (3); absent in builds that report forks and exits only. */
  readonly forkWatchExec?: number;
  /** Stop listening; idempotent. */
  forkWatchClose?(handle: number): void;
  /**
   * wait4(pid, WNOHANG) of one exited orphan (native/forkwatch.h pp_reap_orphan): [1, status]
   * with out[0..6] its rusage (user µs, system µs, max RSS bytes, minor and major faults,
   * voluntary and involuntary switches), 0 while it runs, or -errno. Never for a child another
   * waiter owns. Absent in builds before it.
   */
  reapOrphan?(pid: number, out: Float64Array): [1, number] | number;
  /** Whether portWatch and pipeRead work here (Linux, with the native spawn); absent in builds before them. */
  readonly readySupported?: boolean;
  /** A thread connecting to host:port every intervalMs until one succeeds or readyStop (native/ready.h); a handle, or -errno. */
  portWatch?(host: string, port: number, intervalMs: number, onDone: (r: NativeRawPortReady) => void): NativeReadyHandle | number;
  /**
   * A thread reading fd (it owns it from the call on): onChunk(bytes, readAtMonoMs) per read,
   * then once onChunk(null, atMonoMs, errno) at EOF (errno 0), an error, or after readyStop.
   */
  pipeRead?(fd: number, onChunk: (bytes: Buffer | null, atMonoMs: number, err: number) => void): NativeReadyHandle | number;
  /** Stop a portWatch or pipeRead thread (idempotent; it reports within 10 ms / 100 ms). */
  readyStop?(handle: NativeReadyHandle): void;
  /** Whether `spawn` is implemented on this platform (Linux); absent in builds before it. */
  readonly spawnSupported?: boolean;
  /** posix_spawn + a wait4 thread (native/spawn.h); wrapped by spawnNative in src/probe/spawn.ts. */
  spawn?(
    file: string,
    argv: readonly string[],
    envp: readonly string[],
    cwd: string | null,
    stdio: Int32Array,
    newGroup: 0 | 1 | 2,
    onExit: (exit: NativeRawExit) => void,
  ): NativeRawSpawn | { err: number; step: string };
}

/** An opaque handle of a portWatch or pipeRead thread (an External). */
export type NativeReadyHandle = object;

/** What portWatch's thread reports: ok, or why it could not poll (err ENOSYS/EINVAL, error: the resolver's message). */
export interface NativeRawPortReady {
  ok: boolean;
  err: number;
  error: string;
  /** CLOCK_MONOTONIC ms when the successful connect completed; NaN without one. */
  readyAtMonoMs: number;
  attempts: number;
}

/** What native spawn returns on success: fds are this process's pipe ends (-1: not a pipe). */
export interface NativeRawSpawn {
  pid: number;
  fds: [number, number, number];
  beforeMs: number;
  afterMs: number;
  beforeMonoMs: number;
  afterMonoMs: number;
}

/** What native spawn's waiter thread reports (err: wait4's errno, 0 when it reaped the child). */
export interface NativeRawExit {
  pid: number;
  err: number;
  code: number;
  signal: number;
  exitedAtMs: number;
  exitedAtMonoMs: number;
  rusage: NativeRusage;
}

/** The child's wait4 rusage: itself and the descendants it reaped. */
export interface NativeRusage {
  userUs: number;
  systemUs: number;
  /**
   * Peak RSS, KiB. Linux takes the larger of the child's peak and the peak of the memory it exec'd
   * from, and a posix_spawn child execs from this process's memory: this is >= this process's
   * own peak RSS, so it says nothing about a child smaller than its parent.
   */
  maxRssKiB: number;
  minorFaults: number;
  majorFaults: number;
  voluntaryCtx: number;
  involuntaryCtx: number;
}

export interface NativeLoad {
  addon: NativeAddon | null;
  /** Whether the loaded binary was compiled here or shipped prebuilt; null when none loaded. */
  source: AddonSource | null;
  /** Why the addon is or is not in use, in one line. */
  reason: string;
  /** Every path tried and why it failed (empty when the kill switch is set). */
  attempts: { path: string; error: string }[];
}

const root = fileURLToPath(new URL('../../', import.meta.url));

/** Where a candidate binary comes from: compiled on this machine, or shipped in the package. */
export type AddonSource = 'local build' | 'prebuild';

export interface AddonCandidate {
  path: string;
  source: AddonSource;
}

/** Local builds (node-gyp's output), most specific first; then the package's prebuild. */
export const ADDON_PATHS: readonly string[] = [
  `${root}build/Release/procprobe.node`,
  `${root}build/Debug/procprobe.node`,
];

/**
 * The prebuilt binary for this platform, named as prebuildify --napi writes it:
 * `prebuilds/<platform>-<arch>/procprobe.node`. No ABI tag: one N-API binary serves every Node
 * version. The linux one is built against glibc; on musl its load error becomes the reason.
 * node-gyp-build resolves the same names, but it always prefers build/ and cannot be asked for
 * the prebuild alone, while a stale local build here must fall through to the prebuild: so both
 * are separate candidates, and the loader needs no runtime dependency.
 */
export function prebuildPath(dir = root): string {
  return `${dir}prebuilds/${process.platform}-${process.arch}/procprobe.node`;
}

/**
 * Every binary the loader tries, in order. PROCPROBE_ADDON_PATH names the one binary to load
 * instead (`npm run test:asan` points it at the sanitizer build in build/asan/): it is the only
 * candidate, so a build that does not load is the reason given, never a silent fall-through to
 * build/Release that would run the sanitizer suite against the plain addon.
 */
export function addonCandidates(): AddonCandidate[] {
  const override = process.env.PROCPROBE_ADDON_PATH;
  if (override) return [{ path: resolve(override), source: 'local build' }];
  return [
    ...ADDON_PATHS.map((path) => ({ path, source: 'local build' as const })),
    { path: prebuildPath(), source: 'prebuild' },
  ];
}

let cached: NativeLoad | undefined;

/** Platforms whose native probe is tested in CI. Others compile it but use the fallback unless PROCPROBE_NATIVE is on. */
const TESTED_PLATFORMS: readonly string[] = ['linux'];

/** The spellings PROCPROBE_NATIVE accepts, in any case. */
const SWITCH_ON: readonly string[] = ['1', 'true', 'yes', 'on'];
const SWITCH_OFF: readonly string[] = ['0', 'false', 'no', 'off'];

/** What PROCPROBE_NATIVE asks of the loader. */
export interface NativeSwitch {
  /** The variable as set; undefined when unset. */
  raw: string | undefined;
  /** true: load the addon even where untested; false: never load it; undefined: unset, empty or unrecognised. */
  on: boolean | undefined;
  /** One line naming the variable and its value when it is none of the spellings, else null. */
  problem: string | null;
}

/**
 * Read PROCPROBE_NATIVE. An unset or empty variable is the platform's default. A value that is
 * none of the spellings is not guessed at: the loader leaves the addon unloaded (the fallback tier
 * is correct everywhere) and says why in its reason, and the CLI refuses it with `problem`.
 */
export function readNativeSwitch(raw: string | undefined = process.env.PROCPROBE_NATIVE): NativeSwitch {
  if (raw === undefined || raw === '') return { raw, on: undefined, problem: null };
  const v = raw.toLowerCase();
  if (SWITCH_ON.includes(v)) return { raw, on: true, problem: null };
  if (SWITCH_OFF.includes(v)) return { raw, on: false, problem: null };
  const problem = `PROCPROBE_NATIVE must be ${SWITCH_ON.join(', ')} (use the addon) or ${SWITCH_OFF.join(', ')} (do not), in any case, got ${JSON.stringify(raw)}`;
  return { raw, on: undefined, problem };
}

/** Load (once) and return the addon with the reason for the outcome. Never throws. */
export function loadNative(): NativeLoad {
  if (cached !== undefined) return cached;
  const sw = readNativeSwitch();
  if (sw.on === false || sw.problem !== null) {
    const reason = sw.problem === null ? `disabled by PROCPROBE_NATIVE=${sw.raw}` : `not loaded: ${sw.problem}`;
    cached = { addon: null, source: null, reason, attempts: [] };
    return cached;
  }
  if (!TESTED_PLATFORMS.includes(process.platform) && sw.on !== true) {
    cached = {
      addon: null,
      source: null,
      reason: `the native probe for ${process.platform} is untested; set PROCPROBE_NATIVE=1 to use it`,
      attempts: [],
    };
    return cached;
  }
  const require = createRequire(import.meta.url);
  const attempts: { path: string; error: string }[] = [];
  for (const { path, source } of addonCandidates()) {
    if (!existsSync(path)) {
      attempts.push({
        path,
        error: process.env.PROCPROBE_ADDON_PATH
          ? `PROCPROBE_ADDON_PATH names no file: ${path}`
          : source === 'prebuild'
          ? `no prebuild for ${process.platform}-${process.arch} in this package`
          : 'not built (no prebuild matched and the install script did not run or could not compile it: npm rebuild procprobe)',
      });
      continue;
    }
    try {
      const addon = require(path) as NativeAddon;
      const mismatch = checkAbi(addon);
      if (mismatch) {
        attempts.push({ path, error: mismatch });
        continue;
      }
      cached = { addon, source, reason: `loaded the ${source} ${path}`, attempts };
      return cached;
    } catch (err) {
      attempts.push({ path, error: err instanceof Error ? err.message.split('\n')[0]! : String(err) });
    }
  }
  const last = attempts.find((a) => !a.error.startsWith('not built') && !a.error.startsWith('no prebuild')) ?? attempts[0];
  cached = { addon: null, source: null, reason: last ? last.error : 'no candidate path', attempts };
  return cached;
}

function checkAbi(addon: NativeAddon): string | null {
  if (addon.abiVersion !== ABI_VERSION) {
    return `stale build: ABI ${addon.abiVersion}, this version needs ${ABI_VERSION} (run npm rebuild procprobe)`;
  }
  if (addon.fields.length !== FIELDS.length || addon.fields.some((f, i) => f !== FIELDS[i])) {
    return 'stale build: row layout differs from src/probe/layout.ts (run npm rebuild procprobe)';
  }
  return null;
}
