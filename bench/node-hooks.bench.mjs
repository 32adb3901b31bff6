/**
 * What the node hooks (src/node-hooks/preload.cts) cost the Node process they go into (issue 14
 * item 6): the same app started with and without the preload, by hyperfine -N, CPU (user +
 * system, mean) and wall time (median). With the preload, the channel is a FIFO as `procprobe
 * run` makes it, drained by a process of its own that blocks in read() (this one is blocked in
 * spawnSync: a reader on its event loop would let the pipe fill and stall the app), so every
 * message is written as in a run. Both commands go through `env`, so the exec of env is in both. Apps,
 * written to a temp dir: an empty CommonJS entry, 300 CommonJS modules, 300 ES modules (each a
 * small module with an export and a little top-level code); the ES app also with the ES loader
 * hooks (PROCPROBE_NODE_ESM_HOOKS=1, `--node-esm-hooks`).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { machine, noteRow, row } from './harness.mjs';
import { nodeOptionsWith } from '../dist/node-hooks/receiver.js';

export const name = 'node-hooks';
export const question = "How much CPU and wall time does the node-hooks preload add to a Node app's startup, against the same app without it?";

const MODULES = 300;
const body = (i) => `const table${i} = Array.from({ length: 20 }, (_, k) => k * ${i});\n`;

function apps(dir) {
  writeFileSync(join(dir, 'empty.cjs'), '');
  const cjs = [];
  const esm = [];
  for (let i = 0; i < MODULES; i++) {
    writeFileSync(join(dir, `c${i}.cjs`), `${body(i)}module.exports = table${i}.length;\n`);
    writeFileSync(join(dir, `e${i}.mjs`), `${body(i)}export default table${i}.length;\n`);
    cjs.push(`require('./c${i}.cjs');`);
    esm.push(`import e${i} from './e${i}.mjs';`);
  }
  writeFileSync(join(dir, 'cjs300.cjs'), `${cjs.join('\n')}\n`);
  writeFileSync(join(dir, 'esm300.mjs'), `${esm.join('\n')}\n`);
  return [
    ['empty CommonJS entry', 'empty.cjs', false],
    [`${MODULES} CommonJS modules`, 'cjs300.cjs', false],
    [`${MODULES} ES modules`, 'esm300.mjs', true],
  ];
}

/** hyperfine -N over `commands` (each a word list): per command { cpuMs, wallMedianMs, runs }. */
function hyperfine(commands, runs, dir) {
  const out = join(dir, 'hyperfine.json');
  const lines = commands.map((c) => c.map((w) => (/[\s"]/.test(w) ? `'${w}'` : w)).join(' '));
  const r = spawnSync('hyperfine', ['-N', '--runs', String(runs), '--warmup', '3', '--export-json', out, '--style', 'none', ...lines], { encoding: 'utf8', cwd: dir });
  if (r.error) return null;
  if (r.status !== 0) throw new Error(`hyperfine failed: ${r.stderr.slice(-400)}`);
  return JSON.parse(readFileSync(out, 'utf8')).results.map((x) => ({ cpuMs: (x.user + x.system) * 1e3, wallMedianMs: x.median * 1e3, runs: x.times.length }));
}

export async function run({ quick }) {
  const dir = mkdtempSync(join(tmpdir(), 'procprobe-bench-hooks-'));
  const fifo = join(dir, 'channel');
  spawnSync('mkfifo', ['-m', '600', fifo]);
  // Opened read-write (as procprobe does): the pipe never reads as ended between two starts.
  const drain = spawn(process.execPath, ['-e', `const fs = require('fs'); const fd = fs.openSync(${JSON.stringify(fifo)}, 'r+'); const b = Buffer.alloc(1 << 16); for (;;) fs.readSync(fd, b);`], { stdio: 'ignore' });
  const env = { NODE_OPTIONS: nodeOptionsWith(undefined), PROCPROBE_NODE_HOOKS: fifo };
  const runs = quick ? 10 : 30;
  const tables = [];
  try {
    for (const [title, file, esm] of apps(dir)) {
      const plain = ['env', 'NODE_OPTIONS=', 'PROCPROBE_NODE_HOOKS=', process.execPath, file];
      const hooked = ['env', `NODE_OPTIONS=${env.NODE_OPTIONS}`, `PROCPROBE_NODE_HOOKS=${env.PROCPROBE_NODE_HOOKS}`, process.execPath, file];
      const commands = [plain, hooked, ...(esm ? [[...hooked.slice(0, 3), 'PROCPROBE_NODE_ESM_HOOKS=1', ...hooked.slice(3)]] : [])];
      const res = hyperfine(commands, runs, dir);
      const baselineName = `${title}, without the preload (baseline)`;
      if (!res) {
        tables.push({ title, baselineName, rows: [noteRow(baselineName, 'hyperfine is not installed (apt-get install hyperfine)')] });
        continue;
      }
      const names = [baselineName, `${title}, with the preload`, `${title}, with the preload and the ES loader hooks`];
      const rows = res.map((x, k) => row(names[k], { nsPerOp: x.cpuMs * 1e6, rme: NaN, samples: x.runs }, `CPU (user + system) per start; wall median ${x.wallMedianMs.toFixed(1)} ms (+${(x.cpuMs - res[0].cpuMs).toFixed(1)} ms CPU)`, k === 0));
      tables.push({ title, baselineName, rows });
    }
  } finally {
    drain.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
  return { tables, rows: tables[0].rows, baselineName: tables[0].baselineName, machine: machine() };
}
