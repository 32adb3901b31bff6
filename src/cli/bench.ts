/**
 * `procprobe bench`: this machine's overhead in one table, each figure beside the baseline it is
 * measured against in the same run (the full suites with peers are in bench/ of the repository).
 */
import { loadNative } from '../probe/native.js';
import { createProbe, nativeBaselineNs } from '../probe/probe.js';
import { Sampler } from '../sampler/sampler.js';
import { parse } from './args.js';
import { styleFor, table, writeJsonDocument } from './terminal.js';

/** CPU time of this process's threads named like the sampler, from /proc (ns, exact schedstat). */
async function samplerCpuNs(sampler: Sampler, ms: number): Promise<{ cpuNs: number; samples: number; missed: number }> {
  const { readdirSync, readFileSync } = await import('node:fs');
  const before = new Set(readdirSync('/proc/self/task'));
  await sampler.start();
  const tids = readdirSync('/proc/self/task').filter((t) => !before.has(t));
  const cpu = () => tids.reduce((a, t) => a + Number(readFileSync(`/proc/self/task/${t}/schedstat`, 'latin1').split(' ')[0] ?? 0), 0);
  const s0 = sampler.stats.samples;
  const c0 = cpu();
  await new Promise((r) => setTimeout(r, ms));
  const c1 = cpu();
  const st = sampler.stats;
  await sampler.stop();
  return { cpuNs: c1 - c0, samples: st.samples - s0, missed: st.missedDeadlines };
}

/**
 * µs per sampleInto of this process, and per read of the same system calls in a C loop (NaN
 * without the addon), over `n` reads after a warm-up.
 */
export function probeCost(n: number): { backend: string; backendReason: string; sampleUs: number; baselineUs: number } {
  const probe = createProbe();
  const row = new Float64Array(64);
  for (let i = 0; i < Math.min(2000, n); i++) probe.sampleInto(row, 0);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) probe.sampleInto(row, 0);
  const sampleUs = Number(process.hrtime.bigint() - t0) / n / 1e3;
  const baselineUs = (nativeBaselineNs(probe, n) ?? NaN) / n / 1e3;
  probe.close();
  return { backend: probe.backend, backendReason: probe.backendReason, sampleUs, baselineUs };
}

export async function benchCommand(argv: string[]): Promise<number> {
  const { values } = parse('bench', argv, false);
  const seconds = values.quick ? 1 : 5;
  const { sampleUs: jsUs, baselineUs: cUs } = probeCost(50_000);
  const addon = loadNative().addon;
  let cThread: { cpuUs: number; ticks: number; missed: number } | null = null;
  if (addon) {
    const h = addon.open(0);
    const r = addon.baselineThread(h, 1, seconds * 1000);
    addon.close(h);
    if (r) cThread = { cpuUs: r.cpuUs, ticks: r.ticks, missed: r.missed };
  }
  const js = process.platform === 'linux' ? await samplerCpuNs(new Sampler({ samplingIntervalMs: 1, capacity: 4096 }), seconds * 1000) : null;
  const rows: string[][] = [
    ['one sample, sampleInto (µs)', jsUs.toFixed(2), Number.isFinite(cUs) ? cUs.toFixed(2) : '-', Number.isFinite(cUs) ? `${(jsUs / cUs).toFixed(2)}×` : '-', 'C loop, same syscalls'],
  ];
  if (js && cThread) {
    const jsTick = js.cpuNs / 1e3 / Math.max(1, js.samples);
    const cTick = cThread.cpuUs / Math.max(1, cThread.ticks);
    rows.push(['sampler CPU per tick at 1 kHz (µs)', jsTick.toFixed(1), cTick.toFixed(1), `${(jsTick / cTick).toFixed(2)}×`, 'C thread, clock_nanosleep']);
    const met = (s: number, m: number) => (s / (s + m)) * 100;
    rows.push(['deadlines met at 1 kHz (%)', met(js.samples, js.missed).toFixed(2), met(cThread.ticks, cThread.missed).toFixed(2), '', 'C thread']);
  }
  if (values.json) {
    writeJsonDocument({ rows });
    return 0;
  }
  process.stdout.write(`${table(['measure', 'procprobe', 'baseline', 'ratio', 'baseline is'], rows, styleFor(process.stdout))}\n`);
  return 0;
}
