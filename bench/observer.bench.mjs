/**
 * The observer effect (issue 13): how much does watching a program slow the program down? The
 * watched program times its own fixed CPU-bound work (bench/observer-child.mjs: ~200 ms per
 * process, performance.now() around it); every configuration runs it once per round, rounds
 * alternate (A B C … A B C …, the order rotated each round so none always runs first after a
 * pause), and each row is the median of the program's own times against the unwatched median of
 * the same run.
 *
 * The floor is bench/observer-watcher.c, compiled here with cc -O2: a C loop doing the reads
 * procprobe's probe does per tick for another pid, at 1 kHz and 10 kHz. procprobe is
 * `procprobe run --interval X` at 100 Hz, 1 kHz and 10 kHz. Each shape is measured twice: a
 * single process, and a tree of 8 (the program forks 7 workers; all 8 do the work at once).
 *
 * The watcher's own CPU (% of one core over its session) is in the note: the C watcher's from its
 * getrusage(RUSAGE_SELF), procprobe's sampler from the self-accounting in its --json output.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { machine, row, summarize } from './harness.mjs';

export const name = 'observer';
export const question = 'How much does watching a CPU-bound program slow it down: procprobe run at 100 Hz, 1 kHz and 10 kHz against a C loop doing the same reads?';

const CLI = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
const CHILD = fileURLToPath(new URL('./observer-child.mjs', import.meta.url));
const WATCHER_C = fileURLToPath(new URL('./observer-watcher.c', import.meta.url));
const BASELINE = 'not watched (baseline)';
const TARGET_WORK_MS = 200;
const TREE_WORKERS = 7;

function compileWatcher(dir) {
  const out = join(dir, 'observer-watcher');
  for (const cc of ['cc', 'gcc', 'g++']) {
    const r = spawnSync(cc, ['-O2', '-x', 'c', '-o', out, WATCHER_C], { encoding: 'utf8' });
    if (!r.error && r.status === 0) return out;
  }
  throw new Error('no C compiler (cc, gcc or g++) could build bench/observer-watcher.c: no floor, no result');
}

/** Run one command; the program's own work time (ms) and whatever its watcher said of itself. */
function once(argv) {
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', timeout: 120_000, killSignal: 'SIGKILL', maxBuffer: 64 << 20 });
  if (r.error || r.status !== 0) throw new Error(`${argv.join(' ')} failed (${r.error?.message ?? r.status}): ${r.stderr?.slice(-400)}`);
  // procprobe --json sends the command's stdout to stderr: look in both.
  const work = /observer-work-ms (\S+)/.exec(r.stdout + r.stderr);
  if (!work) throw new Error(`${argv.join(' ')} printed no observer-work-ms line`);
  return { workMs: Number(work[1]), stdout: r.stdout, stderr: r.stderr };
}

/** Iterations for ~TARGET_WORK_MS of work here, from the median of three unwatched timings. */
function calibrate() {
  const probe = 5e7;
  const ms = [0, 1, 2].map(() => once([process.execPath, CHILD, String(probe)]).workMs).sort((a, b) => a - b)[1];
  return Math.round((probe * TARGET_WORK_MS) / ms);
}

/** The C watcher's CPU as % of one core, from its own report line. */
function cWatcherSelf(stderr) {
  const m = /observer-watcher (\{.*\})/.exec(stderr);
  if (!m) return null;
  const w = JSON.parse(m[1]);
  return { corePercent: (w.cpuUs / w.wallUs) * 100, hz: w.ticks / (w.wallUs / 1e6), missed: w.missed, ticks: w.ticks };
}

/** procprobe's sampler CPU as % of one core, from the run's self-accounting (--json). */
function procprobeSelf(stdout) {
  const s = JSON.parse(stdout).runs?.[0]?.sampler;
  if (!s) return null;
  return { corePercent: s.corePercent, hz: s.achievedHz, missed: s.missedDeadlines, ticks: s.records };
}

function configurations(watcher, dataDir) {
  const pp = (intervalMs) => [process.execPath, CLI, 'run', '--json', '--interval', String(intervalMs), '--data-dir', dataDir, '--'];
  return [
    { name: BASELINE, prefix: [], self: () => null },
    { name: 'C watcher, 1 kHz (the floor)', prefix: (tree) => [watcher, '1000', tree ? 'tree' : 'single', '--'], self: (r) => cWatcherSelf(r.stderr) },
    { name: 'C watcher, 10 kHz (the floor)', prefix: (tree) => [watcher, '10000', tree ? 'tree' : 'single', '--'], self: (r) => cWatcherSelf(r.stderr) },
    { name: 'procprobe run --interval 10 (100 Hz)', prefix: pp(10), self: (r) => procprobeSelf(r.stdout) },
    { name: 'procprobe run --interval 1 (1 kHz, default)', prefix: pp(1), self: (r) => procprobeSelf(r.stdout) },
    { name: 'procprobe run --interval 0.1 (10 kHz)', prefix: pp(0.1), self: (r) => procprobeSelf(r.stdout) },
  ];
}

const median = (xs) => (xs.length ? summarize(xs).median : NaN);

function note(selves, rounds) {
  const got = selves.filter(Boolean);
  if (got.length === 0) return '';
  const cpu = median(got.map((s) => s.corePercent));
  const hz = median(got.map((s) => s.hz));
  const missed = got.reduce((a, s) => a + s.missed, 0);
  const ticks = got.reduce((a, s) => a + s.ticks, 0);
  return `watcher ${cpu.toFixed(1)} % of a core, ${hz.toFixed(0)} Hz achieved, ${((missed / (missed + ticks)) * 100).toFixed(1)} % deadlines missed (median of ${rounds})`;
}

function measure(shape, configs, iterations, rounds) {
  const tree = shape === 'tree';
  const args = [process.execPath, CHILD, String(iterations), ...(tree ? [String(TREE_WORKERS)] : [])];
  const results = configs.map(() => ({ ms: [], selves: [] }));
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < configs.length; k++) {
      const i = (k + r) % configs.length;
      const c = configs[i];
      const prefix = typeof c.prefix === 'function' ? c.prefix(tree) : c.prefix;
      const out = once([...prefix, ...args]);
      results[i].ms.push(out.workMs);
      results[i].selves.push(c.self(out));
    }
  }
  return configs.map((c, i) => {
    const s = summarize(results[i].ms.map((ms) => ms * 1e6));
    const own = c.name === BASELINE ? `the program's own time, median of ${rounds}` : note(results[i].selves, rounds);
    return row(c.name, { nsPerOp: s.median, rme: s.rme, samples: s.samples }, own, c.name === BASELINE);
  });
}

export async function run({ quick }) {
  const rounds = quick ? 3 : 10;
  const dir = mkdtempSync(join(tmpdir(), 'procprobe-bench-observer-'));
  try {
    const configs = configurations(compileWatcher(dir), join(dir, 'data'));
    const iterations = calibrate();
    const tables = [
      { title: `one process, ~${TARGET_WORK_MS} ms of work, ${rounds} alternating rounds`, baselineName: BASELINE, rows: measure('single', configs, iterations, rounds) },
      { title: `a tree of ${TREE_WORKERS + 1} processes, ~${TARGET_WORK_MS} ms of work each, ${rounds} alternating rounds`, baselineName: BASELINE, rows: measure('tree', configs, iterations, rounds) },
    ];
    return { baselineName: BASELINE, rows: tables[0].rows, tables, machine: machine() };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
