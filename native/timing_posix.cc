// Sampler timing on POSIX systems (Linux, macOS): the monotonic clock deadlines are set on, an
// absolute-deadline sleep, per-thread timer tuning, and the native sampling-thread baseline that
// the sampler benchmark compares with. Knows nothing of N-API.
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include "baseline.h"
#include "probe.h"
#include "timing.h"

double pp_monotonic_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

int pp_sleep_until(double mono_ms) {
#ifdef __linux__
  struct timespec ts;
  ts.tv_sec = (time_t)(mono_ms / 1e3);
  ts.tv_nsec = (long)((mono_ms - (double)ts.tv_sec * 1e3) * 1e6);
  if (ts.tv_nsec < 0) ts.tv_nsec = 0;
  if (ts.tv_nsec > 999999999) ts.tv_nsec = 999999999;
  // TIMER_ABSTIME: an absolute deadline does not drift, and EINTR just resumes the same deadline.
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) == EINTR) {
  }
#else
  // No clock_nanosleep on macOS: sleep the remaining time, re-checked after each wake-up.
  for (;;) {
    double left = mono_ms - pp_monotonic_ms();
    if (left <= 0) break;
    struct timespec ts;
    ts.tv_sec = (time_t)(left / 1e3);
    ts.tv_nsec = (long)((left - (double)ts.tv_sec * 1e3) * 1e6);
    nanosleep(&ts, nullptr);
  }
#endif
  return 0;
}

void pp_thread_tune(void) {
#ifdef __linux__
  // The default 50 µs timer slack would make a 100 µs interval wake up to 50 % late. 1 ns asks
  // for the tightest the kernel gives this (non-realtime) thread. Per-thread: the host's own
  // threads keep their slack.
  prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
#endif
}

namespace {

struct loop_job {
  pp_target* t;
  double interval_ms;
  double duration_ms;
  pp_loop_stats* out;
  double* lags;
  size_t cap;
};

int cmp_double(const void* a, const void* b) {
  double x = *(const double*)a, y = *(const double*)b;
  return x < y ? -1 : x > y;
}

double thread_cpu_us() {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

void* loop_main(void* arg) {
  loop_job* job = (loop_job*)arg;
  pp_thread_tune();
  double cpu0 = thread_cpu_us();
  double start = pp_monotonic_ms();
  double next = start;
  double missed = 0;
  size_t n = 0;
  while (n < job->cap) {
    next += job->interval_ms;
    if (next > start + job->duration_ms) break;
    pp_sleep_until(next);
    double lag = pp_monotonic_ms() - next;
    if (lag >= job->interval_ms) {
      double skipped = floor(lag / job->interval_ms);
      missed += skipped;
      next += skipped * job->interval_ms;
      lag -= skipped * job->interval_ms;
    }
    job->lags[n++] = lag * 1e3;
    pp_baseline_loop(job->t, 1);
  }
  job->out->cpu_us = thread_cpu_us() - cpu0;
  qsort(job->lags, n, sizeof(double), cmp_double);
  job->out->ticks = (double)n;
  job->out->missed = missed;
  job->out->lag_p50_us = n ? job->lags[n / 2] : NAN;
  job->out->lag_p99_us = n ? job->lags[(n * 99) / 100] : NAN;
  job->out->lag_max_us = n ? job->lags[n - 1] : NAN;
  return nullptr;
}

}  // namespace

int pp_baseline_thread(struct pp_target* t, double interval_ms, double duration_ms,
                       struct pp_loop_stats* out) {
  if (!(interval_ms > 0) || !(duration_ms > 0)) return -1;
  loop_job job = {t, interval_ms, duration_ms, out, nullptr, 0};
  job.cap = (size_t)(duration_ms / interval_ms) + 2;
  job.lags = (double*)malloc(job.cap * sizeof(double));
  if (job.lags == nullptr) return -1;
  struct pp_sample s;
  pp_read(t, &s);  // prime lazily opened state, as the JS sampler's first sample does
  pthread_t th;
  int rc = pthread_create(&th, nullptr, loop_main, &job);
  if (rc == 0) pthread_join(th, nullptr);
  free(job.lags);
  return rc == 0 ? 0 : -1;
}
