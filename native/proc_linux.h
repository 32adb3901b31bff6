// Readers of single /proc files for the Linux probe (proc_linux.cc): opening them, the
// /proc/PID/stat parser, and the fd and thread counts. Plain functions on file descriptors and
// caller-owned buffers: no allocation, no pp_target, no N-API.
#ifndef PROCPROBE_PROC_LINUX_H_
#define PROCPROBE_PROC_LINUX_H_

#include <stddef.h>

#include "probe.h"

// open("/proc/<pid>/<leaf>") read-only and close-on-exec; pid 0 is /proc/self. -1 with errno set.
int pp_open_proc(int pid, const char* leaf, int flags);

// The fields of /proc/PID/stat the probe uses (counts as read: ticks for utime/stime/starttime).
struct pp_stat_fields {
  char state;
  unsigned long flags;  // field 9: the leader thread's PF_* flags
  double minflt, majflt, utime, stime, num_threads;
  // Fields 11, 13, 16, 17: what the children it waited for used (they and their waited-for
  // descendants), added by the kernel at each reap. cutime/cstime in ticks.
  double cminflt, cmajflt, cutime, cstime;
  unsigned long long starttime;
};

// Parse a NUL-terminated /proc/PID/stat line; false if it is not one.
bool pp_parse_stat(const char* buf, struct pp_stat_fields* out);

// The probe status for a failed open or read of a /proc file.
enum pp_status pp_status_from_errno(int err);

// Whether fstat(/proc/PID/fd).st_size counts open fds (Linux >= 6.2). own_fd_dir: this
// process's own /proc/self/fd, or -1 to open (and close) it here.
int pp_fd_count_o1(int own_fd_dir);

// Open fds of the process whose /proc/PID/fd is fd_dir (-1: unknown), NaN when unreadable. o1:
// from pp_fd_count_o1; else the directory is listed with getdents64 into buf.
double pp_count_fds(int fd_dir, int o1, char* buf, size_t cap);

// Threads of the process whose /proc/PID/task is task_dir, from its link count; `fallback` when
// that is not readable.
double pp_count_threads(int task_dir, double fallback);

#endif  // PROCPROBE_PROC_LINUX_H_
