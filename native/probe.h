// procprobe native probe: the neutral interface shared by the per-OS files and the N-API glue.
//
// The per-OS files (probe_linux.cc, probe_darwin.cc, probe_win.cc) know nothing of N-API: they
// fill a plain struct and return a status. The glue (addon.cc) owns JavaScript and lifetimes.
// No C++ exceptions anywhere (the addon is built with -fno-exceptions). The sampler's clock and
// sleep are declared in timing.h, the benchmark baselines in baseline.h.
#ifndef PROCPROBE_PROBE_H_
#define PROCPROBE_PROBE_H_

#include <stddef.h>
#include <stdint.h>

// Bump when the row layout or the status codes change; src/probe/layout.ts checks it at load.
#define PP_ABI_VERSION 3

enum pp_status {
  PP_OK = 0,
  PP_NOT_FOUND = 1,      // no process with that pid
  PP_ACCESS_DENIED = 2,  // the process exists but may not be read
  PP_EXITED = 3,         // exited (or its pid was reused) since the probe was opened
  PP_ZOMBIE = 4,         // exited, not yet reaped by its parent: only CPU times and start time are filled
  PP_IO_ERROR = 5,       // an unexpected read or parse failure
  PP_UNSUPPORTED = 6,    // this platform has no implementation
  PP_NO_MEMORY = 7,      // allocation failed while opening
};

// One sample. The field order is the row layout of the Float64Array that JavaScript passes in:
// it must match FIELDS in src/probe/layout.ts (the glue exports pp_field_names for that check).
// Every field is a double so the struct is bit-identical to a row of PP_FIELD_COUNT doubles.
// A field the platform cannot read is NaN, never 0.
struct pp_sample {
  double pid;
  double timestamp;       // ms since the Unix epoch, sub-ms fraction (CLOCK_REALTIME)
  double cpu_user_us;     // cumulative, µs
  double cpu_system_us;   // cumulative, µs
  double cpu_percent;     // 100 = one core; since the previous sample of this probe
  double rss_bytes;
  double vms_bytes;
  double memory_percent;  // RSS / total RAM * 100
  double open_fds;
  double threads;
  double voluntary_ctx;   // cumulative count
  double involuntary_ctx; // cumulative count
  double minor_faults;    // cumulative count
  double major_faults;    // cumulative count
  double start_time;      // ms since the Unix epoch
};

#define PP_FIELD_COUNT 15
static_assert(sizeof(struct pp_sample) == PP_FIELD_COUNT * sizeof(double),
              "pp_sample must be a plain row of doubles");

extern const char* const pp_field_names[PP_FIELD_COUNT];

// What this platform's implementation can do, for `procprobe doctor` and the README.
struct pp_features {
  int fd_count_o1;       // 1: open fds counted in O(1) (Linux >= 6.2 st_size of /proc/PID/fd)
  int cpu_clock;         // 1: per-process CPU clock with sub-ms resolution for other pids
  double page_size;
  double clock_ticks;    // USER_HZ
  double mem_total_bytes;
};

// Opaque, defined by each per-OS file. Allocated at open, never on the sampling path.
struct pp_target;

// pid 0 means this process. On success *out owns open handles until pp_close.
enum pp_status pp_open(int pid, struct pp_target** out);
// Fills *s. No allocation, no open/close, no string building (Linux: pread/fstat on kept handles).
enum pp_status pp_read(struct pp_target* t, struct pp_sample* s);
void pp_close(struct pp_target* t);

// Read the costly counts (open fds, threads, and another pid's per-thread context switches) at
// most every `ms` of the monotonic clock, carrying the last reading in between; 0 (the default
// after pp_open): at every pp_read. CPU, memory, faults and the timestamp are read at every
// pp_read regardless. A no-op where those counts are cheap (every platform but Linux).
void pp_set_counts_interval(struct pp_target* t, double ms);

// What the children a process has waited for used, they and their own waited-for descendants
// (the kernel adds a child's totals to its parent's at each reap): getrusage(RUSAGE_CHILDREN) for
// this process (µs), else /proc/PID/stat cutime, cstime, cminflt, cmajflt as of the last pp_read
// (clock ticks, so 10 ms steps). NaN where the platform has none. No syscall for another pid.
struct pp_children {
  double cpu_user_us;
  double cpu_system_us;
  double minor_faults;
  double major_faults;
};
#define PP_CHILDREN_COUNT 4
enum pp_status pp_read_children(struct pp_target* t, struct pp_children* c);
void pp_get_features(struct pp_features* f);

// cpu_percent bookkeeping shared by every platform: the first sample is the average since the
// process started (never a meaningless 0), later ones cover the time since the previous sample.
struct pp_cpu_state {
  double prev_cpu_us;
  double prev_mono_us;
  int has_prev;
};

static inline double pp_cpu_percent(struct pp_cpu_state* st, double cpu_us, double mono_us,
                                    double age_us) {
  double pct;
  if (st->has_prev && mono_us > st->prev_mono_us) {
    pct = (cpu_us - st->prev_cpu_us) / (mono_us - st->prev_mono_us) * 100.0;
  } else {
    // A process younger than 1 ms (or a start time known to 10 ms only) would give a wild ratio.
    pct = cpu_us / (age_us > 1000.0 ? age_us : 1000.0) * 100.0;
  }
  st->prev_cpu_us = cpu_us;
  st->prev_mono_us = mono_us;
  st->has_prev = 1;
  return pct < 0 ? 0 : pct;
}

#endif  // PROCPROBE_PROBE_H_
