/**
 * Shared helpers for bench/*.bench.mjs: the machine description, statistics for hand-timed rows,
 * and a promise wrapper around Benchmark.Suite. Not a benchmark itself (the runner only loads
 * files named *.bench.mjs).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import Benchmark from 'benchmark';

/** What the numbers were measured on. Load average is included: this box may be shared. */
export function machine() {
  let cpu = os.cpus()[0]?.model ?? 'unknown';
  let mhz = os.cpus()[0]?.speed ?? NaN;
  let vm = false;
  try {
    const info = readFileSync('/proc/cpuinfo', 'utf8');
    cpu = /^model name\s*:\s*(.+)$/m.exec(info)?.[1].trim() ?? cpu;
    mhz = Number(/^cpu MHz\s*:\s*(.+)$/m.exec(info)?.[1] ?? mhz);
    // A guest's numbers include hypervisor exits on some syscalls: worth knowing when comparing.
    vm = /^flags\s*:.*\bhypervisor\b/m.test(info);
  } catch {
    // no /proc: os.cpus() it is
  }
  return {
    cpu,
    mhz: Math.round(mhz),
    vm,
    cores: os.cpus().length,
    ramBytes: os.totalmem(),
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    arch: process.arch,
    loadavg: os.loadavg().map((x) => Math.round(x * 100) / 100),
  };
}

export function machineLine(m) {
  const gib = (m.ramBytes / 2 ** 30).toFixed(1);
  return `${m.cpu} @ ${m.mhz} MHz${m.vm ? ' (VM)' : ''}, ${m.cores} cores, ${gib} GiB RAM, kernel ${m.kernel}, Node ${m.node} (${m.arch}), load avg ${m.loadavg.join(' ')}`;
}

// Two-sided 95% Student t critical values for df 1..30 (the same table benchmark.js uses), so a
// hand-timed row's ±rme means the same thing as a Benchmark.js row's.
const T95 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179,
  2.16, 2.145, 2.131, 2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056,
  2.052, 2.048, 2.045, 2.042];

/** Median, mean and relative margin of error (%, 95%) of per-op times. */
export function summarize(values) {
  const xs = [...values].sort((a, b) => a - b);
  const n = xs.length;
  const median = n % 2 ? xs[(n - 1) / 2] : (xs[n / 2 - 1] + xs[n / 2]) / 2;
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  if (n < 2) return { median, mean, rme: NaN, samples: n };
  const variance = xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (n - 1);
  const t = T95[n - 2] ?? 1.96;
  return { median, mean, rme: ((t * Math.sqrt(variance / n)) / mean) * 100, samples: n };
}

/**
 * Run benchmark.js definitions in one Suite; resolves to one result per definition, in order.
 * def: { name, fn, defer?, batch?, options? } where `batch` is how many operations one call of fn
 * performs (the per-op time is divided by it). onCycle runs after each benchmark finishes, which is
 * where a caller interleaves its baseline measurements.
 */
export function runSuite(defs, baseOptions, onCycle = () => {}) {
  return new Promise((resolve, reject) => {
    const suite = new Benchmark.Suite();
    for (const def of defs) {
      suite.add(def.name, def.fn, { ...baseOptions, ...def.options, defer: Boolean(def.defer) });
    }
    suite.on('cycle', (event) => {
      try {
        onCycle(event.target);
      } catch (err) {
        suite.abort();
        reject(err);
      }
    });
    suite.on('error', (event) => reject(event.target.error));
    suite.on('complete', () => {
      resolve(
        defs.map((def, i) => {
          const b = suite[i];
          const batch = def.batch ?? 1;
          return {
            name: def.name,
            nsPerOp: (b.stats.mean * 1e9) / batch,
            opsPerSec: b.hz * batch,
            rme: b.stats.rme,
            samples: b.stats.sample.length,
          };
        }),
      );
    });
    suite.run({ async: true });
  });
}

/** A table row; ratio is filled in against the table's baseline by withRatios. */
export function row(name, stats, note = '', baseline = false) {
  return {
    name,
    nsPerOp: stats.nsPerOp,
    opsPerSec: stats.opsPerSec ?? 1e9 / stats.nsPerOp,
    rme: stats.rme,
    samples: stats.samples,
    ratio: NaN,
    baseline,
    note,
  };
}

/** A row that carries only a note (a peer that could not be measured here). */
export function noteRow(name, note) {
  return { name, nsPerOp: NaN, opsPerSec: NaN, rme: NaN, samples: 0, ratio: NaN, baseline: false, note };
}

/** Ratio of every measured row to the one baseline row of the same table (same run). */
export function withRatios(rows) {
  const base = rows.filter((r) => r.baseline);
  if (base.length !== 1 || !(base[0].nsPerOp > 0)) {
    throw new Error(`a table needs exactly one measured baseline row, got ${base.length}`);
  }
  for (const r of rows) r.ratio = Number.isFinite(r.nsPerOp) ? r.nsPerOp / base[0].nsPerOp : NaN;
  return rows;
}

/**
 * The first python3 that can import psutil: the PATH one may be a pyenv build without Debian's
 * python3-psutil, which lives in /usr/bin/python3's site-packages. null when none can.
 */
export function pythonWithPsutil() {
  for (const py of ['python3', '/usr/bin/python3']) {
    const r = spawnSync(py, ['-c', 'import psutil'], { stdio: 'ignore' });
    if (!r.error && r.status === 0) return py;
  }
  return null;
}
