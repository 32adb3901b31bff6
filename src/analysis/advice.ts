/**
 * What to do about a finding, for the runtime that showed it (analysis/runtime.ts): the rule in
 * suggest.ts says what the evidence is, this says which levers that runtime has. Only advice
 * that applies to the runtime is given; a native binary gets the generic levers.
 */
import type { Runtime } from './runtime.js';

/** A phase that computes rather than waits. */
export const COMPUTE_ADVICE: Readonly<Record<Runtime, string>> = {
  node: 'Load modules lazily (import() on first use), cache compiled code (V8 compile cache: NODE_COMPILE_CACHE=dir on Node ≥ 22.1, module.enableCompileCache() on ≥ 22.8), and do less up front: defer what the first request does not need.',
  python: 'Find the slowest imports (python -X importtime), import heavy modules inside the functions that need them, keep the bytecode cache writable (__pycache__; PYTHONDONTWRITEBYTECODE unset), and defer what the first request does not need.',
  jvm: 'Share the class data of earlier runs (AppCDS: -XX:SharedArchiveFile, -XX:+AutoCreateSharedArchive on JDK ≥ 19), stop tiered compilation early for short runs (-XX:TieredStopAtLevel=1), and load fewer classes at start (lazy beans, smaller classpath).',
  shell: 'Each command a script runs is a fork and an exec: run fewer of them (shell builtins instead of date, expr, sed in loops; one awk or one process for the whole loop).',
  native: 'Profile where its CPU goes before it is ready (perf record -g, or its own startup logs): eager initialisation, configuration parsing, cache warming; defer what the first request does not need.',
};

/** A phase preempted for a core (involuntary context switches). */
export const CONTENTION_ADVICE: Readonly<Record<Runtime, string>> = {
  node: 'Start fewer threads or processes at once (worker pools, UV_THREADPOOL_SIZE, parallel children) or give it more cores.',
  python: 'Start fewer processes or threads at once (multiprocessing pools, gunicorn/uvicorn --workers) or give it more cores.',
  jvm: 'Use fewer threads at start (-XX:CICompilerCount, -XX:ParallelGCThreads, thread-pool sizes) or give it more cores.',
  shell: 'Run fewer commands in parallel (xargs -P, & jobs) or give it more cores.',
  native: 'Start fewer threads or worker processes at once (its worker settings) or give it more cores.',
};
