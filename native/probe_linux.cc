// Linux implementation of the probe. Sources and why (see README "How each field is read"):
//
//  cpu (self)      getrusage(RUSAGE_SELF): µs, every thread including exited ones.
//  cpu (other)     clock_gettime(clock_getcpuclockid(pid)) for the total; /proc/PID/stat
//                  utime/stime only for the user/system split (they move in 10 ms ticks). The total
//                  is exact for threads that sleep or switch; a thread running without a break on
//                  another CPU is accounted at scheduler ticks (1/HZ: 4 ms at HZ=250), because
//                  the kernel refreshes only the caller's own threads on read and refuses thread
//                  clocks of other processes.
//  rss, vms        /proc/PID/statm x page size. Not /proc/PID/stat field 24: since Linux 6.2 it
//                  reads the per-CPU RSS counter without summing it and lags by hundreds of KiB.
//  open fds        fstat(/proc/PID/fd).st_size: O(1) on Linux >= 6.2; else count dir entries.
//  threads         fstat(/proc/PID/task).st_nlink - 2.
//  ctx switches    self: getrusage (all threads, exited ones too); other: the sum of
//                  /proc/PID/task/TID/status over live threads (/proc/PID/status is the leader only).
//  page faults     getrusage (self) or /proc/PID/stat fields 10 and 12.
//  start time      /proc/PID/stat field 22 (ticks since boot) + boot time.
//
// Every file is opened once in pp_open and re-read with pread/fstat. A /proc file descriptor is
// bound to the process it was opened for, not to the number: once that process is gone, reads fail
// with ESRCH even if the pid has been reused, which is how EXITED is detected without races.
// The single-file readers (the stat parser, the fd and thread counts) are in proc_linux.cc.
#include "baseline.h"
#include "proc_linux.h"
#include "probe.h"
#include "threads_linux.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>
#include <time.h>
#include <unistd.h>

namespace {

constexpr size_t kStatBuf = 1024;   // /proc/PID/stat is < 400 bytes even with a 64-byte comm
constexpr size_t kStatusBuf = 4096; // /proc/PID/task/TID/status is about 1.5 KiB
constexpr size_t kDirBuf = 8192;    // getdents64 batch when fds must be counted by listing

double g_page_size = 0;
double g_clk_tck = 0;
double g_mem_total = 0;

void init_globals() {
  // Idempotent and race-free in effect: every thread computes the same values.
  if (g_page_size != 0) return;
  g_clk_tck = (double)sysconf(_SC_CLK_TCK);
  struct sysinfo si;
  if (sysinfo(&si) == 0) g_mem_total = (double)si.totalram * (double)si.mem_unit;
  g_page_size = (double)sysconf(_SC_PAGESIZE);
}

inline double ts_us(const struct timespec& ts) {
  return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

inline double tv_us(const struct timeval& tv) {
  return (double)tv.tv_sec * 1e6 + (double)tv.tv_usec;
}

}  // namespace

struct pp_target {
  int pid;
  int self;
  int stat_fd;
  int statm_fd;
  int fd_dir;
  int task_dir;
  clockid_t cpu_clock;
  int fd_count_o1;
  unsigned long long start_ticks;
  double start_time_ms;
  double start_boot_us;
  // Other pids: one open status file per live thread (threads_linux.h).
  struct pp_thread_table threads;
  // Previous user/system split of another pid's CPU clock total (kept monotonic).
  double prev_user_us;
  double prev_system_us;
  struct pp_cpu_state cpu;
  // The costly counts (pp_set_counts_interval): read when the monotonic clock reaches counts_due_us,
  // carried in counts[] in between. counts[]: open fds, threads, voluntary, involuntary switches.
  double counts_interval_us;
  double counts_due_us;
  double counts[4];
  // Another pid's reaped-children totals from its last stat read (pp_read_children).
  struct pp_children children;
  char buf[kStatusBuf];
  char dirbuf[kDirBuf];
};

void pp_set_counts_interval(struct pp_target* t, double ms) {
  t->counts_interval_us = ms > 0 ? ms * 1e3 : 0;
  t->counts_due_us = 0;  // the next read is a full one
}

// Whether this read takes fresh counts (and moves the next due time), else it carries the last.
// The due time moves from now, not on a grid: a read that came late must not make the next one
// early, and one read per interval is all the saving is about.
static bool counts_due(pp_target* t, double mono_us) {
  if (t->counts_interval_us <= 0) return true;
  if (mono_us < t->counts_due_us) return false;
  t->counts_due_us = mono_us + t->counts_interval_us;
  return true;
}

enum pp_status pp_open(int pid, struct pp_target** out) {
  init_globals();
  *out = nullptr;
  if (pid < 0) return PP_NOT_FOUND;
  int self = pid == 0 || pid == (int)getpid();
  int proc_pid = self ? 0 : pid;

  int stat_fd = pp_open_proc(proc_pid, "stat", 0);
  if (stat_fd < 0) return pp_status_from_errno(errno);

  pp_target* t = (pp_target*)calloc(1, sizeof(pp_target));
  if (t == nullptr) {
    close(stat_fd);
    return PP_NO_MEMORY;
  }
  t->pid = self ? (int)getpid() : pid;
  t->self = self;
  t->stat_fd = stat_fd;
  t->statm_fd = pp_open_proc(proc_pid, "statm", 0);
  // May fail with EACCES for another user's process: open fds are then NaN, the rest is read.
  t->fd_dir = pp_open_proc(proc_pid, "fd", O_DIRECTORY);
  t->task_dir = pp_open_proc(proc_pid, "task", O_DIRECTORY);

  pp_stat_fields sf;
  ssize_t n = pp_read_text(stat_fd, t->buf, kStatBuf);
  if (n < 0 || !pp_parse_stat(t->buf, &sf)) {
    enum pp_status st = n < 0 ? pp_status_from_errno((int)-n) : PP_IO_ERROR;
    pp_close(t);
    return st == PP_EXITED ? PP_NOT_FOUND : st;
  }
  t->start_ticks = sf.starttime;
  t->children.cpu_user_us = sf.cutime * (1e6 / g_clk_tck);
  t->children.cpu_system_us = sf.cstime * (1e6 / g_clk_tck);
  t->children.minor_faults = sf.cminflt;
  t->children.major_faults = sf.cmajflt;
  struct timespec rt, bt;
  clock_gettime(CLOCK_REALTIME, &rt);
  clock_gettime(CLOCK_BOOTTIME, &bt);
  t->start_boot_us = (double)sf.starttime / g_clk_tck * 1e6;
  // Boot time from the two clocks read together: sub-ms, where /proc/stat btime is whole seconds.
  t->start_time_ms = (ts_us(rt) - ts_us(bt) + t->start_boot_us) / 1e3;

  if (!self && clock_getcpuclockid(pid, &t->cpu_clock) != 0) {
    t->cpu_clock = (clockid_t)-1;  // fall back to stat ticks
  }

  if (t->fd_dir >= 0) t->fd_count_o1 = pp_fd_count_o1(self ? t->fd_dir : -1);
  *out = t;
  return PP_OK;
}

void pp_close(struct pp_target* t) {
  if (t == nullptr) return;
  pp_threads_free(&t->threads);
  if (t->stat_fd >= 0) close(t->stat_fd);
  if (t->statm_fd >= 0) close(t->statm_fd);
  if (t->fd_dir >= 0) close(t->fd_dir);
  if (t->task_dir >= 0) close(t->task_dir);
  free(t);
}

// statm: "size resident shared text lib data dt", in pages.
static enum pp_status read_statm(pp_target* t, struct pp_sample* s) {
  ssize_t n = pp_read_text(t->statm_fd, t->buf, kStatBuf);
  if (n < 0) return n == -ESRCH ? PP_EXITED : pp_status_from_errno((int)-n);
  char* end;
  s->vms_bytes = (double)strtoull(t->buf, &end, 10) * g_page_size;
  s->rss_bytes = (double)strtoull(end, &end, 10) * g_page_size;
  return PP_OK;
}

static enum pp_status read_self(pp_target* t, struct pp_sample* s, double mono_us) {
  struct rusage ru;
  if (getrusage(RUSAGE_SELF, &ru) != 0) return PP_IO_ERROR;
  enum pp_status st = read_statm(t, s);
  if (st != PP_OK) return st;

  s->cpu_user_us = tv_us(ru.ru_utime);
  s->cpu_system_us = tv_us(ru.ru_stime);
  if (counts_due(t, mono_us)) {
    t->counts[0] = pp_count_fds(t->fd_dir, t->fd_count_o1, t->dirbuf, sizeof t->dirbuf);
    t->counts[1] = pp_count_threads(t->task_dir, NAN);
  }
  s->open_fds = t->counts[0];
  s->threads = t->counts[1];
  // Switches of this process come from getrusage with the CPU times: cheap, so read every time.
  s->voluntary_ctx = (double)ru.ru_nvcsw;
  s->involuntary_ctx = (double)ru.ru_nivcsw;
  s->minor_faults = (double)ru.ru_minflt;
  s->major_faults = (double)ru.ru_majflt;
  struct timespec bt;
  clock_gettime(CLOCK_BOOTTIME, &bt);
  s->cpu_percent = pp_cpu_percent(&t->cpu, s->cpu_user_us + s->cpu_system_us, mono_us,
                                  ts_us(bt) - t->start_boot_us);
  return PP_OK;
}

// include/linux/sched.h: "getting shut down"; set by do_exit before exit_mm and exit_files.
static const unsigned long kPfExiting = 0x00000004;

// Another pid's costly counts into t->counts: open fds, threads, and the context switches summed
// over its threads (one status file each, ~9 µs a thread: the reason these have their own rate).
static void read_other_counts(pp_target* t, struct pp_sample* s, double num_threads) {
  t->counts[0] = pp_count_fds(t->fd_dir, t->fd_count_o1, t->dirbuf, sizeof t->dirbuf);
  t->counts[1] = pp_count_threads(t->task_dir, num_threads);
  if (t->task_dir < 0 || !pp_threads_read(&t->threads, t->task_dir, t->counts[1], t->buf, sizeof t->buf, t->dirbuf,
                                          sizeof t->dirbuf, &t->counts[2], &t->counts[3])) {
    t->counts[2] = t->counts[3] = NAN;
  }
  s->open_fds = t->counts[0];
  s->threads = t->counts[1];
  s->voluntary_ctx = t->counts[2];
  s->involuntary_ctx = t->counts[3];
}

static enum pp_status read_other(pp_target* t, struct pp_sample* s, double mono_us) {
  // CPU clock first, then stat: if stat still reads after the clock did, the process the clock
  // measured was the one this probe opened (a reused pid would have failed the stat read).
  struct timespec cpu_ts;
  bool have_clock = t->cpu_clock != (clockid_t)-1 && clock_gettime(t->cpu_clock, &cpu_ts) == 0;
  ssize_t n = pp_read_text(t->stat_fd, t->buf, kStatBuf);
  if (n < 0) return n == -ESRCH ? PP_EXITED : pp_status_from_errno((int)-n);
  pp_stat_fields sf;
  if (!pp_parse_stat(t->buf, &sf)) return PP_IO_ERROR;
  if (sf.starttime != t->start_ticks) return PP_EXITED;

  double tick_us = 1e6 / g_clk_tck;
  double ticks = sf.utime + sf.stime;
  if (have_clock) {
    double total = ts_us(cpu_ts);
    // The total from the CPU clock, split in the proportion of the tick counters. That proportion
    // jumps as ticks land, so each part is clamped to stay monotonic: user between its previous
    // value and what the previous system time leaves of the total (the total itself only grows).
    double user_share = ticks > 0 ? sf.utime / ticks : 1.0;
    double user = total * user_share;
    if (user < t->prev_user_us) user = t->prev_user_us;
    if (user > total - t->prev_system_us) user = total - t->prev_system_us;
    s->cpu_user_us = user;
    s->cpu_system_us = total - user;
    t->prev_user_us = s->cpu_user_us;
    t->prev_system_us = s->cpu_system_us;
  } else {
    s->cpu_user_us = sf.utime * tick_us;
    s->cpu_system_us = sf.stime * tick_us;
  }
  s->minor_faults = sf.minflt;
  s->major_faults = sf.majflt;
  t->children.cpu_user_us = sf.cutime * tick_us;
  t->children.cpu_system_us = sf.cstime * tick_us;
  t->children.minor_faults = sf.cminflt;
  t->children.major_faults = sf.cmajflt;
  struct timespec bt;
  clock_gettime(CLOCK_BOOTTIME, &bt);
  s->cpu_percent = pp_cpu_percent(&t->cpu, s->cpu_user_us + s->cpu_system_us, mono_us,
                                  ts_us(bt) - t->start_boot_us);
  // State Z with other threads alive is a leader thread that exited while the process runs on
  // (pthread_exit in main): not a zombie. A real zombie has no thread left but the leader.
  if ((sf.state == 'Z' || sf.state == 'X') && sf.num_threads <= 1) {
    // A zombie has released its memory, files and threads: those fields are not meaningful.
    s->rss_bytes = s->vms_bytes = s->open_fds = s->threads = NAN;
    s->voluntary_ctx = s->involuntary_ctx = NAN;
    return PP_ZOMBIE;
  }
  // PF_EXITING: the process is in do_exit, its memory being unmapped and its files closed. Its
  // levels are falling and say nothing of what it was, so they read as the end of teardown does,
  // RSS 0 and nothing open: the one mark of a process being torn down that every reader of
  // records already knows (session/resources.ts isLiveReading). Cumulative counters stay valid.
  // (A leader that left by pthread_exit is state Z while its process runs on: not this.)
  if ((sf.flags & kPfExiting) != 0 && sf.state != 'Z') {
    s->rss_bytes = s->vms_bytes = s->open_fds = s->threads = 0;
    if (t->task_dir < 0 || !pp_threads_read(&t->threads, t->task_dir, 0, t->buf, sizeof t->buf, t->dirbuf,
                                            sizeof t->dirbuf, &s->voluntary_ctx, &s->involuntary_ctx)) {
      s->voluntary_ctx = s->involuntary_ctx = NAN;
    }
    t->counts_due_us = 0;  // nothing carried across the teardown: a later read, if any, is full
  } else {
    enum pp_status st = read_statm(t, s);
    if (st != PP_OK) return st;
    if (counts_due(t, mono_us)) read_other_counts(t, s, sf.num_threads);
    s->open_fds = t->counts[0];
    s->threads = t->counts[1];
    s->voluntary_ctx = t->counts[2];
    s->involuntary_ctx = t->counts[3];
  }
  return PP_OK;
}

enum pp_status pp_read(struct pp_target* t, struct pp_sample* s) {
  struct timespec rt, mono;
  clock_gettime(CLOCK_REALTIME, &rt);
  clock_gettime(CLOCK_MONOTONIC, &mono);
  s->pid = (double)t->pid;
  s->timestamp = ts_us(rt) / 1e3;
  s->start_time = t->start_time_ms;
  enum pp_status st = t->self ? read_self(t, s, ts_us(mono)) : read_other(t, s, ts_us(mono));
  s->memory_percent = g_mem_total > 0 ? s->rss_bytes / g_mem_total * 100.0 : NAN;
  return st;
}

enum pp_status pp_read_children(struct pp_target* t, struct pp_children* c) {
  if (!t->self) {
    *c = t->children;
    return PP_OK;
  }
  struct rusage ru;
  if (getrusage(RUSAGE_CHILDREN, &ru) != 0) return PP_IO_ERROR;
  c->cpu_user_us = tv_us(ru.ru_utime);
  c->cpu_system_us = tv_us(ru.ru_stime);
  c->minor_faults = (double)ru.ru_minflt;
  c->major_faults = (double)ru.ru_majflt;
  return PP_OK;
}

void pp_get_features(struct pp_features* f) {
  init_globals();
  struct pp_target* t = nullptr;
  f->fd_count_o1 = 0;
  if (pp_open(0, &t) == PP_OK) {
    f->fd_count_o1 = t->fd_count_o1;
    pp_close(t);
  }
  clockid_t cid;
  f->cpu_clock = clock_getcpuclockid(1, &cid) == 0 || clock_getcpuclockid(getpid(), &cid) == 0;
  f->page_size = g_page_size;
  f->clock_ticks = g_clk_tck;
  f->mem_total_bytes = g_mem_total;
}

// The baseline a hand-written C sampler would pay: the same system calls on the same open files,
// reading the numbers it needs with strtoull, no row, no NaN handling, no N-API.
double pp_baseline_loop(struct pp_target* t, uint32_t iterations) {
  struct timespec a, b;
  volatile double sink = 0;
  clock_gettime(CLOCK_MONOTONIC, &a);
  for (uint32_t i = 0; i < iterations; i++) {
    struct timespec rt, mono, bt;
    clock_gettime(CLOCK_REALTIME, &rt);
    clock_gettime(CLOCK_MONOTONIC, &mono);
    clock_gettime(CLOCK_BOOTTIME, &bt);
    struct stat st1 = {}, st2 = {};
    if (t->self) {
      struct rusage ru;
      getrusage(RUSAGE_SELF, &ru);
      if (pread(t->statm_fd, t->buf, kStatBuf - 1, 0) < 0) return -PP_IO_ERROR;
      sink += (double)strtoull(t->buf, nullptr, 10) + (double)ru.ru_nvcsw;
    } else {
      struct timespec cpu;
      clock_gettime(t->cpu_clock, &cpu);
      ssize_t n = pread(t->stat_fd, t->buf, kStatBuf - 1, 0);
      if (n < 0) return -PP_EXITED;
      t->buf[n] = '\0';
      sink += (double)strtoull(strrchr(t->buf, ')') + 4, nullptr, 10);
      if (pread(t->statm_fd, t->buf, kStatBuf - 1, 0) < 0) return -PP_EXITED;
      sink += (double)strtoull(t->buf, nullptr, 10);
      for (int k = 0; k < t->threads.n; k++) {
        n = pread(t->threads.list[k].fd, t->buf, kStatusBuf - 1, 0);
        if (n > 0) sink += (double)n;
      }
    }
    if (t->fd_dir >= 0) fstat(t->fd_dir, &st1);
    if (t->task_dir >= 0) fstat(t->task_dir, &st2);
    sink += (double)st1.st_size + (double)st2.st_nlink;
  }
  clock_gettime(CLOCK_MONOTONIC, &b);
  (void)sink;
  return (ts_us(b) - ts_us(a)) * 1e3;
}
