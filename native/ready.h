// Readiness checks of `procprobe run` timed where they happen, not where the event loop notices
// them (ready_posix.cc; ready_unsupported.cc answers ENOSYS). Knows nothing of N-API: the glue
// (ready_addon.cc) runs each on its own thread and carries the result to JavaScript.
//
// Why not in JavaScript: a TCP connect attempt from the event loop, and a read of the command's
// output pipe, are both seen only when the CLI's main thread gets to them (its housekeeping, the
// history writer's messages, a GC), and JavaScript timers cannot poll faster than 1 ms. Here a
// thread polls the port every 0.5 ms to absolute deadlines, and another blocks on the pipe: each
// success or chunk is stamped on CLOCK_MONOTONIC (the clock of the spawn's stamps) the moment the
// kernel reports it.
#ifndef PROCPROBE_READY_H_
#define PROCPROBE_READY_H_

#include <stddef.h>

#include <atomic>

struct pp_port_result {
  int ok;                // 1: a connection to host:port succeeded (not to itself)
  int err;               // 0, or why the poll could not run (ENOSYS; EINVAL: the host did not resolve)
  double ready_mono_ms;  // CLOCK_MONOTONIC ms when the first successful connect completed
  double attempts;       // connect rounds made (each tries every address of the host)
  char error[128];       // the resolver's message when err is EINVAL, else ""
};

// Try to connect to host:port every interval_ms (absolute deadlines: a slow round does not shift
// the next ones), until one succeeds or *stop becomes nonzero (checked every round, and every
// 10 ms inside a connect still in progress). Fills *out; returns out->err.
int pp_port_poll(const char* host, int port, double interval_ms, const std::atomic<int>* stop, struct pp_port_result* out);

// Wait up to timeout_ms for fd to be readable, then read up to cap bytes into buf. Returns the
// bytes read (> 0; *at_mono_ms = CLOCK_MONOTONIC ms as the read returned), 0 at end of file,
// -1 on an error (errno set), -2 when nothing came within timeout_ms.
long pp_pipe_read(int fd, char* buf, size_t cap, double timeout_ms, double* at_mono_ms);

// 1 when both work on this platform.
int pp_ready_supported(void);

#endif  // PROCPROBE_READY_H_
