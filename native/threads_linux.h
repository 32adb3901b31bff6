// Context switches of another process, summed over its threads (Linux). /proc/PID/status counts
// the leader thread only; the per-thread files count each thread. One kept-open
// /proc/PID/task/TID/status per live thread; a thread that goes leaves its last counts in the
// exited totals, so the sums never go down. Knows nothing of N-API.
#ifndef PROCPROBE_THREADS_LINUX_H_
#define PROCPROBE_THREADS_LINUX_H_

#include <errno.h>
#include <stddef.h>
#include <sys/types.h>
#include <unistd.h>

struct pp_thread_fd {
  int fd;
  int tid;
  double vol;  // last counts read
  double invol;
};

struct pp_thread_table {
  struct pp_thread_fd* list;
  int n;
  int cap;
  int* scan;  // tids listed by the last rescan
  int cap_scan;
  double exited_vol;  // last counts of threads gone since the probe opened
  double exited_invol;
};

// pread a whole /proc file into buf (NUL-terminated). Returns its length or -errno.
static inline ssize_t pp_read_text(int fd, char* buf, size_t cap) {
  ssize_t n = pread(fd, buf, cap - 1, 0);
  if (n < 0) return -errno;
  buf[n] = '\0';
  return n;
}

// Sum the voluntary and involuntary switches of the process whose task dir is `task_dir`,
// expecting `nthreads` live threads (a mismatch or a failed read rescans the dir, which may
// allocate; a steady thread set reads with pread only). `buf` and `dirbuf` are scratch.
bool pp_threads_read(struct pp_thread_table* tt, int task_dir, double nthreads, char* buf, size_t buf_cap,
                     char* dirbuf, size_t dir_cap, double* vol, double* invol);

void pp_threads_free(struct pp_thread_table* tt);

#endif  // PROCPROBE_THREADS_LINUX_H_
