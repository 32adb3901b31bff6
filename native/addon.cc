// N-API glue: the only native file that knows JavaScript. State lives in the addon instance, not
// in globals, because the addon is loaded by worker threads (possibly several at once, possibly
// twice in one thread); each instance closes its own probes when its environment is torn down.
#include <napi.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "loop.h"
#include "probe.h"

const char* const pp_field_names[PP_FIELD_COUNT] = {
    "pid",           "timestamp",          "cpuUserUs",        "cpuSystemUs",
    "cpuPercent",    "rssBytes",           "vmsBytes",         "memoryPercent",
    "openFds",       "threads",            "voluntaryContextSwitches",
    "involuntaryContextSwitches",          "minorPageFaults",  "majorPageFaults",
    "startTime",
};

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
                             InstanceMethod("close", &ProbeAddon::Close),
                             InstanceMethod("features", &ProbeAddon::Features),
                             InstanceMethod("baseline", &ProbeAddon::Baseline),
                             InstanceMethod("baselineThread", &ProbeAddon::BaselineThread),
                             InstanceMethod("nowInto", &ProbeAddon::NowInto),
                             InstanceMethod("tick", &ProbeAddon::Tick),
                             InstanceMethod("runLoop", &ProbeAddon::RunLoop),
                             InstanceMethod("tuneThread", &ProbeAddon::TuneThread),
                         });
  }

  ~ProbeAddon() {
    for (uint32_t i = 0; i < cap_; i++) pp_close(targets_[i]);
    free(targets_);
  }

 private:
  // open(pid) -> handle >= 0, or -status.
  Napi::Value Open(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!info[0].IsNumber()) {
      Napi::TypeError::New(env, "pid must be a number").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    int pid = info[0].As<Napi::Number>().Int32Value();
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
    enum pp_status st = pp_open(pid, &t);
    if (st != PP_OK) return Napi::Number::New(env, -(double)st);
    targets_[slot] = t;
    return Napi::Number::New(env, slot);
  }

  pp_target* Target(const Napi::CallbackInfo& info) {
    uint32_t h = info[0].IsNumber() ? info[0].As<Napi::Number>().Uint32Value() : UINT32_MAX;
    if (h >= cap_ || targets_[h] == nullptr) {
      Napi::TypeError::New(info.Env(), "invalid or closed probe handle")
          .ThrowAsJavaScriptException();
      return nullptr;
    }
    return targets_[h];
  }

  // The hot path: sampleInto(handle, Float64Array, offset) -> status. Writes PP_FIELD_COUNT
  // doubles at row `offset` (in elements). No allocation: the row is copied from the stack.
  Napi::Value SampleInto(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    pp_target* t = Target(info);
    if (t == nullptr) return env.Undefined();
    if (!info[1].IsTypedArray() ||
        info[1].As<Napi::TypedArray>().TypedArrayType() != napi_float64_array) {
      Napi::TypeError::New(env, "sampleInto needs a Float64Array").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    Napi::Float64Array row = info[1].As<Napi::Float64Array>();
    double off = info[2].IsNumber() ? info[2].As<Napi::Number>().DoubleValue() : -1;
    if (!(off >= 0) || off != (double)(size_t)off ||
        (size_t)off + PP_FIELD_COUNT > row.ElementLength()) {
      Napi::RangeError::New(env, "offset leaves no room for a full row")
          .ThrowAsJavaScriptException();
      return env.Undefined();
    }
    struct pp_sample s;
    enum pp_status st = pp_read(t, &s);
    if (st == PP_OK || st == PP_ZOMBIE) memcpy(row.Data() + (size_t)off, &s, sizeof s);
    // An int32, not a double: a small integer, never a heap number, on the hot path.
    napi_value status;
    napi_create_int32(env, (int32_t)st, &status);
    return Napi::Value(env, status);
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    pp_target* t = Target(info);
    if (t != nullptr) {
      uint32_t h = info[0].As<Napi::Number>().Uint32Value();
      pp_close(t);
      targets_[h] = nullptr;
    }
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

  // baseline(handle, iterations) -> elapsed ns of the same system calls in a C loop.
  Napi::Value Baseline(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    pp_target* t = Target(info);
    if (t == nullptr) return env.Undefined();
    uint32_t n = info[1].IsNumber() ? info[1].As<Napi::Number>().Uint32Value() : 1000;
    struct pp_sample s;
    pp_read(t, &s);  // prime lazily opened state (thread status files) like a real sampler
    return Napi::Number::New(env, pp_baseline_loop(t, n));
  }

  // baselineThread(handle, intervalMs, durationMs) -> { ticks, missed, cpuUs, lagP50Us, ... } or
  // null. Blocks the caller for durationMs: benchmarks only.
  Napi::Value BaselineThread(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    pp_target* t = Target(info);
    if (t == nullptr) return env.Undefined();
    double interval = info[1].IsNumber() ? info[1].As<Napi::Number>().DoubleValue() : 1;
    double duration = info[2].IsNumber() ? info[2].As<Napi::Number>().DoubleValue() : 1000;
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

  // The element info[1] of the Float64Array info[0] (a clock cell), or null with a JS error set.
  static double* Cell(const Napi::CallbackInfo& info, const char* what) {
    Napi::Env env = info.Env();
    char message[64];
    if (!info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_float64_array) {
      snprintf(message, sizeof message, "%s needs a Float64Array", what);
      Napi::TypeError::New(env, message).ThrowAsJavaScriptException();
      return nullptr;
    }
    Napi::Float64Array cell = info[0].As<Napi::Float64Array>();
    uint32_t i = info[1].IsNumber() ? info[1].As<Napi::Number>().Uint32Value() : 0;
    if (i >= cell.ElementLength()) {
      snprintf(message, sizeof message, "%s: index out of range", what);
      Napi::RangeError::New(env, message).ThrowAsJavaScriptException();
      return nullptr;
    }
    return cell.Data() + i;
  }

  // nowInto(f64, index): the monotonic clock (ms) written into a caller's array. Returning a
  // double would box it in a new heap number on every call: the sampler's tick allocates nothing.
  Napi::Value NowInto(const Napi::CallbackInfo& info) {
    double* cell = Cell(info, "nowInto");
    if (cell != nullptr) *cell = pp_monotonic_ms();
    return info.Env().Undefined();
  }

  // tick(handle, cell, row) -> status: the sampler's whole tick in one call. Sleeps until the
  // monotonic deadline cell[1] (ms), writes the wake-up time into cell[0], then reads the probe of
  // `handle` into row[0..] (handle -1: no read, returns 0). One crossing instead of four (now,
  // sleep, now, sample): at 1 kHz the crossings of a cold wake-up are a visible part of a tick.
  Napi::Value Tick(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    bool sample = !(info[0].IsNumber() && info[0].As<Napi::Number>().Int32Value() < 0);
    pp_target* t = sample ? Target(info) : nullptr;
    if (sample && t == nullptr) return env.Undefined();
    if (!info[1].IsTypedArray() || info[1].As<Napi::TypedArray>().TypedArrayType() != napi_float64_array) {
      Napi::TypeError::New(env, "tick needs a Float64Array clock cell").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    Napi::Float64Array cell = info[1].As<Napi::Float64Array>();
    if (cell.ElementLength() < 2) {
      Napi::RangeError::New(env, "the clock cell needs 2 elements").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    double* row = nullptr;
    if (sample) {
      if (!info[2].IsTypedArray() || info[2].As<Napi::TypedArray>().TypedArrayType() != napi_float64_array ||
          info[2].As<Napi::Float64Array>().ElementLength() < PP_FIELD_COUNT) {
        Napi::TypeError::New(env, "tick needs a Float64Array row").ThrowAsJavaScriptException();
        return env.Undefined();
      }
      row = info[2].As<Napi::Float64Array>().Data();
    }
    pp_sleep_until(cell[1]);
    cell[0] = pp_monotonic_ms();
    enum pp_status st = PP_OK;
    if (sample) {
      struct pp_sample s;
      st = pp_read(t, &s);
      if (st == PP_OK || st == PP_ZOMBIE) memcpy(row, &s, sizeof s);
    }
    napi_value status;
    napi_create_int32(env, (int32_t)st, &status);
    return Napi::Value(env, status);
  }

  // runLoop(handle, header, records, versions, gauges, layout, params, state, win) -> exit reason.
  // Blocks the calling thread (the sampler worker) until the ring's stop or pause word is set, the
  // target is gone, or maxMs elapsed. layout: Int32Array of offsets (runNative in
  // src/sampler/worker.ts); params: [intervalMs, windowMs, sampleFirst, maxMs]; state: [nextSeq
  // in/out, lastStatus out, deadline in/out]; win: the CPU window's state [head, size, ts.., cpu..].
  Napi::Value RunLoop(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    pp_target* t = Target(info);
    if (t == nullptr) return env.Undefined();
    auto typed = [&](size_t i, napi_typedarray_type type) {
      return info[i].IsTypedArray() && info[i].As<Napi::TypedArray>().TypedArrayType() == type;
    };
    if (!typed(1, napi_int32_array) || !typed(2, napi_float64_array) || !typed(3, napi_int32_array) ||
        !typed(4, napi_float64_array) || !typed(5, napi_int32_array) || !typed(6, napi_float64_array) ||
        !typed(7, napi_float64_array) || !typed(8, napi_float64_array)) {
      Napi::TypeError::New(env, "runLoop: bad arguments").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    Napi::Int32Array layout = info[5].As<Napi::Int32Array>();
    Napi::Float64Array params = info[6].As<Napi::Float64Array>();
    Napi::Float64Array state = info[7].As<Napi::Float64Array>();
    Napi::Float64Array win = info[8].As<Napi::Float64Array>();
    int win_cap = (int)((win.ElementLength() - 2) / 2);
    if (layout.ElementLength() < PP_L_COUNT || params.ElementLength() < 4 || state.ElementLength() < 3 || win.ElementLength() < 6 ||
        win[0] < 0 || win[1] < 0 || win[0] >= win_cap || win[1] > win_cap) {
      Napi::RangeError::New(env, "runLoop: short layout, params or state").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    Napi::Float64Array records = info[2].As<Napi::Float64Array>();
    Napi::Int32Array versions = info[3].As<Napi::Int32Array>();
    pp_loop_ring r;
    r.header = info[1].As<Napi::Int32Array>().Data();
    r.records = records.Data();
    r.versions = versions.Data();
    r.gauges = info[4].As<Napi::Float64Array>().Data();
    const int32_t* l = layout.Data();
    r.capacity = l[PP_L_CAPACITY];
    r.stride = l[PP_L_STRIDE];
    r.gauge_count = l[PP_L_GAUGE_COUNT];
    r.h_last_slot = l[PP_L_H_LAST_SLOT];
    r.h_missed = l[PP_L_H_MISSED];
    r.h_stop = l[PP_L_H_STOP];
    r.h_pause = l[PP_L_H_PAUSE];
    r.r_seq = l[PP_L_R_SEQ];
    r.r_status = l[PP_L_R_STATUS];
    r.r_lag = l[PP_L_R_LAG];
    r.r_processes = l[PP_L_R_PROCESSES];
    r.r_row = l[PP_L_R_ROW];
    r.r_gauges = l[PP_L_R_GAUGES];
    r.f_pid = l[PP_L_F_PID];
    r.f_timestamp = l[PP_L_F_TIMESTAMP];
    r.f_cpu_user = l[PP_L_F_CPU_USER];
    r.f_cpu_system = l[PP_L_F_CPU_SYSTEM];
    r.f_cpu_percent = l[PP_L_F_CPU_PERCENT];
    if (r.capacity < 2 || (size_t)r.capacity > versions.ElementLength() ||
        (size_t)r.capacity * (size_t)r.stride > records.ElementLength() || r.r_row + PP_FIELD_COUNT > r.stride ||
        r.r_gauges + r.gauge_count > r.stride) {
      Napi::RangeError::New(env, "runLoop: layout does not fit the arrays").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    double next_seq = state[0];
    double deadline = state[2];
    int last_status = PP_OK;
    int exit = pp_run_loop(t, &r, params[0], params[1], params[2] != 0, params[3], win.Data(), win_cap, &next_seq,
                           &deadline, &last_status);
    state[0] = next_seq;
    state[1] = last_status;
    state[2] = deadline;
    napi_value v;
    napi_create_int32(env, exit, &v);
    return Napi::Value(env, v);
  }

  Napi::Value TuneThread(const Napi::CallbackInfo& info) {
    pp_thread_tune();
    return info.Env().Undefined();
  }

  pp_target** targets_ = nullptr;
  uint32_t cap_ = 0;
};

NODE_API_ADDON(ProbeAddon)
