// The floor for bench/observer.bench.mjs: a plain C sampler doing, per tick, the reads
// native/probe_linux.cc does today for another pid, and nothing else (no ring, no N-API, no JS):
//
//   clock_gettime(clock_getcpuclockid(pid))   the CPU total
//   pread /proc/PID/stat, /proc/PID/statm     split, faults, state; RSS and VMS
//   fstat /proc/PID/fd (st_size, Linux >= 6.2) or getdents64 over it: the fd count
//   fstat /proc/PID/task (st_nlink - 2)       the thread count
//   pread /proc/PID/task/TID/status, each     voluntary/nonvoluntary context switches
//
// With `tree`, every descendant of the command is read the same way, and descendants are found
// every 50 ms through /proc/PID/task/TID/children (procprobe rescans at that default rate too).
//
//   observer-watcher HZ tree|single -- command [args...]
//
// Starts the command, samples it at HZ on absolute deadlines (a deadline passed by a whole
// interval is skipped and counted, as the sampler does) until the command exits, then prints one
// line to stderr: `observer-watcher {"cpuUs":..,"wallUs":..,"ticks":..,"missed":..}` with its
// own CPU (getrusage RUSAGE_SELF: this process only, never the command's), and exits with the
// command's status. Compiled by the bench: cc -O2 -o <tmp>/observer-watcher observer-watcher.c
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_MEMBERS 64
#define MAX_THREADS 64
#define RESCAN_NS 50000000LL

struct member {
  int pid, stat_fd, statm_fd, fd_dir, task_dir, nthreads;
  int thread_fd[MAX_THREADS];
  clockid_t clock;
};

static struct member members[MAX_MEMBERS];
static int nmembers;
static int fd_o1;
static char buf[4096], dirbuf[8192];
static volatile double sink;  // keeps the parsed numbers alive under -O2

static long long now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int open_proc(int pid, const char* leaf, int flags) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/%s", pid, leaf);
  return open(path, flags | O_RDONLY | O_CLOEXEC);
}

static ssize_t read_text(int fd) {
  ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
  if (n >= 0) buf[n] = '\0';
  return n;
}

// Count the entries of an open /proc directory; with `out`, keep the numeric names.
static int list_dir(int dir, int* out, int cap) {
  int count = 0;
  if (lseek(dir, 0, SEEK_SET) < 0) return -1;
  for (;;) {
    long n = syscall(SYS_getdents64, dir, dirbuf, sizeof dirbuf);
    if (n <= 0) return n < 0 ? -1 : count;
    for (long off = 0; off < n;) {
      unsigned short reclen;
      memcpy(&reclen, dirbuf + off + 16, sizeof reclen);
      const char* name = dirbuf + off + 19;
      off += reclen;
      if (name[0] == '.') continue;
      if (out != NULL && count < cap) out[count] = atoi(name);
      count++;
    }
  }
}

// The thread table changed (or is new): reopen every thread's status, as pp_threads_read's
// rescan does when the count moves.
static void open_threads(struct member* m) {
  int tids[MAX_THREADS];
  for (int i = 0; i < m->nthreads; i++) close(m->thread_fd[i]);
  int n = list_dir(m->task_dir, tids, MAX_THREADS);
  m->nthreads = 0;
  for (int i = 0; i < n && i < MAX_THREADS; i++) {
    char leaf[32];
    snprintf(leaf, sizeof leaf, "%d/status", tids[i]);
    int fd = openat(m->task_dir, leaf, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) m->thread_fd[m->nthreads++] = fd;
  }
}

static void adopt(int pid) {
  for (int i = 0; i < nmembers; i++) if (members[i].pid == pid) return;
  if (nmembers == MAX_MEMBERS) return;
  struct member* m = &members[nmembers];
  memset(m, 0, sizeof *m);
  m->pid = pid;
  m->stat_fd = open_proc(pid, "stat", 0);
  if (m->stat_fd < 0) return;
  m->statm_fd = open_proc(pid, "statm", 0);
  m->fd_dir = open_proc(pid, "fd", O_DIRECTORY);
  m->task_dir = open_proc(pid, "task", O_DIRECTORY);
  if (clock_getcpuclockid(pid, &m->clock) != 0) m->clock = (clockid_t)-1;
  open_threads(m);
  nmembers++;
}

static void drop(int i) {
  struct member* m = &members[i];
  for (int k = 0; k < m->nthreads; k++) close(m->thread_fd[k]);
  close(m->stat_fd);
  close(m->statm_fd);
  close(m->fd_dir);
  close(m->task_dir);
  members[i] = members[--nmembers];
}

// One member's reads; 0 when it is gone (its kept-open stat fails with ESRCH).
static int read_member(struct member* m) {
  struct timespec cpu;
  if (m->clock != (clockid_t)-1 && clock_gettime(m->clock, &cpu) == 0) sink += (double)cpu.tv_nsec;
  if (read_text(m->stat_fd) < 0) return 0;
  const char* p = strrchr(buf, ')');
  if (p == NULL) return 0;
  if (p[2] == 'Z' || p[2] == 'X') return 0;
  sink += (double)strtoull(p + 4, NULL, 10);
  if (read_text(m->statm_fd) >= 0) sink += (double)strtoull(buf, NULL, 10);
  struct stat st;
  if (fd_o1 && fstat(m->fd_dir, &st) == 0) sink += (double)st.st_size;
  else sink += (double)list_dir(m->fd_dir, NULL, 0);
  int threads = fstat(m->task_dir, &st) == 0 ? (int)st.st_nlink - 2 : m->nthreads;
  if (threads != m->nthreads) open_threads(m);
  for (int k = 0; k < m->nthreads; k++) {
    if (read_text(m->thread_fd[k]) <= 0) continue;
    const char* v = strstr(buf, "\nvoluntary_ctxt_switches:");
    const char* iv = strstr(buf, "\nnonvoluntary_ctxt_switches:");
    if (v != NULL && iv != NULL) sink += (double)strtoull(v + 25, NULL, 10) + (double)strtoull(iv + 28, NULL, 10);
  }
  return 1;
}

// Adopt the children of every member's threads (the tree's new descendants).
static void rescan(void) {
  for (int i = 0; i < nmembers; i++) {
    int tids[MAX_THREADS];
    int n = list_dir(members[i].task_dir, tids, MAX_THREADS);
    for (int k = 0; k < n && k < MAX_THREADS; k++) {
      char leaf[48];
      snprintf(leaf, sizeof leaf, "task/%d/children", tids[k]);
      int fd = open_proc(members[i].pid, leaf, 0);
      if (fd < 0) continue;
      ssize_t len = read_text(fd);
      close(fd);
      for (char* q = buf; len > 0 && *q;) {
        char* end;
        long pid = strtol(q, &end, 10);
        if (end == q) break;
        adopt((int)pid);
        q = end;
      }
    }
  }
}

static void own_fd_o1(void) {
  struct stat st;
  int own = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  fd_o1 = own >= 0 && fstat(own, &st) == 0 && st.st_size > 0;
  if (own >= 0) close(own);
}

int main(int argc, char** argv) {
  if (argc < 5 || strcmp(argv[3], "--") != 0) {
    fprintf(stderr, "usage: observer-watcher HZ tree|single -- command [args...]\n");
    return 2;
  }
  double hz = atof(argv[1]);
  int tree = strcmp(argv[2], "tree") == 0;
  long long interval = (long long)(1e9 / hz);
  // The sampler sleeps with 1 ns timer slack too: without it a 100 µs sleep lands 50 µs late.
  prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
  own_fd_o1();
  pid_t child = fork();
  if (child == 0) {
    execvp(argv[4], argv + 4);
    _exit(127);
  }
  adopt(child);
  long long t0 = now_ns(), next = t0, next_rescan = t0;
  long ticks = 0, missed = 0;
  int status = 0;
  while (waitpid(child, &status, WNOHANG) == 0) {
    if (tree && next >= next_rescan) {
      rescan();
      next_rescan = next + RESCAN_NS;
    }
    for (int i = nmembers - 1; i >= 0; i--) if (!read_member(&members[i])) drop(i);
    ticks++;
    next += interval;
    long long now = now_ns();
    if (now >= next + interval) {  // a whole interval late: skip, count, never burst
      long long behind = (now - next) / interval;
      missed += behind;
      next += behind * interval;
    }
    struct timespec ts = {next / 1000000000LL, next % 1000000000LL};
    clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
  }
  long long wall = now_ns() - t0;
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  double cpu_us = ru.ru_utime.tv_sec * 1e6 + ru.ru_utime.tv_usec + ru.ru_stime.tv_sec * 1e6 + ru.ru_stime.tv_usec;
  fprintf(stderr, "observer-watcher {\"cpuUs\":%.0f,\"wallUs\":%.0f,\"ticks\":%ld,\"missed\":%ld}\n", cpu_us,
          wall / 1e3, ticks, missed);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
