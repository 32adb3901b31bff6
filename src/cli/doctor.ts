/** `procprobe doctor`: which probe tier loads and why, kernel features, how fast this machine samples. */
import { release } from 'node:os';
import { loadNative } from '../probe/native.js';
import { probeCost } from './bench.js';
import { Descendants } from '../sampler/descendants.js';
import { openForkEvents } from '../sampler/fork-events.js';
import { DEFAULT_RESCAN_MS } from '../sampler/options.js';
import { discoveryReason, rescanInterval } from '../sampler/tree-upkeep.js';
import { Sampler } from '../sampler/sampler.js';
import { parse } from './args.js';
import { escapeControls, styleFor, writeJsonDocument } from './terminal.js';

export async function doctorCommand(argv: string[]): Promise<number> {
  const { values } = parse('doctor', argv, false);
  const load = loadNative();
  const features = load.addon?.features() ?? null;
  const probe = probeCost(20_000); // one sample, and the same system calls in a C loop
  const births = openForkEvents(); // what a tree sampler here would use, with the default rescan interval
  const discovery = discoveryReason(births, rescanInterval(births.events, DEFAULT_RESCAN_MS, true), Descendants.open().reason);
  births.events?.close();
  // One second at 1 kHz in the worker.
  const sampler = new Sampler({ samplingIntervalMs: 1, capacity: 2048 });
  await sampler.start();
  await new Promise((r) => setTimeout(r, 1000));
  const stats = sampler.stats;
  await sampler.stop();
  const report = {
    node: process.version,
    platform: `${process.platform} ${release()} ${process.arch}`,
    backend: probe.backend,
    backendReason: probe.backendReason,
    /** 'prebuild' (shipped in the package), 'local build' (compiled at install), or null. */
    addonSource: load.source,
    attempts: load.attempts,
    features,
    treeDiscovery: discovery,
    sampleUs: probe.sampleUs,
    baselineUs: Number.isFinite(probe.baselineUs) ? probe.baselineUs : null,
    sampler1kHz: { achievedHz: stats.achievedHz, missedDeadlines: stats.missedDeadlines, samples: stats.samples },
  };
  if (values.json) {
    writeJsonDocument(report);
    return 0;
  }
  const s = styleFor(process.stdout);
  const yes = (b: boolean | undefined) => (b ? s.green('yes') : s.yellow('no'));
  const w = (line: string): boolean => process.stdout.write(`${line}\n`);
  w(`node ${report.node} on ${report.platform}`);
  w(`probe tier: ${s.bold(probe.backend)} — ${escapeControls(probe.backendReason)}`); // it names paths and dlopen's message
  if (load.source) w(`native addon: the ${load.source === 'prebuild' ? 'prebuilt binary shipped in the package' : 'binary compiled on this machine'}`);
  for (const a of load.attempts) w(s.dim(`  tried ${escapeControls(a.path)}: ${escapeControls(a.error)}`));
  if (features) {
    w(`O(1) fd count (Linux >= 6.2 st_size of /proc/PID/fd): ${yes(features.fdCountO1)}`);
    w(`per-process CPU clock for other pids: ${yes(features.cpuClock)}`);
    w(`page size ${features.pageSize} B, USER_HZ ${features.clockTicks}, RAM ${(features.memTotalBytes / 2 ** 30).toFixed(1)} GiB`);
  }
  // The reason in colour, then the rest of the same sentence (discoveryReason starts with it).
  w(`tree discovery: ${births.events ? s.green(births.reason) : s.yellow(births.reason)}${discovery.slice(births.reason.length)}`);
  w(`one sample of this process: ${probe.sampleUs.toFixed(2)} µs${report.baselineUs === null ? '' : ` (the same system calls in C: ${report.baselineUs.toFixed(2)} µs, ${(probe.sampleUs / report.baselineUs).toFixed(2)}×)`}`);
  const met = stats.samples / (stats.samples + stats.missedDeadlines);
  w(`sampler at 1 kHz for 1 s: ${stats.achievedHz.toFixed(0)} Hz, ${stats.missedDeadlines} missed deadlines (${(met * 100).toFixed(2)}% met)`);
  return 0;
}
