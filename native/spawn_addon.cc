// N-API glue of the native spawn (spawn.h): spawn(file, argv, envp, cwd, stdio, newGroup, onExit).
//
// Each child gets one detached waiter thread and one thread-safe function that carries the exit to
// JavaScript. The waiter itself calls posix_spawn, then wait4, while the JavaScript thread waits
// for the spawn's result: nothing is created or scheduled between the clock read before the spawn
// and wait4's return (a pthread_create there, and the new thread's first run, delayed the exit
// stamp of a 1 ms command by up to a few ms on a loaded 2-core machine; issue 10). libuv reaps only the pids it spawned itself (uv__wait_children
// calls waitpid(process->pid) for each of its own handles, never waitpid(-1): libuv 1.46,
// src/unix/process.c), so it never takes our children's exit statuses from the waiter.
//
// The thread-safe function is referenced, so, like a child_process child, a child being waited for
// keeps the event loop alive; the waiter releases it after the one call, and then nothing does.
// Per spawn, not per sample: the argument strings and the waiter are allocated here.
#include <errno.h>
#include <condition_variable>
#include <mutex>
#include <napi.h>
#include <stdio.h>

#include "args.h"
#include "spawn.h"

namespace {

struct Waiter;
void CallExit(Napi::Env env, Napi::Function cb, void* ctx, Waiter* w);
using ExitFn = Napi::TypedThreadSafeFunction<void, Waiter, CallExit>;

// The spawn handed to the waiter thread; lives on the JavaScript thread's stack, which waits on
// `cv` until `done` (the waiter never touches it after signalling).
struct Handoff {
  const pp_spawn_opts* o;
  pp_spawn_result r;
  std::mutex mu;  // std, not pthread: this file builds on Windows too (spawn_unsupported there)
  std::condition_variable cv;
  bool done = false;
};

struct Waiter {
  int pid;
  struct pp_exit e;
  ExitFn fn;
  Handoff* h;
};

constexpr const char* kStepNames[] = {"none", "pipe", "setup", "exec", "cwd", "unsupported", "thread"};
constexpr int kStepThread = 6;  // pthread_create failed: nothing was spawned

// Runs on the JavaScript thread; env is null when the environment is being torn down (a worker
// terminated while the child ran): the exit is then dropped, never delivered to a dead env.
void CallExit(Napi::Env env, Napi::Function cb, void*, Waiter* w) {
  if ((napi_env)env != nullptr && (napi_value)cb != nullptr) {
    const pp_exit& e = w->e;
    Napi::Object o = Napi::Object::New(env);
    o.Set("pid", w->pid);
    o.Set("err", e.err);
    o.Set("code", e.code);
    o.Set("signal", e.signal);
    o.Set("exitedAtMs", e.exited_ms);
    o.Set("exitedAtMonoMs", e.exited_mono_ms);
    Napi::Object ru = Napi::Object::New(env);
    ru.Set("userUs", e.user_us);
    ru.Set("systemUs", e.system_us);
    ru.Set("maxRssKiB", e.maxrss_kib);
    ru.Set("minorFaults", e.minflt);
    ru.Set("majorFaults", e.majflt);
    ru.Set("voluntaryCtx", e.nvcsw);
    ru.Set("involuntaryCtx", e.nivcsw);
    o.Set("rusage", ru);
    cb.Call({o});  // a throw here is an uncaught exception of the host, as in any callback
  }
  delete w;
}

void* WaitMain(void* arg) {
  Waiter* w = (Waiter*)arg;
  Handoff* h = w->h;
  bool ok = pp_spawn(h->o, &h->r) == 0;
  w->pid = h->r.pid;
  {
    // Signalled under the lock: Spawn cannot see `done` and free h before notify_one returns.
    std::lock_guard<std::mutex> lock(h->mu);
    h->done = true;
    h->cv.notify_one();
  }  // h may be gone from here on; on a failed spawn, w too (Spawn frees it)
  if (!ok) return nullptr;
  pp_wait_exit(w->pid, &w->e);
  // Copied first: once the call is queued, the JavaScript thread may run CallExit and free w.
  ExitFn fn = w->fn;
  if (fn.BlockingCall(w) != napi_ok) delete w;  // napi_closing: the env is gone
  fn.Release();
  return nullptr;
}

std::vector<char*> Pointers(std::vector<std::string>& list) {
  std::vector<char*> out;
  out.reserve(list.size() + 1);
  for (std::string& s : list) out.push_back(&s[0]);
  out.push_back(nullptr);
  return out;
}

Napi::Value Failure(Napi::Env env, int err, int step) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("err", err);
  o.Set("step", kStepNames[step]);
  return o;
}

Napi::Value Success(Napi::Env env, const pp_spawn_result& r) {
  Napi::Object o = Napi::Object::New(env);
  Napi::Array fds = Napi::Array::New(env, 3);
  for (uint32_t i = 0; i < 3; i++) fds.Set(i, r.fds[i]);
  o.Set("pid", r.pid);
  o.Set("fds", fds);
  o.Set("beforeMs", r.before_ms);
  o.Set("afterMs", r.after_ms);
  o.Set("beforeMonoMs", r.before_mono_ms);
  o.Set("afterMonoMs", r.after_mono_ms);
  return o;
}

// spawn(file, argv, envp, cwd|null, stdio: Int32Array(3), newGroup: 0|1|2 (2: new session), onExit) -> { pid, fds,
// beforeMs, afterMs, beforeMonoMs, afterMonoMs } or { err, step } (err: the errno). onExit is
// called once with { pid, err, code, signal, exitedAtMs, exitedAtMonoMs, rusage }.
Napi::Value Spawn(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ArgCheck a(info, "spawn");
  std::string file, cwd;
  std::vector<std::string> argv, envp;
  bool no_cwd = true;
  pp_view stdio;
  double group;
  if (!a.String(0, "file", false, &file) || !a.Strings(1, "argv", 1 << 20, &argv) || !a.Strings(2, "envp", 1 << 20, &envp) ||
      !a.String(3, "cwd", true, &cwd, &no_cwd) || !a.View(4, "stdio", napi_int32_array, 3, &stdio) ||
      !a.Integer(5, "newGroup", 0, 2, &group) || !a.Function(6, "onExit")) {
    return env.Undefined();
  }
  if (file.empty() || file[0] != '/') {
    a.Fail(true, "file", "an absolute path", info[0]);
    return env.Undefined();
  }
  pp_spawn_opts o = {};
  const int32_t* modes = (const int32_t*)stdio.data;
  for (int i = 0; i < 3; i++) {
    char what[16];
    snprintf(what, sizeof what, "stdio[%d]", i);
    if (!a.Within(what, modes[i], PP_STDIO_INHERIT, PP_STDIO_IGNORE, true)) return env.Undefined();
    o.stdio[i] = modes[i];
  }
  std::vector<char*> argp = Pointers(argv), envpp = Pointers(envp);
  o.file = file.c_str();
  o.argv = argp.data();
  o.envp = envpp.data();
  o.cwd = no_cwd ? nullptr : cwd.c_str();
  o.new_group = (int)group;
  if (!pp_spawn_supported()) return Failure(env, ENOSYS, PP_STEP_UNSUPPORTED);
  Waiter* w = new Waiter();
  w->fn = ExitFn::New(env, info[6].As<Napi::Function>(), "procprobe.spawn.exit", 0, 1);
  Handoff h;
  h.o = &o;
  w->h = &h;
  int rc = pp_thread_detached(WaitMain, w);
  if (rc != 0) {
    w->fn.Release();
    delete w;
    return Failure(env, rc, kStepThread);
  }
  // Blocks only for the spawn itself (posix_spawn returns at the child's exec, as when called here).
  {
    std::unique_lock<std::mutex> lock(h.mu);
    h.cv.wait(lock, [&h] { return h.done; });
  }
  if (h.r.err != 0) {
    w->fn.Release();
    delete w;
    return Failure(env, h.r.err, h.r.step);
  }
  return Success(env, h.r);
}

}  // namespace

// Called by the addon's constructor (addon.cc): adds spawn and spawnSupported to its exports.
void pp_define_spawn(Napi::Env env, Napi::Object exports) {
  exports.Set("spawn", Napi::Function::New(env, Spawn, "spawn"));
  exports.Set("spawnSupported", Napi::Boolean::New(env, pp_spawn_supported() != 0));
  // setChildSubreaper() -> 0 or an errno (spawn.h).
  exports.Set("setChildSubreaper", Napi::Function::New(env, [](const Napi::CallbackInfo& info) -> Napi::Value {
    return Napi::Number::New(info.Env(), pp_set_child_subreaper());
  }, "setChildSubreaper"));
}
