// N-API glue: the only native file that knows JavaScript. State lives in the addon instance, not
// in globals, because the addon is loaded by worker threads (possibly several at once, possibly
// twice in one thread); each instance closes its own probes when its environment is torn down.
// Every argument is checked (args.h) before it is used: a bad one is a typed JS error, never a
// read or write outside the caller's arrays, and never a call that blocks for longer than
// kMaxBlockMs (a worker blocked in C cannot be terminated).
#include <float.h>
#include <math.h>
#include <napi.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "args.h"
#include "baseline.h"
#include "loop.h"
#include "probe.h"
#include "timing.h"

const char* const pp_field_names[PP_FIELD_COUNT] = {
    "pid",     "timestamp", "cpuUserUs",  "cpuSystemUs", "cpuPercent", "rssBytes", "vmsBytes", "memoryPercent",
    "openFds", "threads",   "voluntaryContextSwitches",  "involuntaryContextSwitches", "minorPageFaults",
    "majorPageFaults",      "startTime",
};

void pp_define_spawn(Napi::Env env, Napi::Object exports);  // spawn_addon.cc
void pp_define_forkwatch(Napi::Env env, Napi::Object exports);  // forkwatch_addon.cc
void pp_define_ready(Napi::Env env, Napi::Object exports);  // ready_addon.cc

class ProbeAddon : public Napi::Addon<ProbeAddon> {
 public:
  ProbeAddon(Napi::Env env, Napi::Object exports) {
    Napi::Array names = Napi::Array::New(env, PP_FIELD_COUNT);
    for (uint32_t i = 0; i < PP_FIELD_COUNT; i++) names.Set(i, pp_field_names[i]);
    DefineAddon(exports, {
                             InstanceValue("abiVersion", Napi::Number::New(env, PP_ABI_VERSION)),
                             InstanceValue("fields", names),
                             InstanceMethod("open", &ProbeAddon::Open),
                             InstanceMethod("sampleInto", &ProbeAddon::SampleInto),
                             InstanceMethod("childrenInto", &ProbeAddon::ChildrenInto),
                             InstanceMethod("close", &ProbeAddon::Close),
                             InstanceMethod("setCountsInterval", &ProbeAddon::SetCountsInterval),
                             InstanceMethod("features", &ProbeAddon::Features),
                             InstanceMethod("baseline", &ProbeAddon::Baseline),
                             InstanceMethod("baselineThread", &ProbeAddon::BaselineThread),
                             InstanceMethod("nowInto", &ProbeAddon::NowInto),
                             InstanceMethod("tick", &ProbeAddon::Tick),
                             InstanceMethod("runLoop", &ProbeAddon::RunLoop),
                             InstanceMethod("tuneThread", &ProbeAddon::TuneThread),
                         });
    pp_define_spawn(env, exports);
    pp_define_forkwatch(env, exports);
    pp_define_ready(env, exports);
  }

  ~ProbeAddon() {
    for (uint32_t i = 0; i < cap_; i++) pp_close(targets_[i]);
    free(targets_);
  }

 private:
  // open(pid) -> handle >= 0, or -status. pid 0 is this process.
  Napi::Value Open(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    ArgCheck a(info, "open");
    double pid;
    if (!a.Integer(0, "pid", 0, INT32_MAX, &pid)) return env.Undefined();
    uint32_t slot = cap_;
    for (uint32_t i = 0; i < cap_; i++) {
      if (targets_[i] == nullptr) {
        slot = i;
        break;
      }
    }
    if (slot == cap_) {
      uint32_t cap = cap_ ? cap_ * 2 : 8;
      pp_target** grown = (pp_target**)realloc(targets_, sizeof(pp_target*) * cap);
      if (grown == nullptr) return Napi::Number::New(env, -PP_NO_MEMORY);
      memset(grown + cap_, 0, sizeof(pp_target*) * (cap - cap_));
      targets_ = grown;
      cap_ = cap;
    }
    pp_target* t = nullptr;
    enum pp_status st = pp_open((int)pid, &t);
    if (st != PP_OK) return Napi::Number::New(env, -(double)st);
    targets_[slot] = t;
    return Napi::Number::New(env, slot);
  }

  // The open probe whose handle is argument i, or nullptr with the error thrown. *slot: its index.
  pp_target* Target(ArgCheck& a, size_t i, uint32_t* slot = nullptr) {
    double h;
    if (!a.Integer(i, "handle", 0, UINT32_MAX, &h)) return nullptr;
    if (h >= cap_ || targets_[(uint32_t)h] == nullptr) {
      a.FailNumber(true, "handle", "the handle of an open probe (from open(), not closed)", h);
      return nullptr;
    }
    if (slot != nullptr) *slot = (uint32_t)h;
    return targets_[(uint32_t)h];
  }

  // An int32 return value, not a double: a small integer, never a heap number, on the hot path.
  static Napi::Value Int(Napi::Env env, int32_t v) {
    napi_value out;
    napi_create_int32(env, v, &out);
    return Napi::Value(env, out);
  }

  // The hot path: sampleInto(handle, Float64Array, offset) -> status. Writes PP_FIELD_COUNT
  // doubles at row `offset` (in elements). No allocation: the row is copied from the stack.
  Napi::Value SampleInto(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    ArgCheck a(info, "sampleInto");
    pp_target* t = Target(a, 0);
    pp_view row;
    double off;
    if (t == nullptr || !a.View(1, "row", napi_float64_array, 0, &row)) return env.Undefined();
    // The last full row is the highest offset; a row shorter than one sample has none.
    double last = row.length >= PP_FIELD_COUNT ? (double)(row.length - PP_FIELD_COUNT) : -1;
    if (!a.Integer(2, "offset", 0, last, &off)) return env.Undefined();
    struct pp_sample s;
    enum pp_status st = pp_read(t, &s);
    if (st == PP_OK || st == PP_ZOMBIE) memcpy((double*)row.data + (size_t)off, &s, sizeof s);
    return Int(env, (int32_t)st);
  }

  // childrenInto(handle, Float64Array) -> status: the reaped-children totals (pp_children order)
  // into the first PP_CHILDREN_COUNT elements.
  Napi::Value ChildrenInto(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    ArgCheck a(info, "childrenInto");
    pp_target* t = Target(a, 0);
    pp_view out;
    if (t == nullptr || !a.View(1, "out", napi_float64_array, PP_CHILDREN_COUNT, &out)) return env.Undefined();
    struct pp_children c;
    enum pp_status st = pp_read_children(t, &c);
    if (st == PP_OK) memcpy(out.data, &c, sizeof c);
    return Int(env, (int32_t)st);
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    ArgCheck a(info, "close");
    uint32_t h;
    pp_target* t = Target(a, 0, &h);
    if (t != nullptr) {
      pp_close(t);
      targets_[h] = nullptr;
    }
    return info.Env().Undefined();
  }

  // setCountsInterval(handle, ms): the costly counts at most every ms (pp_set_counts_interval);
  // 0: at every read. Bounded like the sampler's interval (a day at most).
  Napi::Value SetCountsInterval(const Napi::CallbackInfo& info) {
    ArgCheck a(info, "setCountsInterval");
    pp_target* t = Target(a, 0);
    double ms;
    if (t != nullptr && a.Number(1, "ms", 0, 86400000, &ms)) pp_set_counts_interval(t, ms);
    return info.Env().Undefined();
  }

  Napi::Value Features(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    struct pp_features f;
    pp_get_features(&f);
    Napi::Object o = Napi::Object::New(env);
    o.Set("fdCountO1", Napi::Boolean::New(env, f.fd_count_o1 != 0));
    o.Set("cpuClock", Napi::Boolean::New(env, f.cpu_clock != 0));
    o.Set("pageSize", Napi::Number::New(env, f.page_size));
    o.Set("clockTicks", Napi::Number::New(env, f.clock_ticks));
    o.Set("memTotalBytes", Napi::Number::New(env, f.mem_total_bytes));
    return o;
  }

  // baseline(handle, iterations) -> elapsed ns of the same system calls in a C loop. At most 10^8
  // reads (a few minutes): a larger count is a mistake, not a benchmark.
  Napi::Value Baseline(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    ArgCheck a(info, "baseline");
    pp_target* t = Target(a, 0);
    double n;
    if (t == nullptr || !a.Integer(1, "iterations", 0, 1e8, &n)) return env.Undefined();
    struct pp_sample s;
    pp_read(t, &s);  // prime lazily opened state (thread status files) like a real sampler
    return Napi::Number::New(env, pp_baseline_loop(t, (uint32_t)n));
  }

  // baselineThread(handle, intervalMs, durationMs) -> { ticks, missed, cpuUs, lagP50Us, ... } or
  // null. Blocks the caller for durationMs (at most 10 min, 10^7 ticks: a lag per tick is kept):
  // benchmarks only.
  Napi::Value BaselineThread(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    ArgCheck a(info, "baselineThread");
    pp_target* t = Target(a, 0);
    double interval, duration;
    if (t == nullptr || !a.Number(1, "intervalMs", 0.01, kMaxBlockMs, &interval) ||
        !a.Number(2, "durationMs", 0.01, 600000, &duration) ||
        !a.Within("durationMs / intervalMs (ticks)", duration / interval, 0, 1e7, false)) {
      return env.Undefined();
    }
    struct pp_loop_stats st;
    if (pp_baseline_thread(t, interval, duration, &st) != 0) return env.Null();
    Napi::Object o = Napi::Object::New(env);
    o.Set("ticks", st.ticks);
    o.Set("missed", st.missed);
    o.Set("cpuUs", st.cpu_us);
    o.Set("lagP50Us", st.lag_p50_us);
    o.Set("lagP99Us", st.lag_p99_us);
    o.Set("lagMaxUs", st.lag_max_us);
    return o;
  }

  // nowInto(f64, index): the monotonic clock (ms) written into a caller's array. Returning a
  // double would box it in a new heap number on every call: the sampler's tick allocates nothing.
  Napi::Value NowInto(const Napi::CallbackInfo& info) {
    ArgCheck a(info, "nowInto");
    pp_view cell;
    double i;
    if (a.View(0, "cell", napi_float64_array, 1, &cell) && a.Integer(1, "index", 0, (double)cell.length - 1, &i)) {
      ((double*)cell.data)[(size_t)i] = pp_monotonic_ms();
    }
    return info.Env().Undefined();
  }

  // tick(handle, cell, row) -> status: the sampler's whole tick in one call. Sleeps until the
  // monotonic deadline cell[1] (ms), writes the wake-up time into cell[0], then reads the probe of
  // `handle` into row[0..] (handle -1: no read, returns 0). One crossing instead of four (now,
  // sleep, now, sample): at 1 kHz the crossings of a cold wake-up are a visible part of a tick.
  Napi::Value Tick(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    ArgCheck a(info, "tick");
    bool sample = !(info[0].IsNumber() && info[0].As<Napi::Number>().DoubleValue() == -1);
    pp_target* t = sample ? Target(a, 0) : nullptr;
    pp_view cell, row = {nullptr, 0};
    if ((sample && t == nullptr) || !a.View(1, "cell", napi_float64_array, 2, &cell) ||
        (sample && !a.View(2, "row", napi_float64_array, PP_FIELD_COUNT, &row))) {
      return env.Undefined();
    }
    double* clock = (double*)cell.data;
    double deadline = clock[1];  // read once: the cell may be shared memory another thread writes
    // The monotonic clock starts at 0 (boot): a deadline below is a mistake, and one beyond
    // kMaxBlockMs from now would block the thread past what terminate() can wait for.
    if (!a.Within("cell[1] (the deadline, ms on the monotonic clock)", deadline, 0, pp_monotonic_ms() + kMaxBlockMs, false)) {
      return env.Undefined();
    }
    pp_sleep_until(deadline);
    clock[0] = pp_monotonic_ms();
    enum pp_status st = PP_OK;
    if (sample) {
      struct pp_sample s;
      st = pp_read(t, &s);
      if (st == PP_OK || st == PP_ZOMBIE) memcpy(row.data, &s, sizeof s);
    }
    return Int(env, (int32_t)st);
  }

  // The ring of runLoop: its four arrays, and the layout words copied out of the layout array
  // and checked (pp_loop_check) in the copy, so that a thread rewriting a shared layout array
  // meanwhile cannot change what was checked.
  bool Ring(ArgCheck& a, pp_loop_ring* r) {
    pp_view header, records, versions, gauges, layout;
    if (!a.View(1, "header", napi_int32_array, 1, &header) || !a.View(2, "records", napi_float64_array, 1, &records) ||
        !a.View(3, "versions", napi_int32_array, 1, &versions) || !a.View(4, "gauges", napi_float64_array, 0, &gauges) ||
        !a.View(5, "layout", napi_int32_array, PP_L_COUNT, &layout)) {
      return false;
    }
    const int32_t* l = (const int32_t*)layout.data;
    *r = {(int32_t*)header.data, (double*)records.data, (int32_t*)versions.data, (double*)gauges.data,
          l[PP_L_CAPACITY], l[PP_L_STRIDE], l[PP_L_GAUGE_COUNT],
          l[PP_L_H_LAST_SLOT], l[PP_L_H_MISSED], l[PP_L_H_STOP], l[PP_L_H_PAUSE],
          l[PP_L_R_SEQ], l[PP_L_R_STATUS], l[PP_L_R_LAG], l[PP_L_R_PROCESSES], l[PP_L_R_PSS], l[PP_L_R_ROW], l[PP_L_R_GAUGES],
          l[PP_L_F_PID], l[PP_L_F_TIMESTAMP], l[PP_L_F_CPU_USER], l[PP_L_F_CPU_SYSTEM], l[PP_L_F_CPU_PERCENT]};
    pp_loop_sizes n = {header.length, records.length, versions.length, gauges.length};
    pp_loop_fault f;
    if (pp_loop_check(r, &n, &f) == 0) return true;
    char what[48];
    snprintf(what, sizeof what, "layout.%s", f.field);
    return a.Within(what, f.got, f.min, f.max, true);
  }

  // runLoop(handle, header, records, versions, gauges, layout, params, state, win) -> exit reason.
  // Blocks the calling thread (the sampler worker) until the ring's stop or pause word is set, the
  // target is gone, or maxMs elapsed (0 with sampleFirst: one sample, then return). layout: Int32Array of offsets (runNative in
  // src/sampler/worker.ts); params: [intervalMs, windowMs, sampleFirst, maxMs]; state: [nextSeq
  // in/out, lastStatus out, deadline in/out, pending PSS in/out (NaN: none; the next record takes
  // it)]; win: the CPU window's state [head, size, ts.., cpu..].
  // Every cell is read once into a local and checked there, for the same reason as the layout.
  Napi::Value RunLoop(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    ArgCheck a(info, "runLoop");
    pp_target* t = Target(a, 0);
    pp_loop_ring r;
    pp_view params, state, win;
    if (t == nullptr || !Ring(a, &r) || !a.View(6, "params", napi_float64_array, 4, &params) ||
        !a.View(7, "state", napi_float64_array, 4, &state) ||
        !a.View(8, "win", napi_float64_array, 6, &win)) {
      return env.Undefined();
    }
    const double* p = (const double*)params.data;
    double* s = (double*)state.data;
    double* w = (double*)win.data;
    double interval = p[0], window = p[1], first = p[2], max_ms = p[3], seq = s[0], deadline = s[2];
    double cap = fmin(floor(((double)win.length - 2) / 2), 1 << 24), head = w[0], size = w[1];
    if (!a.Within("params[0] (intervalMs)", interval, 0.01, kMaxBlockMs, false) ||
        !a.Within("params[1] (windowMs)", window, 0, 1e9, false) ||
        !a.Within("params[2] (sampleFirst)", first, 0, 1, true) ||
        !a.Within("params[3] (maxMs)", max_ms, 0, kMaxBlockMs, false) ||
        !a.Within("state[0] (nextSeq)", seq, 0, 9007199254740992.0, true) ||
        !a.Within("state[2] (deadline)", deadline, 0, DBL_MAX, false) ||
        !a.Within("win[0] (head)", head, 0, cap - 1, true) || !a.Within("win[1] (size)", size, 0, cap, true)) {
      return env.Undefined();
    }
    pp_loop_window lw = {w, (int)cap, (int)head, (int)size};
    int last_status = PP_OK;
    double pss = s[3];  // any double: copied into a record, never used as an offset
    int exit = pp_run_loop(t, &r, interval, window, first != 0, max_ms, &lw, &seq, &deadline, &last_status, &pss);
    s[3] = pss;
    s[0] = seq;
    s[1] = last_status;
    s[2] = deadline;
    return Int(env, exit);
  }

  Napi::Value TuneThread(const Napi::CallbackInfo& info) {
    pp_thread_tune();
    return info.Env().Undefined();
  }

  pp_target** targets_ = nullptr;
  uint32_t cap_ = 0;
};

NODE_API_ADDON(ProbeAddon)
