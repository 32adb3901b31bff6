// Sampler timing on Windows. The monotonic clock is QueryPerformanceCounter. Sub-millisecond
// sleeps are not offered (pp_sleep_until returns -1): the sampler then waits with Atomics.wait.
// The native baseline thread is not implemented here. Knows nothing of N-API.
#define WIN32_LEAN_AND_MEAN
#define NOMINMAX
#include <windows.h>

#include "baseline.h"
#include "timing.h"

double pp_monotonic_ms(void) {
  static LARGE_INTEGER freq = {};
  if (freq.QuadPart == 0) QueryPerformanceFrequency(&freq);
  LARGE_INTEGER now;
  QueryPerformanceCounter(&now);
  return (double)now.QuadPart * 1e3 / (double)freq.QuadPart;
}

int pp_sleep_until(double) { return -1; }

void pp_thread_tune(void) {}

int pp_baseline_thread(struct pp_target*, double, double, struct pp_loop_stats*) { return -1; }
