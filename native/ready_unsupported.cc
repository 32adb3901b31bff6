// The readiness checks on platforms without them (Windows, others): every call reports ENOSYS,
// and the TypeScript side polls and reads from the event loop instead.
#include <errno.h>
#include <string.h>

#include "ready.h"

int pp_port_poll(const char* host, int port, double interval_ms, const std::atomic<int>* stop, struct pp_port_result* out) {
  (void)host, (void)port, (void)interval_ms, (void)stop;
  memset(out, 0, sizeof *out);
  out->err = ENOSYS;
  return out->err;
}

long pp_pipe_read(int fd, char* buf, size_t cap, double timeout_ms, double* at_mono_ms) {
  (void)fd, (void)buf, (void)cap, (void)timeout_ms, (void)at_mono_ms;
  errno = ENOSYS;
  return -1;
}

int pp_ready_supported(void) { return 0; }
