// Starting a command and learning of its exit without the event loop (spawn_posix.cc on Linux,
// spawn_unsupported.cc elsewhere). Knows nothing of N-API: the glue (spawn_addon.cc) converts.
//
// Why not child_process.spawn: libuv forks (copying the page tables of a large parent: 2-8 ms
// with the main thread blocked) and learns of the exit through SIGCHLD and the event loop, so its
// timestamps include the loop's latency. Here glibc's posix_spawn (clone with CLONE_VFORK: no
// page-table copy) starts the child, and a native thread blocked in wait4 stamps the exit the
// moment the kernel reports it, together with the child's rusage.
#ifndef PROCPROBE_SPAWN_H_
#define PROCPROBE_SPAWN_H_

enum pp_stdio_mode {
  PP_STDIO_INHERIT = 0,  // the child gets this process's fd
  PP_STDIO_PIPE = 1,     // a pipe; this process keeps the other end
  PP_STDIO_IGNORE = 2,   // /dev/null
};

struct pp_spawn_opts {
  const char* file;    // absolute path, run as is (no PATH search here)
  char* const* argv;   // NULL-terminated
  char* const* envp;   // NULL-terminated: exactly the child's environment
  const char* cwd;     // NULL: this process's
  int stdio[3];        // pp_stdio_mode for fds 0, 1, 2
  int new_group;       // 1: the child leads a new process group (pgid = its pid); 2: a new
                       // session too (setsid: sid = pgid = its pid), see attributes()
};

// Which step failed, for the error message (PP_SPAWN_STEP_NAMES in spawn_addon.cc).
enum pp_spawn_step {
  PP_STEP_NONE = 0,
  PP_STEP_PIPE = 1,     // pipe2
  PP_STEP_SETUP = 2,    // posix_spawn attributes or file actions
  PP_STEP_EXEC = 3,     // posix_spawn itself: the exec of `file` (ENOENT, EACCES, ENOEXEC...)
  PP_STEP_CWD = 4,      // the chdir to `cwd` in the child
  PP_STEP_UNSUPPORTED = 5,
};

struct pp_spawn_result {
  int pid;
  int fds[3];              // this process's end of each pipe, -1 where not PP_STDIO_PIPE
  double before_ms;        // CLOCK_REALTIME, ms since the epoch, just before posix_spawn
  double after_ms;         // ... just after it returned
  double before_mono_ms;   // CLOCK_MONOTONIC, the same two instants
  double after_mono_ms;
  int err;                 // errno of the failed step, 0 on success
  int step;                // pp_spawn_step
};

// 0 on success (*r filled, the child running), else the errno (r->step says where; no child is
// left behind and no fd leaks).
int pp_spawn(const struct pp_spawn_opts* o, struct pp_spawn_result* r);

struct pp_exit {
  int code;          // exit status, -1 when killed by a signal
  int signal;        // the terminating signal, 0 when it exited
  int err;           // errno of wait4 (ECHILD: not our child, or already reaped), 0 on success
  double exited_ms;  // CLOCK_REALTIME when wait4 returned
  double exited_mono_ms;
  double user_us, system_us, maxrss_kib, minflt, majflt, nvcsw, nivcsw;
};

// Block until child `pid` exits and reap it (wait4). Fills *e; returns e->err.
int pp_wait_exit(int pid, struct pp_exit* e);

// Run fn(arg) on a new detached thread with a small stack (64 KiB: it only blocks in wait4 and
// makes one call, so not 8 MiB of address space per running child). 0, or the errno.
int pp_thread_detached(void* (*fn)(void*), void* arg);

// Undo a successful pp_spawn whose exit nobody will wait for: SIGKILL the child, reap it, close
// this process's pipe ends.
void pp_spawn_undo(struct pp_spawn_result* r);

// 1 when pp_spawn works on this platform.
int pp_spawn_supported(void);

// Make this process a child subreaper (Linux prctl PR_SET_CHILD_SUBREAPER): descendants orphaned
// by their parent's exit (a daemon's double fork) are reparented here, not to init, so they stay
// in the tree under watch. 0, or the errno (ENOSYS where there is no such thing).
int pp_set_child_subreaper(void);

#endif  // PROCPROBE_SPAWN_H_
