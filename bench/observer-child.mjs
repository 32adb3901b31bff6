/**
 * The watched program of bench/observer.bench.mjs (not a benchmark: the runner loads only
 * *.bench.mjs). A fixed amount of CPU-bound work, timed by the program itself with
 * performance.now() around it, printed as one line `observer-work-ms <ms>`.
 *
 *   node observer-child.mjs ITERATIONS [WORKERS]
 *
 * With WORKERS > 0 it forks that many copies of itself; all of them (and this process) start the
 * work at one 'go' message, once every worker is loaded, so Node's startup is not in the figure.
 * The printed time is then from 'go' to the last process done: the tree's own work time.
 */
import { fork } from 'node:child_process';

const iterations = Number(process.argv[2]);
const workers = Number(process.argv[3] ?? 0);

/** xorshift32 for a fixed number of steps: pure CPU, no allocation, not foldable by the JIT. */
function work(n) {
  let x = 2463534242;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
  }
  return x;
}

if (process.send && process.env.OBSERVER_CHILD_WORKER === '1') {
  process.on('message', () => {
    process.send(work(iterations), () => process.disconnect());
  });
  process.send('ready');
} else if (workers > 0) {
  const env = { ...process.env, OBSERVER_CHILD_WORKER: '1' };
  const kids = Array.from({ length: workers }, () => fork(process.argv[1], [String(iterations)], { env }));
  let ready = 0;
  let done = 0;
  let t0 = 0;
  let last = 0;
  const finish = () => {
    if (++done === workers + 1) console.log(`observer-work-ms ${(last - t0).toFixed(3)}`);
  };
  for (const k of kids) {
    k.on('message', (m) => {
      if (m === 'ready' && ++ready === workers) {
        t0 = performance.now();
        for (const w of kids) w.send('go');
        work(iterations);
        last = Math.max(last, performance.now());
        finish();
      } else if (m !== 'ready') {
        last = Math.max(last, performance.now());
        finish();
      }
    });
  }
} else {
  const t0 = performance.now();
  work(iterations);
  console.log(`observer-work-ms ${(performance.now() - t0).toFixed(3)}`);
}
