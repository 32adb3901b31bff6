// Benchmark baselines (bench/probe.bench.mjs, bench/sampler.bench.mjs): what a hand-written C
// sampler would pay, measured in the same run as the addon. Knows nothing of N-API.
#ifndef PROCPROBE_BASELINE_H_
#define PROCPROBE_BASELINE_H_

#include <stdint.h>

struct pp_target;

// The same system calls as pp_read in a plain C loop, without parsing into a pp_sample and
// without crossing into JavaScript. Returns elapsed ns for `iterations` reads, or a negative
// status. Defined by each per-OS probe file (it reads that file's pp_target).
double pp_baseline_loop(struct pp_target* t, uint32_t iterations);

// A native thread that sleeps to absolute deadlines and does pp_read's system calls each tick, as
// a C sampler would. Blocks the caller for duration_ms. 0 on success, -1 if unsupported.
struct pp_loop_stats {
  double ticks;
  double missed;      // deadlines skipped because the thread woke a whole interval late
  double cpu_us;      // CPU time of the sampling thread itself
  double lag_p50_us;
  double lag_p99_us;
  double lag_max_us;
};
int pp_baseline_thread(struct pp_target* t, double interval_ms, double duration_ms,
                       struct pp_loop_stats* out);

#endif  // PROCPROBE_BASELINE_H_
