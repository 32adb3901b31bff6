// The sampler's loop in C, for one process at intervals below a few milliseconds: sleep to an
// absolute deadline, read the probe, write the next ring record with the ring's seqlock, publish
// it. JavaScript keeps control (start, pause, stop, the other sources); this only removes the
// per-tick crossings between V8 and C++ that made a 1 kHz tick cost up to 1.5x a C thread's.
//
// Ring offsets are not defined here: src/ring/layout.ts owns them and passes them in (struct
// pp_loop_ring). Stores to the version and slot words are seq_cst atomics on the same memory that
// JavaScript reads with Atomics, so the protocol is the one described in src/ring/ring.ts.
// pp_loop_check proves every offset lies within the arrays before a loop runs (the glue calls it
// on every runLoop), so the loop itself indexes without checks.
#include "loop.h"
#include "timing.h"

#include <math.h>
#include <string.h>

namespace {

inline int32_t load(int32_t* p) { return __atomic_load_n(p, __ATOMIC_SEQ_CST); }
inline void store(int32_t* p, int32_t v) { __atomic_store_n(p, v, __ATOMIC_SEQ_CST); }

// CPU % over a trailing window from the cumulative CPU time (src/sampler/cpu-window.ts is the
// same rule for the other sources): a thread running on another CPU is accounted at scheduler
// ticks, so a per-millisecond figure is meaningless.
struct cpu_window {
  double* ts;
  double* cpu;
  int cap, head, size;
  double window_ms;
};

void window_apply(cpu_window* w, double* row, const pp_loop_ring* r) {
  double ts = row[r->f_timestamp];
  double cpu = row[r->f_cpu_user] + row[r->f_cpu_system];
  if (isnan(ts) || isnan(cpu)) return;
  if (w->size == w->cap) {
    w->head = (w->head + 1) % w->cap;
    w->size--;
  }
  int tail = (w->head + w->size) % w->cap;
  w->ts[tail] = ts;
  w->cpu[tail] = cpu;
  w->size++;
  while (w->size > 2 && ts - w->ts[(w->head + 1) % w->cap] >= w->window_ms) {
    w->head = (w->head + 1) % w->cap;
    w->size--;
  }
  if (w->size < 2) return;
  double dt = (ts - w->ts[w->head]) * 1e3;
  if (dt > 0) {
    double pct = (cpu - w->cpu[w->head]) / dt * 100.0;
    row[r->f_cpu_percent] = pct < 0 ? 0 : pct;
  }
}

}  // namespace

int pp_loop_check(const pp_loop_ring* r, const pp_loop_sizes* n, pp_loop_fault* fault) {
  // In double: every bound below fits exactly (array lengths < 2^53), and nothing can overflow.
  double cap = r->capacity, stride = r->stride, gauges = r->gauge_count;
  const double last_field = PP_FIELD_COUNT - 1;
  struct {
    const char* field;
    double got, min, max;
  } rules[] = {
      // In this order: each bound uses only words checked before it.
      {"capacity", cap, 2, (double)n->versions},
      {"stride", stride, PP_FIELD_COUNT, floor((double)n->records / (cap < 1 ? 1 : cap))},
      {"gauge_count", gauges, 0, fmin((double)n->gauges, stride)},
      {"h_last_slot", (double)r->h_last_slot, 0, (double)n->header - 1},
      {"h_missed", (double)r->h_missed, 0, (double)n->header - 1},
      {"h_stop", (double)r->h_stop, 0, (double)n->header - 1},
      {"h_pause", (double)r->h_pause, 0, (double)n->header - 1},
      {"r_seq", (double)r->r_seq, 0, stride - 1},
      {"r_status", (double)r->r_status, 0, stride - 1},
      {"r_lag", (double)r->r_lag, 0, stride - 1},
      {"r_processes", (double)r->r_processes, 0, stride - 1},
      {"r_pss", (double)r->r_pss, 0, stride - 1},
      {"r_row", (double)r->r_row, 0, stride - PP_FIELD_COUNT},
      {"r_gauges", (double)r->r_gauges, 0, stride - gauges},
      {"f_pid", (double)r->f_pid, 0, last_field},
      {"f_timestamp", (double)r->f_timestamp, 0, last_field},
      {"f_cpu_user", (double)r->f_cpu_user, 0, last_field},
      {"f_cpu_system", (double)r->f_cpu_system, 0, last_field},
      {"f_cpu_percent", (double)r->f_cpu_percent, 0, last_field},
  };
  for (const auto& rule : rules) {
    if (rule.got >= rule.min && rule.got <= rule.max) continue;
    *fault = {rule.field, rule.got, rule.min, rule.max};
    return 1;
  }
  return 0;
}

int pp_run_loop(pp_target* t, const pp_loop_ring* r, double interval_ms, double window_ms, int sample_first,
                double max_ms, const pp_loop_window* lw, double* next_seq, double* deadline, int* last_status,
                double* pending_pss) {
  pp_thread_tune();
  // The window lives in the caller's array, so that it survives the loop's periodic returns.
  double* win = lw->win;
  cpu_window w = {win + 2, win + 2 + lw->cap, lw->cap, lw->head, lw->size, window_ms};
  double seq = *next_seq;
  double entered = pp_monotonic_ms();
  double next = *deadline > 0 ? *deadline : entered - (sample_first ? interval_ms : 0);
  int exit = PP_LOOP_STOP;
  *last_status = PP_OK;
  for (;;) {
    if (next - entered >= max_ms) {
      // Hand control back now and then: a worker blocked in C cannot be terminated.
      exit = PP_LOOP_YIELD;
      break;
    }
    next += interval_ms;
    if (load(&r->header[r->h_stop]) != 0) break;
    if (load(&r->header[r->h_pause]) != 0) {
      exit = PP_LOOP_PAUSE;
      break;
    }
    if (pp_sleep_until(next) != 0) {
      exit = PP_LOOP_UNSUPPORTED;
      break;
    }
    double lag = pp_monotonic_ms() - next;
    if (lag >= interval_ms) {
      // Skipped deadlines are counted, never made up with a burst.
      double skipped = floor(lag / interval_ms);
      // The counter wraps at 2^31 (H.MISSED); a deadline from far in the past must not turn into
      // an out-of-range conversion, so one call adds at most INT32_MAX.
      int32_t add = skipped < (double)INT32_MAX ? (int32_t)skipped : INT32_MAX;
      __atomic_fetch_add(&r->header[r->h_missed], add, __ATOMIC_SEQ_CST);
      next += skipped * interval_ms;
      lag -= skipped * interval_ms;
    }
    int32_t slot = (int32_t)fmod(seq, (double)r->capacity);
    double* rec = r->records + (size_t)slot * (size_t)r->stride;
    int32_t v = load(&r->versions[slot]) | 1;
    store(&r->versions[slot], v);  // odd: being written
    rec[r->r_seq] = seq;
    struct pp_sample s;
    enum pp_status st = pp_read(t, &s);
    double* row = rec + r->r_row;
    if (st == PP_OK || st == PP_ZOMBIE) {
      memcpy(row, &s, sizeof s);
    } else {
      for (int i = 0; i < PP_FIELD_COUNT; i++) row[i] = NAN;
      row[r->f_pid] = s.pid;
      row[r->f_timestamp] = s.timestamp;
    }
    rec[r->r_status] = (double)st;
    rec[r->r_lag] = lag * 1e3;
    rec[r->r_processes] = 1;
    rec[r->r_pss] = *pending_pss;
    *pending_pss = NAN;
    if (st == PP_OK) window_apply(&w, row, r);
    for (int g = 0; g < r->gauge_count; g++) rec[r->r_gauges + g] = r->gauges[g];
    store(&r->versions[slot], v + 1);  // even: complete
    store(&r->header[r->h_last_slot], slot);
    seq += 1;
    if (st != PP_OK) {
      *last_status = st;
      exit = PP_LOOP_TARGET;
      break;
    }
  }
  win[0] = w.head;
  win[1] = w.size;
  *next_seq = seq;
  *deadline = next;
  return exit;
}
