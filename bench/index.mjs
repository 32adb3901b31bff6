#!/usr/bin/env node
/**
 * The one benchmark runner.
 *
 *   node bench/index.mjs [--scope probe|all] [--json out.json] [--quick]
 *
 * Runs every bench/<name>.bench.mjs (or the one --scope names). Each exports `name`, `question`
 * (one sentence) and `async run({ quick })` returning { rows, baselineName, machine } and, when
 * it has more than one table, `tables: [{ title, baselineName, rows }]`.
 *
 * A number without its baseline is not a result: every table must contain exactly one baseline
 * row measured in the same run, and the runner recomputes each row's ratio against it rather
 * than trusting the file. Build first (`npm run build`): benchmarks import ../dist.
 */
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { machine, machineLine } from './harness.mjs';

const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
const SUFFIX = '.bench.mjs';

function parseArgs(argv) {
  const args = { scope: 'all', json: null, quick: false };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split(/=(.*)/s, 2);
    const value = () => inline ?? argv[++i] ?? fail(`${flag} needs a value`);
    if (flag === '--scope') args.scope = value();
    else if (flag === '--json') args.json = value();
    else if (flag === '--quick') args.quick = true;
    else if (flag === '--help' || flag === '-h') {
      console.log('usage: node bench/index.mjs [--scope <name>|all] [--json out.json] [--quick]');
      process.exit(0);
    } else fail(`unknown argument ${argv[i]}`);
  }
  return args;
}

function fail(message) {
  console.error(`bench: ${message}`);
  process.exit(2);
}

function discover(scope) {
  const all = readdirSync(BENCH_DIR)
    .filter((f) => f.endsWith(SUFFIX))
    .sort()
    .map((f) => ({ file: f, name: f.slice(0, -SUFFIX.length) }));
  if (scope === 'all') return all;
  const wanted = scope.split(',');
  const picked = all.filter((b) => wanted.includes(b.name));
  if (picked.length !== wanted.length) {
    fail(`unknown scope '${scope}'; available: all, ${all.map((b) => b.name).join(', ')}`);
  }
  return picked;
}

/** Check the one-baseline rule and recompute ratios against it. */
function checkTable(table, where) {
  const bases = table.rows.filter((r) => r.baseline);
  if (bases.length !== 1) throw new Error(`${where}: ${bases.length} baseline rows, need exactly 1`);
  const base = bases[0];
  if (base.name !== table.baselineName) {
    throw new Error(`${where}: baseline row '${base.name}' is not baselineName '${table.baselineName}'`);
  }
  if (!(base.nsPerOp > 0)) throw new Error(`${where}: baseline was not measured`);
  for (const r of table.rows) {
    if (!Number.isFinite(r.nsPerOp)) {
      if (!r.note) throw new Error(`${where}: row '${r.name}' has no number and no note`);
      r.ratio = null;
      continue;
    }
    r.ratio = r.nsPerOp / base.nsPerOp;
  }
}

function fmtUs(ns) {
  const us = ns / 1e3;
  if (us >= 1000) return us.toFixed(0);
  if (us >= 100) return us.toFixed(1);
  if (us >= 10) return us.toFixed(2);
  return us.toFixed(3);
}

function fmtRatio(r) {
  return r >= 100 ? `${r.toFixed(0)}×` : r >= 10 ? `${r.toFixed(1)}×` : `${r.toFixed(2)}×`;
}

function printTable(table) {
  if (table.title) console.log(`\n### ${table.title}\n`);
  console.log('| benchmark | µs/op | vs baseline | ±rme | samples | note |');
  console.log('|---|---:|---:|---:|---:|---|');
  for (const r of table.rows) {
    const measured = Number.isFinite(r.nsPerOp);
    const cells = measured
      ? [
          r.baseline ? `**${r.name}**` : r.name,
          fmtUs(r.nsPerOp),
          r.baseline ? '1.00× (baseline)' : fmtRatio(r.ratio),
          Number.isFinite(r.rme) ? `±${r.rme.toFixed(1)}%` : '–',
          String(r.samples),
        ]
      : [r.name, '–', '–', '–', '–'];
    console.log(`| ${[...cells, r.note ?? ''].join(' | ')} |`);
  }
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const benches = discover(args.scope);
  const results = [];
  const startedAt = new Date().toISOString();
  const t0 = performance.now();

  for (const b of benches) {
    const mod = await import(pathToFileURL(join(BENCH_DIR, b.file)).href);
    const label = mod.name ?? b.name;
    if (typeof mod.run !== 'function' || typeof mod.question !== 'string') {
      console.error(`bench: ${b.file} must export name, question and run()`);
      process.exitCode = 1;
      continue;
    }
    console.log(`\n## ${label}${args.quick ? ' (--quick)' : ''}\n\n${mod.question}`);
    const start = performance.now();
    try {
      const res = await mod.run({ quick: args.quick });
      const tables = res.tables ?? [{ title: '', baselineName: res.baselineName, rows: res.rows }];
      tables.forEach((t, i) => checkTable(t, `${b.file} table ${i + 1}`));
      const elapsedMs = performance.now() - start;
      tables.forEach(printTable);
      console.log(`\n_${label}: ${(elapsedMs / 1e3).toFixed(1)} s_`);
      results.push({
        file: b.file,
        name: label,
        question: mod.question,
        elapsedMs,
        baselineName: res.baselineName,
        rows: res.rows,
        tables,
        machine: res.machine,
      });
    } catch (err) {
      console.error(`\nbench: ${b.file} failed: ${err?.stack ?? err}`);
      process.exitCode = 1;
    }
  }

  const m = machine();
  console.log(`\nMachine: ${machineLine(m)}`);
  console.log(`Total: ${((performance.now() - t0) / 1e3).toFixed(1)} s${args.quick ? ' (--quick)' : ''}`);

  if (args.json) {
    const out = resolve(args.json);
    mkdirSync(dirname(out), { recursive: true });
    const doc = { startedAt, quick: args.quick, scope: args.scope, machine: m, results };
    // JSON has no NaN: unmeasured numbers become null.
    writeFileSync(out, `${JSON.stringify(doc, (_k, v) => (Number.isNaN(v) ? null : v), 2)}\n`);
    console.log(`Wrote ${out}`);
  }
}

await main();
