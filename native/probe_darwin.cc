// macOS implementation of the probe. Sources and why (see README "How each field is read"); every
// call is from the SDK's <libproc.h>, the interface ps, top and Activity Monitor build on:
//
//  cpu             proc_pid_rusage(pid, RUSAGE_INFO_V2).ri_user_time / ri_system_time: every thread
//                  including exited ones, readable for zombies too. The unit is Mach absolute
//                  time (1 ns on Intel, 125/3 ns on Apple Silicon): scaled by mach_timebase_info.
//  rss             ri_resident_size (the task's phys_mem ledger).
//  vms             proc_pidinfo(PROC_PIDTASKINFO).pti_virtual_size. It includes the shared-cache
//                  reservation, so it reads tens to hundreds of GiB for any process (as in ps).
//  open fds        proc_pidinfo(PROC_PIDLISTFDS) into a buffer sized at open by the NULL-buffer
//                  size query, grown only when the fd table outgrows it; count = bytes / entry.
//  threads         pti_threadnum.
//  ctx switches    pti_csw is the task's TOTAL (voluntary and involuntary together, no split is
//                  exposed): it goes in voluntary_ctx, and involuntary_ctx is NaN.
//  page faults     major: ri_pageins (64-bit). minor: pti_faults - pti_pageins, since Darwin counts
//                  every fault in pti_faults, page-ins included.
//  start time      proc_pidinfo(PROC_PIDTBSDINFO).pbi_start_tvsec / pbi_start_tvusec (wall clock).
//  zombie          pbi_status == SZOMB.
//  memory total    sysctlbyname("hw.memsize").
//  clocks          clock_gettime(CLOCK_REALTIME) for timestamp, clock_gettime(CLOCK_MONOTONIC) for
//                  cpu_percent intervals.
//
// Darwin has no handle bound to one process that libproc could read through (like a /proc fd on
// Linux): every call names the pid. Pid reuse is therefore detected by reading the start time LAST
// in each sample: if it still equals the one captured at open, every read before it was of the same
// process, since a pid that was reused cannot go back to the process it named before.
// Errors: ESRCH = no such process (NOT_FOUND at open, EXITED later); EPERM = another user's.
#include "baseline.h"
#include "probe.h"

#include <errno.h>
#include <libproc.h>
#include <mach/kern_return.h>
#include <mach/mach_time.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/proc.h>
#include <sys/proc_info.h>
#include <sys/resource.h>
#include <sys/sysctl.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#ifndef SZOMB
#define SZOMB 5  // <sys/proc.h>: "Awaiting collection by parent"
#endif

namespace {

constexpr int kFdEntry = (int)PROC_PIDLISTFD_SIZE;  // sizeof(struct proc_fdinfo)
constexpr int kMinFdEntries = 64;  // used when the size query fails (a zombie has no fd table)
constexpr int kMaxFdEntries = INT32_MAX / kFdEntry;  // proc_pidinfo takes the size as an int

}  // namespace

struct pp_target {
  int pid;
  uint64_t start_sec;   // pbi_start_tvsec at open: the identity checked by every sample
  uint64_t start_usec;
  double start_us;      // the same, µs since the Unix epoch
  double abs_to_us;     // one Mach absolute time unit in µs
  double mem_total;
  struct proc_fdinfo* fds;  // PROC_PIDLISTFDS buffer, reused by every sample
  int fds_cap;              // in entries
  struct pp_cpu_state cpu;
};

namespace {

inline double ts_us(const struct timespec& ts) {
  return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

double read_mem_total() {
  uint64_t mem = 0;
  size_t len = sizeof mem;
  return sysctlbyname("hw.memsize", &mem, &len, nullptr, 0) == 0 && mem > 0 ? (double)mem : NAN;
}

double read_abs_to_us() {
  mach_timebase_info_data_t tb;
  // On failure assume the Intel timebase (1/1: ns), the only one where the call never fails.
  if (mach_timebase_info(&tb) != KERN_SUCCESS || tb.denom == 0) return 1e-3;
  return (double)tb.numer / (double)tb.denom / 1e3;
}

enum pp_status status_from_errno(int err, bool opening) {
  if (err == ESRCH) return opening ? PP_NOT_FOUND : PP_EXITED;
  if (err == EPERM || err == EACCES) return PP_ACCESS_DENIED;
  return PP_IO_ERROR;
}

// proc_pidinfo for a fixed-size flavor. Returns 0 or an errno. proc_pidinfo returns the bytes
// written, or 0 with errno set; a short read (no errno) is reported as EIO.
int pidinfo_exact(int pid, int flavor, uint64_t arg, void* buf, int size) {
  errno = 0;
  if (proc_pidinfo(pid, flavor, arg, buf, size) == size) return 0;
  return errno != 0 ? errno : EIO;
}

// arg 1 makes the kernel look among zombies too (otherwise a zombie answers ESRCH), so that
// pbi_status can say SZOMB.
int read_bsdinfo(int pid, struct proc_bsdinfo* bi) {
  return pidinfo_exact(pid, PROC_PIDTBSDINFO, 1, bi, (int)sizeof *bi);
}

// List the fds into the kept buffer. Returns the bytes written, or -errno. 0 bytes is a valid
// answer (a process may close every fd), told apart from a failure by errno.
int list_fds(pp_target* t) {
  errno = 0;
  int n = proc_pidinfo(t->pid, PROC_PIDLISTFDS, 0, t->fds, t->fds_cap * kFdEntry);
  if (n <= 0 && errno != 0) return -errno;
  return n;
}

// Only when the fd table outgrew the buffer: never on a sample whose listing fits.
bool grow_fds(pp_target* t, long want) {
  if (want <= t->fds_cap) want = (long)t->fds_cap * 2;
  if (want > kMaxFdEntries) want = kMaxFdEntries;
  if (want <= t->fds_cap) return false;
  void* grown = realloc(t->fds, (size_t)want * (size_t)kFdEntry);
  if (grown == nullptr) return false;
  t->fds = (struct proc_fdinfo*)grown;
  t->fds_cap = (int)want;
  return true;
}

// The pti_* counters are 32-bit: current kernels saturate them at INT32_MAX, older ones let them
// wrap negative. Either way the true count is unknown from then on, so NaN rather than a lie.
inline double counter32(int32_t v) { return v < 0 || v == INT32_MAX ? NAN : (double)v; }

}  // namespace

enum pp_status pp_open(int pid, struct pp_target** out) {
  *out = nullptr;
  if (pid < 0) return PP_NOT_FOUND;
  if (pid == 0) pid = (int)getpid();

  struct proc_bsdinfo bi;
  int err = read_bsdinfo(pid, &bi);
  if (err != 0) return status_from_errno(err, true);
  // Try the rusage read too, so that a refusal is reported once here rather than by every sample
  // (both calls check permission, but through different policy hooks).
  struct rusage_info_v2 ri;
  if (proc_pid_rusage(pid, RUSAGE_INFO_V2, (rusage_info_t*)&ri) != 0) {
    return status_from_errno(errno, true);
  }

  pp_target* t = (pp_target*)calloc(1, sizeof(pp_target));
  if (t == nullptr) return PP_NO_MEMORY;
  t->pid = pid;
  t->start_sec = bi.pbi_start_tvsec;
  t->start_usec = bi.pbi_start_tvusec;
  t->start_us = (double)bi.pbi_start_tvsec * 1e6 + (double)bi.pbi_start_tvusec;
  t->abs_to_us = read_abs_to_us();
  t->mem_total = read_mem_total();

  // NULL buffer: the kernel answers the bytes needed for the fd table's slots plus 20 spare.
  int need = proc_pidinfo(pid, PROC_PIDLISTFDS, 0, nullptr, 0);
  long entries = need > 0 ? need / kFdEntry : 0;
  if (entries < kMinFdEntries) entries = kMinFdEntries;
  if (entries > kMaxFdEntries) entries = kMaxFdEntries;
  t->fds = (struct proc_fdinfo*)malloc((size_t)entries * (size_t)kFdEntry);
  if (t->fds == nullptr) {
    free(t);
    return PP_NO_MEMORY;
  }
  t->fds_cap = (int)entries;
  *out = t;
  return PP_OK;
}

void pp_close(struct pp_target* t) {
  if (t == nullptr) return;
  free(t->fds);
  free(t);
}

// Reaped-children totals are not read on this platform yet (the tree sampler counts the
// children it saw): see pp_read_children in probe.h.
enum pp_status pp_read_children(struct pp_target* t, struct pp_children* c) {
  (void)t;
  c->cpu_user_us = c->cpu_system_us = c->minor_faults = c->major_faults = NAN;
  return PP_UNSUPPORTED;
}

enum pp_status pp_read(struct pp_target* t, struct pp_sample* s) {
  struct timespec rt, mono;
  clock_gettime(CLOCK_REALTIME, &rt);
  clock_gettime(CLOCK_MONOTONIC, &mono);
  s->pid = (double)t->pid;
  s->timestamp = ts_us(rt) / 1e3;
  s->start_time = t->start_us / 1e3;

  struct rusage_info_v2 ri;
  if (proc_pid_rusage(t->pid, RUSAGE_INFO_V2, (rusage_info_t*)&ri) != 0) {
    return status_from_errno(errno, false);
  }
  struct proc_taskinfo ti;
  // Fails with ESRCH for a zombie (it has no task any more): decided after the bsdinfo read.
  int ti_err = pidinfo_exact(t->pid, PROC_PIDTASKINFO, 0, &ti, (int)sizeof ti);
  int fd_bytes = ti_err == 0 ? list_fds(t) : -ti_err;

  // The identity check comes last (see the header). It is repeated only when the fd listing had
  // to be redone in a grown buffer, so that the redone listing is covered by a check too.
  struct proc_bsdinfo bi;
  for (int attempt = 0;; attempt++) {
    int err = read_bsdinfo(t->pid, &bi);
    if (err != 0) return status_from_errno(err, false);
    if (bi.pbi_start_tvsec != t->start_sec || bi.pbi_start_tvusec != t->start_usec) {
      return PP_EXITED;  // the pid now names another process
    }
    if (bi.pbi_status == SZOMB || ti_err != 0 || fd_bytes < 0) break;
    // The listing is complete when it left room in the buffer and the fd table (pbi_nfiles
    // slots) fits the buffer: older kernels scan only as many slots as the buffer has entries.
    if (fd_bytes < t->fds_cap * kFdEntry && (long)bi.pbi_nfiles <= (long)t->fds_cap) break;
    if (attempt == 2 || !grow_fds(t, (long)bi.pbi_nfiles + 20)) {
      fd_bytes = -ENOMEM;
      break;
    }
    fd_bytes = list_fds(t);
  }

  s->cpu_user_us = (double)ri.ri_user_time * t->abs_to_us;
  s->cpu_system_us = (double)ri.ri_system_time * t->abs_to_us;
  s->cpu_percent = pp_cpu_percent(&t->cpu, s->cpu_user_us + s->cpu_system_us, ts_us(mono),
                                  ts_us(rt) - t->start_us);
  s->major_faults = (double)ri.ri_pageins;

  if (bi.pbi_status == SZOMB) {
    // A zombie has released its memory, files and threads; its task counters are gone with them.
    s->rss_bytes = s->vms_bytes = s->memory_percent = s->open_fds = s->threads = NAN;
    s->voluntary_ctx = s->involuntary_ctx = s->minor_faults = NAN;
    return PP_ZOMBIE;
  }
  // Alive by bsdinfo yet no task: it is exiting right now (ESRCH), or the task read was refused.
  if (ti_err != 0) return status_from_errno(ti_err, false);

  s->rss_bytes = (double)ri.ri_resident_size;
  s->vms_bytes = (double)ti.pti_virtual_size;
  s->memory_percent = t->mem_total > 0 ? s->rss_bytes / t->mem_total * 100.0 : NAN;
  s->open_fds = fd_bytes >= 0 ? (double)(fd_bytes / kFdEntry) : NAN;
  s->threads = (double)ti.pti_threadnum;
  s->voluntary_ctx = counter32(ti.pti_csw);  // total switches, see the header
  s->involuntary_ctx = NAN;                  // not exposed separately by Darwin
  // pti_faults includes page-ins; both come from the same task counters in the same read.
  double minor = counter32(ti.pti_faults) - counter32(ti.pti_pageins);
  s->minor_faults = minor < 0 ? 0 : minor;  // NaN stays NaN (comparisons with NaN are false)
  return PP_OK;
}

void pp_get_features(struct pp_features* f) {
  f->fd_count_o1 = 0;  // PROC_PIDLISTFDS walks the fd table: O(open fds)
  f->cpu_clock = 1;    // proc_pid_rusage: Mach-time CPU totals for any pid of the same user
  long page = sysconf(_SC_PAGESIZE);  // 16 KiB on Apple Silicon, 4 KiB on Intel
  f->page_size = page > 0 ? (double)page : NAN;
  f->clock_ticks = NAN;  // USER_HZ is a Linux notion: no field here is read in scheduler ticks
  f->mem_total_bytes = read_mem_total();
}

// The baseline a hand-written C sampler would pay: the same five calls as pp_read, keeping a few
// numbers, no row, no NaN handling, no N-API.
double pp_baseline_loop(struct pp_target* t, uint32_t iterations) {
  struct timespec a, b;
  volatile double sink = 0;
  clock_gettime(CLOCK_MONOTONIC, &a);
  for (uint32_t i = 0; i < iterations; i++) {
    struct timespec rt, mono;
    clock_gettime(CLOCK_REALTIME, &rt);
    clock_gettime(CLOCK_MONOTONIC, &mono);
    struct rusage_info_v2 ri;
    if (proc_pid_rusage(t->pid, RUSAGE_INFO_V2, (rusage_info_t*)&ri) != 0) {
      return -(double)status_from_errno(errno, false);
    }
    struct proc_taskinfo ti;
    int err = pidinfo_exact(t->pid, PROC_PIDTASKINFO, 0, &ti, (int)sizeof ti);
    if (err != 0) return -(double)status_from_errno(err, false);
    int fd_bytes = list_fds(t);
    struct proc_bsdinfo bi;
    err = read_bsdinfo(t->pid, &bi);
    if (err != 0) return -(double)status_from_errno(err, false);
    sink += (double)ri.ri_user_time + (double)ti.pti_threadnum + (double)fd_bytes +
            (double)bi.pbi_start_tvusec + (double)rt.tv_nsec + (double)mono.tv_nsec;
  }
  clock_gettime(CLOCK_MONOTONIC, &b);
  (void)sink;
  return (ts_us(b) - ts_us(a)) * 1e3;
}

// The counts are read with the rest on this platform: nothing costs enough to be carried.
void pp_set_counts_interval(struct pp_target* t, double ms) {
  (void)t;
  (void)ms;
}
