// pp_spawn on platforms without the native implementation (macOS, Windows, others): every call
// reports PP_STEP_UNSUPPORTED, and the TypeScript side falls back to child_process.spawn.
#include "spawn.h"

#include <errno.h>

int pp_spawn(const struct pp_spawn_opts* o, struct pp_spawn_result* r) {
  (void)o;
  *r = {};
  r->pid = -1;
  r->fds[0] = r->fds[1] = r->fds[2] = -1;
  r->err = ENOSYS;
  r->step = PP_STEP_UNSUPPORTED;
  return r->err;
}

int pp_wait_exit(int pid, struct pp_exit* e) {
  (void)pid;
  *e = {};
  e->err = ENOSYS;
  return e->err;
}

int pp_thread_detached(void* (*fn)(void*), void* arg) {
  (void)fn;
  (void)arg;
  return ENOSYS;
}

void pp_spawn_undo(struct pp_spawn_result* r) { (void)r; }

int pp_spawn_supported(void) { return 0; }

int pp_set_child_subreaper(void) { return ENOSYS; }
