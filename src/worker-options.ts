/**
 * How procprobe starts its worker threads (the sampler, the history writer, the analysis pool):
 * with nothing of the host's command line, and loading nothing that leaves a handle open when the
 * worker is terminated.
 *
 * execArgv: a Worker inherits the host's execArgv by default, and those flags are the host's, for
 * the host's entry: `node --input-type=module -e …` made every sampler worker fail at boot
 * ("--input-type can only be used with string input"), and `--import tsx`, `--require apm-agent`
 * or `--conditions=…` would run the host's loaders and preloads in each of our workers, or resolve
 * our dependencies differently. Our workers are compiled ESM and need no flag; the flags that
 * matter to the whole process (V8 flags such as --expose-gc or --max-old-space-size, the
 * permission model) are process-wide and apply to them anyway.
 *
 * env: a copy of the host's, without NODE_OPTIONS, whose --import/--require Node applies to a
 * worker even with an empty execArgv (a NODE_OPTIONS preload ran in the worker; measured), and
 * with msgpackr's native accelerator off: loading it loads detect-libc, which reads
 * /proc/self/exe and closes it with an asynchronous fs.close, and a worker terminated before that
 * close ran never closes it (the fd leak seen under worker churn). It costs nothing measurable:
 * the writer only packs (the accelerator speeds unpacking strings), and the analysis task over
 * 300 sessions took 97-111 ms with it and 99-107 ms without (12 rounds each), its worker booting
 * 4 ms sooner without. The sampler worker never loads msgpackr; the setting is moot there.
 *
 * Not done, on purpose: loading a worker's graph with require(esm) (synchronous reads, so no read
 * in flight for a terminate to lose) aborts the whole process on Node 20 when the worker is
 * terminated during the load ("v8::Module::IsGraphAsync must be used on an instantiated module").
 */
import { Worker, type WorkerOptions } from 'node:worker_threads';

/** The execArgv and env every worker procprobe starts gets (also piscina's options). */
export function workerOptions(): { execArgv: string[]; env: Record<string, string> } {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && k !== 'NODE_OPTIONS') env[k] = v;
  env.MSGPACKR_NATIVE_ACCELERATION_DISABLED = 'true';
  return { execArgv: [], env };
}

/** A worker on the file `entry` with workerOptions(); `options` are the Worker's own (name, workerData...). */
export function startWorker(entry: URL, options: Omit<WorkerOptions, 'eval' | 'execArgv' | 'env'>): Worker {
  return new Worker(entry, { ...options, ...workerOptions() });
}
