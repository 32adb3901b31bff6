// N-API glue of the fork watch (forkwatch.h):
//   forkWatchOpen() -> handle >= 0, or -errno
//   forkWatchDrain(handle, out: Int32Array) -> n: out[0] = overflows in this call (events lost),
//     then n events of PP_FORKWATCH_FIELDS int32s from out[1]; at most (out.length - 1) / fields
//   forkWatchFields: PP_FORKWATCH_FIELDS (4: [kind, pid, ppid, status]; builds without it wrote 3)
//   forkWatchClose(handle): idempotent
//   reapOrphan(pid, out: Float64Array) -> [1, status] with out[0..6] the rusage (forkwatch.h
//     pp_reap_orphan), 0 while it runs, or -errno
//
// Handles index a table owned by this addon instance (one per environment: the addon loads in
// worker threads, maybe twice in one), never raw fds, so a made-up handle cannot make us read or
// close another fd. The environment's cleanup hook closes what is still open when its thread ends
// or is terminated. Drain runs on every sampler tick and allocates nothing: it checks its
// arguments (args.h) and fills the caller's array.
#include <errno.h>
#include <napi.h>

#include "args.h"
#include "forkwatch.h"

namespace {

constexpr uint32_t kMaxWatches = 64;  // per environment: one per tree sampler

struct Watches {
  int fds[kMaxWatches];  // -1: free
};

void CloseAll(Watches* w) {
  for (uint32_t i = 0; i < kMaxWatches; i++) {
    if (w->fds[i] >= 0) pp_forkwatch_close(w->fds[i]);
  }
  delete w;
}

// The handle argument of drain and close, as an index of an open watch; -1 (error thrown) if bad.
int Slot(ArgCheck& a, Watches* w, bool must_be_open) {
  double h;
  if (!a.Integer(0, "handle", 0, kMaxWatches - 1, &h)) return -1;
  if (must_be_open && w->fds[(int)h] < 0) {
    a.FailNumber(true, "handle", "an open fork watch", h);
    return -1;
  }
  return (int)h;
}

Napi::Value Open(const Napi::CallbackInfo& info) {
  Watches* w = (Watches*)info.Data();
  for (uint32_t i = 0; i < kMaxWatches; i++) {
    if (w->fds[i] >= 0) continue;
    int fd;
    int err = pp_forkwatch_open(&fd);
    if (err != 0) return Napi::Number::New(info.Env(), -err);
    w->fds[i] = fd;
    return Napi::Number::New(info.Env(), i);
  }
  return Napi::Number::New(info.Env(), -EMFILE);
}

Napi::Value Drain(const Napi::CallbackInfo& info) {
  Watches* w = (Watches*)info.Data();
  ArgCheck a(info, "forkWatchDrain");
  int slot = Slot(a, w, true);
  pp_view out;
  if (slot < 0 || !a.View(1, "out", napi_int32_array, 1 + PP_FORKWATCH_FIELDS, &out)) return info.Env().Undefined();
  int32_t* cells = (int32_t*)out.data;
  cells[0] = 0;
  int n = pp_forkwatch_drain(w->fds[slot], cells + 1, (out.length - 1) / PP_FORKWATCH_FIELDS, cells);
  return Napi::Number::New(info.Env(), n);
}

Napi::Value Close(const Napi::CallbackInfo& info) {
  Watches* w = (Watches*)info.Data();
  ArgCheck a(info, "forkWatchClose");
  int slot = Slot(a, w, false);
  if (slot >= 0 && w->fds[slot] >= 0) {
    pp_forkwatch_close(w->fds[slot]);
    w->fds[slot] = -1;
  }
  return info.Env().Undefined();
}

Napi::Value Reap(const Napi::CallbackInfo& info) {
  ArgCheck a(info, "reapOrphan");
  double pid;
  pp_view out;
  // pid 0 and negatives mean process groups to wait4: only one named process may be reaped.
  if (!a.Integer(0, "pid", 1, 0x7fffffff, &pid) || !a.View(1, "out", napi_float64_array, PP_REAP_FIELDS, &out)) return info.Env().Undefined();
  int32_t status = 0;
  int r = pp_reap_orphan((int32_t)pid, &status, (double*)out.data);
  if (r <= 0) return Napi::Number::New(info.Env(), r);
  Napi::Array got = Napi::Array::New(info.Env(), 2);
  got.Set(0u, Napi::Number::New(info.Env(), 1));
  got.Set(1u, Napi::Number::New(info.Env(), status));
  return got;
}

}  // namespace

// Called by the addon's constructor (addon.cc): adds forkWatchOpen, forkWatchDrain and
// forkWatchClose to its exports, sharing one table of this environment's watches.
void pp_define_forkwatch(Napi::Env env, Napi::Object exports) {
  Watches* w = new Watches();
  for (uint32_t i = 0; i < kMaxWatches; i++) w->fds[i] = -1;
  env.AddCleanupHook(CloseAll, w);
  exports.Set("forkWatchOpen", Napi::Function::New(env, Open, "forkWatchOpen", w));
  exports.Set("forkWatchDrain", Napi::Function::New(env, Drain, "forkWatchDrain", w));
  exports.Set("forkWatchClose", Napi::Function::New(env, Close, "forkWatchClose", w));
  exports.Set("forkWatchFields", Napi::Number::New(env, PP_FORKWATCH_FIELDS));
  // Builds before exec events lack it: their trees re-read argv at every rescan instead.
  exports.Set("forkWatchExec", Napi::Number::New(env, PP_FORKWATCH_EXEC));
  exports.Set("reapOrphan", Napi::Function::New(env, Reap, "reapOrphan"));
}
