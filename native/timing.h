// Sampler timing, used by the sampler worker for sub-millisecond intervals (timing_posix.cc,
// timing_win.cc; probe_unsupported.cc answers "unsupported"). Knows nothing of N-API.
#ifndef PROCPROBE_TIMING_H_
#define PROCPROBE_TIMING_H_

// pp_monotonic_ms: the monotonic clock deadlines are set on, in ms.
// pp_sleep_until: sleep to an absolute pp_monotonic_ms deadline; 0 on success, -1 if unsupported
// (the sampler then waits with Atomics.wait).
// pp_thread_tune: make this thread's timer wake-ups precise (Linux: timer slack 50 µs -> 1 µs).
double pp_monotonic_ms(void);
int pp_sleep_until(double mono_ms);
void pp_thread_tune(void);

#endif  // PROCPROBE_TIMING_H_
