// Windows implementation of the probe. Sources and why (see README "How each field is read"):
//
//  handle          OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION | SYNCHRONIZE), kept until
//                  pp_close: the least access every call below needs, granted for most processes
//                  of other users (not for protected ones).
//  cpu             GetProcessTimes: user and kernel time in 100 ns units -> µs. They advance in
//                  scheduler-tick steps (15.6 ms by default), hence features.cpu_clock = 0.
//  start time      GetProcessTimes creation time (FILETIME, 100 ns since 1601) -> ms since 1970.
//  rss, vms        GetProcessMemoryInfo(PROCESS_MEMORY_COUNTERS_EX): WorkingSetSize -> rss_bytes,
//                  PrivateUsage (the commit charge; Windows has no Unix-style VSZ) -> vms_bytes.
//  page faults     PageFaultCount -> minor_faults. Windows counts soft and hard faults together
//                  and exposes no per-process split, so major_faults is NaN. 32-bit: wraps at 2^32.
//  open fds        GetProcessHandleCount: kernel handles of every type (files, events, keys...).
//  threads         NaN: the documented per-process source, CreateToolhelp32Snapshot(
//                  TH32CS_SNAPTHREAD), copies every thread of the whole system into a new snapshot
//                  on each call: a per-sample allocation (and an O(system threads) walk).
//  ctx switches    NaN: not exposed per process by a cheap documented API.
//  memory total    GlobalMemoryStatusEx().ullTotalPhys.
//  exit            WaitForSingleObject(handle, 0) == WAIT_OBJECT_0 -> PP_EXITED.
//  clocks          GetSystemTimePreciseAsFileTime for timestamp, QueryPerformanceCounter for the
//                  cpu_percent intervals.
//
// Pid reuse needs no start-time check here: a process object lives while a handle to it is open,
// and its pid is not given to another process before the object goes, so the kept handle always
// names the process that was opened. Exit is read through that handle, LAST in each sample, so a
// sample whose reads raced with the exit is reported as EXITED rather than as a half-torn row.
#include "baseline.h"
#include "probe.h"

#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#ifndef NOMINMAX
#define NOMINMAX
#endif
// GetSystemTimePreciseAsFileTime is declared from Windows 8 (0x0602) on; every Windows that
// Node.js supports is newer. Raise a lower target for this file only.
#if defined(_WIN32_WINNT) && _WIN32_WINNT < 0x0602
#undef _WIN32_WINNT
#define _WIN32_WINNT 0x0602
#endif
#include <windows.h>
#include <psapi.h>

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

struct pp_target {
  HANDLE process;
  DWORD pid;
  double start_us;   // creation time, µs since the Unix epoch
  double mem_total;
  LONGLONG qpc_freq; // QueryPerformanceFrequency: fixed at boot, so read once
  struct pp_cpu_state cpu;
};

namespace {

// 100 ns intervals from 1601-01-01 to 1970-01-01.
constexpr uint64_t kEpochDelta100ns = 116444736000000000ULL;

inline uint64_t ft_u64(const FILETIME& ft) {
  return ((uint64_t)ft.dwHighDateTime << 32) | (uint64_t)ft.dwLowDateTime;
}

// A FILETIME point in time -> µs since the Unix epoch.
inline double ft_unix_us(const FILETIME& ft) {
  return (double)(int64_t)(ft_u64(ft) - kEpochDelta100ns) / 10.0;
}

// Split in whole seconds and remainder so that large counters keep their sub-µs digits.
inline double qpc_us(LONGLONG count, LONGLONG freq) {
  return (double)(count / freq) * 1e6 + (double)(count % freq) * 1e6 / (double)freq;
}

double read_mem_total() {
  MEMORYSTATUSEX ms;
  ms.dwLength = (DWORD)sizeof ms;  // required by GlobalMemoryStatusEx
  return GlobalMemoryStatusEx(&ms) && ms.ullTotalPhys > 0 ? (double)ms.ullTotalPhys : NAN;
}

enum pp_status status_from_error(DWORD err, bool opening) {
  // OpenProcess answers ERROR_INVALID_PARAMETER for a pid that names no process.
  if (err == ERROR_INVALID_PARAMETER) return opening ? PP_NOT_FOUND : PP_EXITED;
  if (err == ERROR_ACCESS_DENIED) return PP_ACCESS_DENIED;
  return PP_IO_ERROR;
}

}  // namespace

enum pp_status pp_open(int pid, struct pp_target** out) {
  *out = nullptr;
  if (pid < 0) return PP_NOT_FOUND;
  DWORD id = pid == 0 ? GetCurrentProcessId() : (DWORD)pid;
  HANDLE h = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION | SYNCHRONIZE, FALSE, id);
  if (h == nullptr) return status_from_error(GetLastError(), true);

  // An exited process stays openable while anyone holds a handle to it: it no longer runs.
  if (WaitForSingleObject(h, 0) == WAIT_OBJECT_0) {
    CloseHandle(h);
    return PP_NOT_FOUND;
  }
  FILETIME created, exited, kernel, user;
  if (!GetProcessTimes(h, &created, &exited, &kernel, &user)) {
    DWORD err = GetLastError();
    CloseHandle(h);
    return status_from_error(err, true);
  }
  pp_target* t = (pp_target*)calloc(1, sizeof(pp_target));
  if (t == nullptr) {
    CloseHandle(h);
    return PP_NO_MEMORY;
  }
  t->process = h;
  t->pid = id;
  t->start_us = ft_unix_us(created);
  t->mem_total = read_mem_total();
  LARGE_INTEGER freq;
  // Never fails on Windows XP and later; guard the division anyway.
  t->qpc_freq = QueryPerformanceFrequency(&freq) && freq.QuadPart > 0 ? freq.QuadPart : 1;
  *out = t;
  return PP_OK;
}

void pp_close(struct pp_target* t) {
  if (t == nullptr) return;
  CloseHandle(t->process);
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
  FILETIME now;
  LARGE_INTEGER qpc;
  GetSystemTimePreciseAsFileTime(&now);
  QueryPerformanceCounter(&qpc);
  s->pid = (double)t->pid;
  s->timestamp = ft_unix_us(now) / 1e3;
  s->start_time = t->start_us / 1e3;

  FILETIME created, exited, kernel, user;
  if (!GetProcessTimes(t->process, &created, &exited, &kernel, &user)) {
    return status_from_error(GetLastError(), false);
  }
  PROCESS_MEMORY_COUNTERS_EX pmc;
  BOOL mem_ok =
      GetProcessMemoryInfo(t->process, (PROCESS_MEMORY_COUNTERS*)&pmc, (DWORD)sizeof pmc);
  DWORD handles = 0;
  BOOL handles_ok = GetProcessHandleCount(t->process, &handles);

  // Last, see the header.
  DWORD wait = WaitForSingleObject(t->process, 0);
  if (wait == WAIT_OBJECT_0) return PP_EXITED;
  if (wait != WAIT_TIMEOUT) return PP_IO_ERROR;

  s->cpu_user_us = (double)ft_u64(user) / 10.0;  // durations, not points in time: no epoch
  s->cpu_system_us = (double)ft_u64(kernel) / 10.0;
  s->cpu_percent = pp_cpu_percent(&t->cpu, s->cpu_user_us + s->cpu_system_us,
                                  qpc_us(qpc.QuadPart, t->qpc_freq), ft_unix_us(now) - t->start_us);
  // A failed read leaves its fields NaN rather than failing the whole sample: the handle has the
  // rights both calls document, so this is not expected, and the CPU figures are still good.
  s->rss_bytes = mem_ok ? (double)pmc.WorkingSetSize : NAN;
  s->vms_bytes = mem_ok ? (double)pmc.PrivateUsage : NAN;
  s->minor_faults = mem_ok ? (double)pmc.PageFaultCount : NAN;
  s->major_faults = NAN;  // not split from PageFaultCount, see the header
  s->memory_percent = t->mem_total > 0 ? s->rss_bytes / t->mem_total * 100.0 : NAN;
  s->open_fds = handles_ok ? (double)handles : NAN;
  s->threads = NAN;          // no allocation-free documented source, see the header
  s->voluntary_ctx = NAN;    // not exposed per process, see the header
  s->involuntary_ctx = NAN;
  return PP_OK;
}

void pp_get_features(struct pp_features* f) {
  f->fd_count_o1 = 1;  // GetProcessHandleCount reads the handle table's counter, it lists nothing
  f->cpu_clock = 0;    // GetProcessTimes advances per scheduler tick, not with sub-ms resolution
  SYSTEM_INFO si;
  GetSystemInfo(&si);
  f->page_size = si.dwPageSize > 0 ? (double)si.dwPageSize : NAN;
  f->clock_ticks = NAN;  // USER_HZ is a Linux notion: no field here is read in scheduler ticks
  f->mem_total_bytes = read_mem_total();
}

// The baseline a hand-written C sampler would pay: the same calls as pp_read on the same handle,
// keeping a few numbers, no row, no NaN handling, no N-API.
double pp_baseline_loop(struct pp_target* t, uint32_t iterations) {
  LARGE_INTEGER a, b;
  volatile double sink = 0;
  QueryPerformanceCounter(&a);
  for (uint32_t i = 0; i < iterations; i++) {
    FILETIME now, created, exited, kernel, user;
    LARGE_INTEGER qpc;
    GetSystemTimePreciseAsFileTime(&now);
    QueryPerformanceCounter(&qpc);
    if (!GetProcessTimes(t->process, &created, &exited, &kernel, &user)) {
      return -(double)status_from_error(GetLastError(), false);
    }
    PROCESS_MEMORY_COUNTERS_EX pmc;
    pmc.WorkingSetSize = 0;
    GetProcessMemoryInfo(t->process, (PROCESS_MEMORY_COUNTERS*)&pmc, (DWORD)sizeof pmc);
    DWORD handles = 0;
    GetProcessHandleCount(t->process, &handles);
    if (WaitForSingleObject(t->process, 0) == WAIT_OBJECT_0) return -(double)PP_EXITED;
    sink += (double)ft_u64(user) + (double)pmc.WorkingSetSize + (double)handles +
            (double)now.dwLowDateTime + (double)qpc.QuadPart;
  }
  QueryPerformanceCounter(&b);
  (void)sink;
  return qpc_us(b.QuadPart - a.QuadPart, t->qpc_freq) * 1e3;
}

// The counts are read with the rest on this platform: nothing costs enough to be carried.
void pp_set_counts_interval(struct pp_target* t, double ms) {
  (void)t;
  (void)ms;
}
