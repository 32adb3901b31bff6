// Fallback probe for any OS without its own implementation (binding.gyp picks this file when the
// target is neither Linux, macOS nor Windows). It reads nothing and calls no OS API:
//
//  every sample field   not read: pp_open and pp_read answer PP_UNSUPPORTED, so no row is ever
//                       written (the glue copies a row only on PP_OK or PP_ZOMBIE).
//  features             zeros for the flags, NaN for the numbers (unknown, never a fake 0).
//
// The addon still loads and reports its ABI and field names, so JavaScript can say why the native
// probe is unavailable and fall back to its own readers instead of failing to load the binary.
#include "baseline.h"
#include "probe.h"
#include "timing.h"

#include <math.h>

// Never instantiated: pp_open fails before any allocation. Defined only so the type is complete.
struct pp_target {
  int unused;
};

enum pp_status pp_open(int pid, struct pp_target** out) {
  (void)pid;
  *out = nullptr;
  return PP_UNSUPPORTED;
}

enum pp_status pp_read(struct pp_target* t, struct pp_sample* s) {
  (void)t;
  (void)s;  // left untouched: callers must not read a row that came with a failing status
  return PP_UNSUPPORTED;
}

// Nothing was allocated by pp_open, so there is nothing to free.
void pp_close(struct pp_target* t) { (void)t; }

enum pp_status pp_read_children(struct pp_target* t, struct pp_children* c) {
  (void)t;
  (void)c;
  return PP_UNSUPPORTED;
}

void pp_get_features(struct pp_features* f) {
  f->fd_count_o1 = 0;
  f->cpu_clock = 0;
  f->page_size = NAN;
  f->clock_ticks = NAN;
  f->mem_total_bytes = NAN;
}

double pp_baseline_loop(struct pp_target* t, uint32_t iterations) {
  (void)t;
  (void)iterations;
  return -(double)PP_UNSUPPORTED;
}

double pp_monotonic_ms(void) { return NAN; }

int pp_sleep_until(double) { return -1; }

void pp_thread_tune(void) {}

int pp_baseline_thread(struct pp_target*, double, double, struct pp_loop_stats*) { return -1; }

// The counts are read with the rest on this platform: nothing costs enough to be carried.
void pp_set_counts_interval(struct pp_target* t, double ms) {
  (void)t;
  (void)ms;
}
