// The native probe without Node, for `npm run test:asan` (scripts/test-asan.mjs builds it with
// -fsanitize=address,undefined and runs it with leak detection on).
//
// Why a harness of its own: under Node the addon runs with Node's allocator interposed, and the
// tests' child processes exit however they exit, so LeakSanitizer there can only be asked about
// leaks at a clean exit. Here every native entry point that owns memory or fds is driven
// thousands of times in one plain process: pp_open/pp_read/pp_close of this process, of a child
// whose threads come and go (the thread table grows and shrinks), of a pid that is gone and of a
// child that exits under an open probe; the sampler loop over a ring in this process's memory
// (yield, stop, target gone, a layout pp_loop_check refuses); posix_spawn with pipes, a missing
// file and a missing cwd; the benchmark baselines. LeakSanitizer reports every lost allocation at
// exit; open fds are counted in /proc/self/fd before and after (the kernel's list, not ours).
//
//   harness              run everything; exit 0 only when every check held (LSan adds its own exit code)
//   harness --plant-leak the same, but one probe is never closed: the run that proves LSan is on
//   harness --churn      the child: threads that start and end, until killed
#include <dirent.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "baseline.h"
#include "loop.h"
#include "probe.h"
#include "spawn.h"

// Defined by the N-API glue (addon.cc), which is not linked here.
const char* const pp_field_names[PP_FIELD_COUNT] = {};

namespace {

int failures = 0;

#define CHECK(cond, ...)                      \
  do {                                        \
    if (!(cond)) {                            \
      fprintf(stderr, "harness: " __VA_ARGS__); \
      fputc('\n', stderr);                    \
      failures++;                             \
    }                                         \
  } while (0)

int count_fds() {
  DIR* d = opendir("/proc/self/fd");
  if (d == nullptr) return -1;
  int n = 0;
  while (readdir(d) != nullptr) n++;
  closedir(d);
  return n - 3;  // ".", ".." and the fd of the listing itself
}

pp_spawn_result spawn(const char* file, const char* const* argv, const char* cwd, int out_mode) {
  pp_spawn_opts o = {file, (char* const*)argv, nullptr, cwd, {PP_STDIO_IGNORE, out_mode, out_mode}, 0};
  pp_spawn_result r;
  pp_spawn(&o, &r);
  return r;
}

int reap(int pid) {
  pp_exit e;
  pp_wait_exit(pid, &e);
  return e.err;
}

// Open, read and close one pid `n` times; `keep_last`: never close the last one (the planted leak).
void probe_rounds(int pid, int n, bool keep_last) {
  for (int i = 0; i < n; i++) {
    pp_target* t = nullptr;
    enum pp_status st = pp_open(pid, &t);
    CHECK(st == PP_OK, "pp_open(%d) round %d: status %d", pid, i, st);
    if (st != PP_OK) return;
    pp_sample s;
    st = pp_read(t, &s);
    CHECK(st == PP_OK && s.rss_bytes > 0, "pp_read(%d) round %d: status %d, rss %g", pid, i, st, s.rss_bytes);
    if (keep_last && i == n - 1) return;
    pp_close(t);
  }
}

// A pid that is gone (NOT_FOUND at open), and a child that exits under an open probe (EXITED).
void gone_rounds(int n) {
  const char* const argv[] = {"true", nullptr};
  for (int i = 0; i < n; i++) {
    pp_spawn_result r = spawn("/bin/true", argv, nullptr, PP_STDIO_IGNORE);
    CHECK(r.err == 0 && reap(r.pid) == 0, "spawn /bin/true: errno %d", r.err);
    pp_target* t = nullptr;
    enum pp_status st = pp_open(r.pid, &t);
    if (st == PP_OK) pp_close(t);  // the pid was reused already: rare, and not a failure
    else CHECK(st == PP_NOT_FOUND, "pp_open(reaped %d): status %d", r.pid, st);
  }
  const char* const sleeper[] = {"sleep", "30", nullptr};
  for (int i = 0; i < n / 10; i++) {
    pp_spawn_result r = spawn("/bin/sleep", sleeper, nullptr, PP_STDIO_IGNORE);
    pp_target* t = nullptr;
    CHECK(pp_open(r.pid, &t) == PP_OK, "pp_open(sleep %d)", r.pid);
    pp_spawn_undo(&r);
    pp_sample s;
    enum pp_status st = t != nullptr ? pp_read(t, &s) : PP_OK;
    CHECK(st == PP_EXITED || st == PP_NOT_FOUND, "pp_read of an exited child: status %d", st);
    pp_close(t);
  }
}

// Spawn with pipes (drained to EOF), with a file and a cwd that do not exist, and undone.
void spawn_rounds(int n) {
  const char* const echo[] = {"echo", "hello", nullptr};
  for (int i = 0; i < n; i++) {
    pp_spawn_result r = spawn("/bin/echo", echo, "/", PP_STDIO_PIPE);
    CHECK(r.err == 0, "spawn /bin/echo: errno %d step %d", r.err, r.step);
    char buf[64];
    while (read(r.fds[1], buf, sizeof buf) > 0) {
    }
    close(r.fds[1]);
    close(r.fds[2]);
    CHECK(reap(r.pid) == 0, "wait4 of echo %d", r.pid);
    r = spawn("/nonexistent/procprobe", echo, nullptr, PP_STDIO_PIPE);
    CHECK(r.err != 0 && r.step == PP_STEP_EXEC && r.fds[1] == -1, "spawn of a missing file: errno %d step %d", r.err, r.step);
    r = spawn("/bin/echo", echo, "/nonexistent/dir", PP_STDIO_PIPE);
    CHECK(r.err != 0 && r.step == PP_STEP_CWD && r.fds[1] == -1, "spawn in a missing cwd: errno %d step %d", r.err, r.step);
  }
}

// A ring laid out here (the offsets only have to pass pp_loop_check): capacity 64, 2 gauges.
struct ring {
  int32_t header[8] = {};
  double records[64 * (5 + PP_FIELD_COUNT + 2)] = {};
  int32_t versions[64] = {};
  double gauges[2] = {1.5, 2.5};
  double win[2 + 2 * 16] = {};
  pp_loop_ring r = {header, records, versions, gauges, 64, 5 + PP_FIELD_COUNT + 2, 2, 0, 1, 2, 3,
                    0,      1,       2,        3,      4,  5,  5 + PP_FIELD_COUNT, 0, 1, 2, 3, 4};
  pp_loop_sizes n = {8, sizeof records / sizeof(double), 64, 2};
};

int run(pp_target* t, ring* g, double max_ms, double* seq, int* status) {
  pp_loop_window w = {g->win, 16, (int)g->win[0], (int)g->win[1]};
  double deadline = 0, pss = NAN;
  return pp_run_loop(t, &g->r, 0.2, 50, 1, max_ms, &w, seq, &deadline, status, &pss);
}

void loop_rounds(int n) {
  ring* g = new ring();
  pp_loop_fault f;
  CHECK(pp_loop_check(&g->r, &g->n, &f) == 0, "pp_loop_check refused the harness ring at %s", f.field);
  ring* bad = new ring();
  bad->r.stride = 1000;
  CHECK(pp_loop_check(&bad->r, &bad->n, &f) == 1 && strcmp(f.field, "stride") == 0, "a stride of 1000 passed pp_loop_check");
  delete bad;
  pp_target* self = nullptr;
  pp_open(0, &self);
  double seq = 0;
  int status = 0;
  for (int i = 0; i < n; i++) CHECK(run(self, g, 10, &seq, &status) == PP_LOOP_YIELD, "loop round %d did not yield", i);
  CHECK(seq > n, "the loop wrote %g records in %d rounds", seq, n);
  for (int slot = 0; slot < 64; slot++) CHECK(g->versions[slot] % 2 == 0, "slot %d left odd (being written)", slot);
  g->header[g->r.h_stop] = 1;
  CHECK(run(self, g, 10, &seq, &status) == PP_LOOP_STOP, "the stop word did not stop the loop");
  g->header[g->r.h_stop] = 0;
  pp_close(self);
  const char* const sleeper[] = {"sleep", "30", nullptr};
  pp_spawn_result r = spawn("/bin/sleep", sleeper, nullptr, PP_STDIO_IGNORE);
  pp_target* child = nullptr;
  CHECK(pp_open(r.pid, &child) == PP_OK, "pp_open(sleep %d)", r.pid);
  pp_spawn_undo(&r);
  if (child != nullptr) CHECK(run(child, g, 1000, &seq, &status) == PP_LOOP_TARGET && status == PP_EXITED, "the loop on an exited child: status %d", status);
  pp_close(child);
  delete g;
}

void baselines() {
  pp_target* t = nullptr;
  pp_open(0, &t);
  CHECK(pp_baseline_loop(t, 1000) > 0, "pp_baseline_loop");
  pp_loop_stats st;
  CHECK(pp_baseline_thread(t, 1, 30, &st) == 0 && st.ticks >= 1, "pp_baseline_thread: %g ticks", st.ticks);
  pp_close(t);
  pp_features f;
  pp_get_features(&f);
  CHECK(f.page_size > 0, "pp_get_features: page size %g", f.page_size);
}

void* brief(void*) {
  usleep(500);
  return nullptr;
}

[[noreturn]] void churn() {
  for (;;) {
    pthread_t th[4];
    for (auto& t : th) pthread_create(&t, nullptr, brief, nullptr);
    for (auto& t : th) pthread_join(t, nullptr);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && strcmp(argv[1], "--churn") == 0) churn();
  bool plant = argc > 1 && strcmp(argv[1], "--plant-leak") == 0;
  int fds = count_fds();
  probe_rounds(0, 10000, plant);
  const char* const churner[] = {argv[0], "--churn", nullptr};
  pp_spawn_result c = spawn("/proc/self/exe", churner, nullptr, PP_STDIO_IGNORE);
  CHECK(c.err == 0, "spawn of the churn child: errno %d", c.err);
  if (c.err == 0) probe_rounds(c.pid, 2000, false);
  if (c.err == 0) pp_spawn_undo(&c);
  gone_rounds(200);
  spawn_rounds(200);
  loop_rounds(20);
  baselines();
  int after = count_fds() - (plant ? 4 : 0);  // the planted leak keeps its probe's 4 fds
  CHECK(after == fds, "open fds: %d before, %d after", fds, after);
  printf("harness: %s, %d failed checks\n", failures == 0 ? "ok" : "FAILED", failures);
  fflush(stdout);  // LeakSanitizer reports after main returns and exits without flushing stdio
  return failures == 0 ? 0 : 1;
}
