// pp_forkwatch on platforms without a process-event source (macOS, Windows, others): open reports
// ENOSYS, and the TypeScript side keeps finding a tree's descendants by scanning.
#include "forkwatch.h"

#include <errno.h>

int pp_forkwatch_open(int* fd) {
  *fd = -1;
  return ENOSYS;
}

int pp_forkwatch_drain(int fd, int32_t* out, size_t cap, int32_t* lost) {
  (void)fd;
  (void)out;
  (void)cap;
  (void)lost;
  return -ENOSYS;
}

void pp_forkwatch_close(int fd) { (void)fd; }

int pp_reap_orphan(int32_t pid, int32_t* status, double* out) {
  (void)pid;
  (void)status;
  (void)out;
  return -ENOSYS;
}
