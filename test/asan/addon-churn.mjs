// The addon's N-API glue (native/addon.cc, args.cc, spawn_addon.cc) under LeakSanitizer, for
// `npm run test:asan`: what the harness (test/asan/harness.cc) cannot reach without Node. In this
// thread and in workers: probes opened, read and closed 10 000 times, of this process and of a
// child that then exits; opens of a pid that is gone; hostile arguments that throw; spawnNative
// with pipes; monitors on the native loop started and stopped; workers that leave a probe open
// for their environment's teardown, or are terminated mid-sampling. The process then exits by
// itself, and LSan reports what was lost. argv[2]: test/asan/planted-leak.c built as a shared
// library, loaded first, whose one lost block proves the check ran in this process.
import { spawn } from 'node:child_process';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Worker } from 'node:worker_threads';
import { createProbe, F, FIELD_COUNT, loadNative, ProbeStatus, RealTimeMonitor, spawnNative } from '../../dist/index.js';

const fail = (message) => {
  throw new Error(`addon-churn: ${message}`);
};
try {
  process.dlopen({ exports: {} }, process.argv[2]);
} catch (err) {
  // Not an addon: dlopen ran its constructor, then Node refused it, as planned.
  if (!/self-register|register/i.test(String(err))) fail(`loading the planted leak: ${err}`);
}
const addon = loadNative().addon;
if (!addon || !loadNative().reason.includes(process.env.PROCPROBE_ADDON_PATH)) fail(`not the sanitizer build: ${loadNative().reason}`);
const row = new Float64Array(FIELD_COUNT);

function probeRounds(pid, n) {
  for (let i = 0; i < n; i++) {
    const p = createProbe(pid ? { pid, backend: 'native' } : { backend: 'native' });
    const st = p.sampleInto(row, 0);
    if (st !== ProbeStatus.OK || row[F.pid] !== (pid || process.pid)) fail(`sample of ${pid || 'self'}: status ${st}`);
    p.close();
  }
}

/** Bad arguments: each throws a typed error made in C++ (its message and code strings). */
function hostileRounds(n) {
  const h = addon.open(0);
  let threw = 0;
  for (let i = 0; i < n; i++) {
    for (const call of [() => addon.sampleInto(h, row, 3), () => addon.sampleInto(-1, row, 0), () => addon.open(1.5), () => addon.tick(h, new Float64Array(1), row)]) {
      try {
        call();
      } catch {
        threw++;
      }
    }
  }
  addon.close(h);
  if (threw !== 4 * n) fail(`${4 * n - threw} hostile calls did not throw`);
}

async function childRounds() {
  const child = spawn('sleep', ['30'], { stdio: 'ignore' });
  await new Promise((ok) => child.once('spawn', ok));
  probeRounds(child.pid, 2000);
  const open = createProbe({ pid: child.pid, backend: 'native' });
  child.kill('SIGKILL');
  await new Promise((ok) => child.once('exit', ok));
  if (open.sampleInto(row, 0) === ProbeStatus.OK) fail('a reaped child sampled OK');
  open.close();
  if (addon.open(child.pid) >= 0) fail(`open of the reaped pid ${child.pid} succeeded`);
}

async function spawnRounds(n) {
  for (let i = 0; i < n; i++) {
    const c = spawnNative({ command: '/bin/echo', args: ['churn'] });
    c.stdin.end();
    c.stdout.resume();
    c.stderr.resume();
    const e = await c.exited;
    if (e.code !== 0) fail(`echo exited ${e.code}`);
  }
}

async function monitorRounds(n) {
  for (let i = 0; i < n; i++) {
    const m = new RealTimeMonitor({ samplingIntervalMs: 1 });
    await m.start();
    await new Promise((ok) => setTimeout(ok, 100));
    await m.stop();
  }
}

async function workerRounds(childPid, n) {
  const script = new URL('../fixtures/probe-churn-worker.mjs', import.meta.url);
  for (let i = 0; i < n; i++) {
    const mode = i % 2 ? 'terminate' : 'sample';
    const w = new Worker(script, { workerData: { childPid, mode, samples: 100 } });
    const exited = new Promise((ok) => w.once('exit', ok));
    await new Promise((ok, no) => {
      w.once('message', ok);
      w.once('error', no);
    });
    if (mode === 'terminate') await w.terminate();
    await exited;
  }
}

probeRounds(0, 10_000);
hostileRounds(1000);
await childRounds();
await spawnRounds(200);
await monitorRounds(3);
const sleeper = spawn('sleep', ['30'], { stdio: 'ignore' });
await new Promise((ok) => sleeper.once('spawn', ok));
await workerRounds(sleeper.pid, 10);
sleeper.kill('SIGKILL');
// Collect what is garbage now and let its finalizers run: Node 20 queues an External's finalizer
// to a later turn of the loop, and one still queued when the process exits leaves Node's own
// record of it (allocated in napi_create_external, under our stack) for LSan to call lost: a
// report that came and went with GC timing (59 of spawnRounds' pipe handles in one run of two).
// A handle the addon really leaked stays lost through this.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc');
for (let i = 0; i < 3; i++) {
  gc();
  await new Promise((ok) => setImmediate(ok));
}
console.log('addon-churn: ok');
