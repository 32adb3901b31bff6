// pp_spawn and pp_wait_exit on Linux (see spawn.h). Knows nothing of N-API.
//
// posix_spawn in glibc >= 2.24 is clone(CLONE_VM | CLONE_VFORK): the child runs on the parent's
// memory until it execs, so no page table is copied however large this process is, and the parent
// thread is suspended only until the exec. The child reports a failed exec (or a failed file
// action, such as the chdir) to the parent through that shared memory: posix_spawn returns the
// errno and has already reaped the failed child, so an error here never leaves a zombie.
#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 29))
#define PP_HAVE_ADDCHDIR 1  // posix_spawn_file_actions_addchdir_np: glibc 2.29
#else
#define PP_HAVE_ADDCHDIR 0
#endif

extern char** environ;

namespace {

double now_ms(clockid_t clock) {
  struct timespec ts;
  clock_gettime(clock, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

double tv_us(const struct timeval& tv) { return (double)tv.tv_sec * 1e6 + (double)tv.tv_usec; }

void close_all(int* fds) {
  for (int i = 0; i < 3; i++) {
    if (fds[i] >= 0) close(fds[i]);
    fds[i] = -1;
  }
}

// fd, or a close-on-exec copy of it at 3 or above (fd closed). A host may run with fd 0, 1 or 2
// closed (a vitest fork worker does), and then pipe2 hands out those numbers: a child end at 1
// dup2'd to 0 while another is dup2'd from 0 to 1 would cross. -1 with errno on failure.
int above_stdio(int fd) {
  if (fd > 2) return fd;
  int copy = fcntl(fd, F_DUPFD_CLOEXEC, 3);
  int saved = errno;
  close(fd);
  errno = saved;
  return copy;
}

// One pipe per PP_STDIO_PIPE fd: r->fds gets this process's end, child[] the child's. Both ends
// are O_CLOEXEC from the start (pipe2, not pipe + fcntl): another thread of this process may fork
// or spawn at any moment (libuv, a worker), and must not inherit them. The child's end reaches
// the child through a dup2 file action, and dup2 clears FD_CLOEXEC on the copy only.
int make_pipes(const struct pp_spawn_opts* o, struct pp_spawn_result* r, int* child) {
  for (int i = 0; i < 3; i++) {
    if (o->stdio[i] != PP_STDIO_PIPE) continue;
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0) return errno;
    p[0] = above_stdio(p[0]);
    p[1] = above_stdio(p[1]);
    // fd 0: the child reads p[0], we write p[1]; fds 1 and 2 the other way round. Stored before
    // the check, so that the caller closes whichever end is valid.
    r->fds[i] = i == 0 ? p[1] : p[0];
    child[i] = i == 0 ? p[0] : p[1];
    if (p[0] < 0 || p[1] < 0) return errno;
  }
  return 0;
}

int file_actions(const struct pp_spawn_opts* o, const int* child, posix_spawn_file_actions_t* fa) {
  for (int i = 0; i < 3; i++) {
    int rc = 0;
    if (o->stdio[i] == PP_STDIO_PIPE) rc = posix_spawn_file_actions_adddup2(fa, child[i], i);
    if (o->stdio[i] == PP_STDIO_IGNORE) rc = posix_spawn_file_actions_addopen(fa, i, "/dev/null", i == 0 ? O_RDONLY : O_WRONLY, 0);
    // Inherit an open fd even when it is close-on-exec here (as libuv does): dup2(i, i) clears
    // the flag in the child since glibc 2.29. A closed fd stays closed (dup2 would fail: EBADF).
    if (o->stdio[i] == PP_STDIO_INHERIT && fcntl(i, F_GETFD) != -1) rc = posix_spawn_file_actions_adddup2(fa, i, i);
    if (rc != 0) return rc;
  }
  if (o->cwd == nullptr) return 0;
#if PP_HAVE_ADDCHDIR
  return posix_spawn_file_actions_addchdir_np(fa, o->cwd);
#else
  return ENOSYS;  // the TypeScript side falls back to child_process.spawn
#endif
}

// Node blocks no signal on its main thread but ignores SIGPIPE (and a host may ignore more), and
// ignored dispositions and the mask survive exec: without this, `yes | head` in the child would
// spin on EPIPE instead of dying. Every signal back to its default, an empty mask, as libuv does.
// The default set is every bit set by memset, not sigfillset: glibc's sigfillset leaves out its
// internal signals 32 and 33, and posix_spawn then sets those to SIG_IGN in the child (glibc 2.36
// spawni.c), which child_process does not do; a memcpy'd set is taken as is.
//
// new_group 2 is a new session (POSIX_SPAWN_SETSID, glibc 2.26), as child_process's `detached`
// does: with the kernel's autogroup scheduling (sched_autogroup_enabled, on in most desktop and
// server kernels) a session is a scheduling group, and a child left in procprobe's session shares
// that group's CPU share with procprobe's own sampler, writer and main threads on a busy machine,
// where a command run by a shell or by hyperfine has its group to itself.
int attributes(const struct pp_spawn_opts* o, posix_spawnattr_t* at) {
  sigset_t all, none;
  memset(&all, 0xff, sizeof all);
  sigemptyset(&none);
  short flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
#ifdef POSIX_SPAWN_SETSID
  if (o->new_group == 2) flags |= POSIX_SPAWN_SETSID;  // the session leader leads its group too
  else
#endif
  if (o->new_group) flags |= POSIX_SPAWN_SETPGROUP;
  int rc = posix_spawnattr_setflags(at, flags);
  if (rc == 0) rc = posix_spawnattr_setsigmask(at, &none);
  if (rc == 0) rc = posix_spawnattr_setsigdefault(at, &all);
  if (rc == 0 && (flags & POSIX_SPAWN_SETPGROUP)) rc = posix_spawnattr_setpgroup(at, 0);  // 0: pgid = the child's pid
  return rc;
}

// posix_spawn gives one errno for the exec and the chdir alike (ENOENT for a missing file or a
// missing cwd). `file` is absolute, so the chdir does not change what it names: if the cwd is
// not a directory this process may enter, the chdir is what failed.
int failed_step(const struct pp_spawn_opts* o, int* err) {
  if (o->cwd == nullptr) return PP_STEP_EXEC;
  struct stat st;
  if (stat(o->cwd, &st) != 0) {
    *err = errno;
    return PP_STEP_CWD;
  }
  if (!S_ISDIR(st.st_mode)) {
    *err = ENOTDIR;
    return PP_STEP_CWD;
  }
  if (access(o->cwd, X_OK) != 0) {
    *err = errno;
    return PP_STEP_CWD;
  }
  return PP_STEP_EXEC;
}

}  // namespace

int pp_spawn(const struct pp_spawn_opts* o, struct pp_spawn_result* r) {
  int child[3] = {-1, -1, -1};
  *r = {};
  r->pid = -1;
  r->fds[0] = r->fds[1] = r->fds[2] = -1;
  r->err = make_pipes(o, r, child);
  if (r->err != 0) {
    r->step = PP_STEP_PIPE;
  } else {
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    bool have_fa = posix_spawn_file_actions_init(&fa) == 0, have_at = posix_spawnattr_init(&at) == 0;
    r->err = !have_fa || !have_at ? ENOMEM : file_actions(o, child, &fa);
    if (r->err == 0) r->err = attributes(o, &at);
    if (r->err != 0) {
      r->step = PP_STEP_SETUP;
    } else {
      pid_t pid = -1;
      r->before_ms = now_ms(CLOCK_REALTIME);
      r->before_mono_ms = now_ms(CLOCK_MONOTONIC);
      r->err = posix_spawn(&pid, o->file, &fa, &at, o->argv, o->envp != nullptr ? o->envp : environ);
      r->after_mono_ms = now_ms(CLOCK_MONOTONIC);
      r->after_ms = now_ms(CLOCK_REALTIME);
      if (r->err == 0) r->pid = (int)pid;
      else r->step = failed_step(o, &r->err);
    }
    if (have_fa) posix_spawn_file_actions_destroy(&fa);
    if (have_at) posix_spawnattr_destroy(&at);
  }
  close_all(child);  // the child has its copies (or there is no child)
  if (r->err != 0) close_all(r->fds);
  return r->err;
}

int pp_wait_exit(int pid, struct pp_exit* e) {
  int status = 0;
  struct rusage ru;
  pid_t got;
  do {
    got = wait4((pid_t)pid, &status, 0, &ru);
  } while (got < 0 && errno == EINTR);
  // Stamped before anything else: this instant is the one the report calls the exit.
  e->exited_ms = now_ms(CLOCK_REALTIME);
  e->exited_mono_ms = now_ms(CLOCK_MONOTONIC);
  if (got < 0) {
    // ECHILD: not our child, or reaped already (a host that set SIGCHLD to SIG_IGN, or another
    // waitpid(-1) in the process). Reported, never an abort.
    e->err = errno;
    e->code = -1;
    e->signal = 0;
    e->user_us = e->system_us = e->maxrss_kib = e->minflt = e->majflt = e->nvcsw = e->nivcsw = -1;
    return e->err;
  }
  e->err = 0;
  e->code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  e->signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
  e->user_us = tv_us(ru.ru_utime);
  e->system_us = tv_us(ru.ru_stime);
  e->maxrss_kib = (double)ru.ru_maxrss;  // Linux: KiB
  e->minflt = (double)ru.ru_minflt;
  e->majflt = (double)ru.ru_majflt;
  e->nvcsw = (double)ru.ru_nvcsw;
  e->nivcsw = (double)ru.ru_nivcsw;
  return 0;
}

int pp_thread_detached(void* (*fn)(void*), void* arg) {
  pthread_attr_t attr;
  pthread_t th;
  if (pthread_attr_init(&attr) != 0) return EAGAIN;
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  pthread_attr_setstacksize(&attr, 64 * 1024);
  int rc = pthread_create(&th, &attr, fn, arg);
  pthread_attr_destroy(&attr);
  return rc;
}

void pp_spawn_undo(struct pp_spawn_result* r) {
  kill(r->pid, SIGKILL);
  while (waitpid(r->pid, nullptr, 0) < 0 && errno == EINTR) {
  }
  close_all(r->fds);
}

int pp_spawn_supported(void) { return 1; }

int pp_set_child_subreaper(void) { return prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0 ? 0 : errno; }
