/**
 * How close is `procprobe run --port` to the truth on servers: its process_startup (spawn to the
 * first accepted connect) against a minimal launcher (bench/port-launcher.py: Popen, a connect
 * every 0.5 ms, nothing else) on the same servers, in the same run, in alternating blocks so
 * that load changes hit both alike. Each table's baseline is the launcher's median.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { machine, noteRow, row, summarize } from './harness.mjs';

export const name = 'ready';
export const question = 'How close is procprobe run --port to a launcher that polls the port every 0.5 ms, on real servers?';

const CLI = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
const LAUNCHER = fileURLToPath(new URL('./port-launcher.py', import.meta.url));
const PYTHON = '/usr/bin/python3';
const BASELINE = 'launcher polling every 0.5 ms (baseline)';
const NODE_SERVER = "require('node:http').createServer((q, r) => r.end('ok')).listen(Number(process.argv[1]), '127.0.0.1'); process.on('SIGTERM', () => process.exit(0))";

/** The servers this machine has: each a function of the port. */
function servers() {
  const list = [{ label: 'node http server', argv: (p) => [process.execPath, '-e', NODE_SERVER, String(p)] }];
  if (spawnSync(PYTHON, ['-c', '0']).status === 0) list.push({ label: 'python3 -m http.server', argv: (p) => [PYTHON, '-m', 'http.server', String(p), '--bind', '127.0.0.1'] });
  for (const [bin, label, argv] of [
    ['/usr/sbin/nginx', 'nginx', null],
    ['/usr/bin/redis-server', 'redis-server', (p) => ['/usr/bin/redis-server', '--port', String(p), '--save', '', '--appendonly', 'no']],
  ]) {
    if (argv && spawnSync(bin, ['--version']).status === 0) list.push({ label, argv });
    else if (!argv && spawnSync(bin, ['-v']).status === 0) list.push({ label: `${label} (not run: needs a config)`, argv: null });
  }
  return list;
}

function launcher(argv, runs, port) {
  const r = spawnSync(PYTHON, [LAUNCHER, String(runs), String(port), '--', ...argv], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`launcher failed: ${r.stderr.slice(-300)}`);
  return JSON.parse(r.stdout);
}

function procprobe(argv, runs, port, dir) {
  const r = spawnSync(process.execPath, [CLI, 'run', '--json', '--runs', String(runs), '--port', String(port), '--data-dir', join(dir, 'data'), '--', ...argv], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`procprobe run failed (${r.status}): ${r.stderr.slice(-400)}`);
  return JSON.parse(r.stdout).runs.map((x) => x.phases.find((p) => p.name === 'process_startup').durationMs);
}

const stats = (ms) => {
  const s = summarize(ms.map((x) => x * 1e6));
  return { nsPerOp: s.median, rme: s.rme, samples: s.samples };
};

export async function run({ quick }) {
  if (spawnSync(PYTHON, ['-c', '0']).status !== 0) throw new Error(`${PYTHON} is missing: the launcher needs it, no baseline, no result`);
  const [blocks, per] = quick ? [2, 3] : [4, 5];
  const tables = [];
  let port = 20_000 + (process.pid % 5000);
  for (const s of servers()) {
    if (!s.argv) {
      tables.push({ title: s.label, baselineName: BASELINE, rows: [noteRow(BASELINE, 'installed but not run')] });
      continue;
    }
    const dir = mkdtempSync(join(tmpdir(), 'procprobe-bench-ready-'));
    const base = [], ours = [];
    try {
      // One warm-up of each (page cache, bytecode caches), then alternating blocks on fresh ports.
      launcher(s.argv(++port), 1, port);
      procprobe(s.argv(++port), 1, port, dir);
      for (let b = 0; b < blocks; b++) {
        base.push(...launcher(s.argv(++port), per, port));
        ours.push(...procprobe(s.argv(++port), per, port, dir));
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const floor = summarize(base).median;
    const med = summarize(ours).median;
    const target = med <= floor * 1.05 + 0.5;
    tables.push({
      title: `${s.label}: spawn to accepting, ${base.length} runs each`,
      baselineName: BASELINE,
      rows: [
        row(BASELINE, stats(base), `median of ${base.length}`, true),
        row('procprobe run --port (process_startup)', stats(ours), `${med >= floor ? '+' : ''}${(med - floor).toFixed(2)} ms; target ≤ 1.05x + 0.5 ms: ${target ? 'met' : 'MISSED'}`),
      ],
    });
  }
  return { baselineName: BASELINE, rows: tables[0].rows, tables, machine: machine() };
}
