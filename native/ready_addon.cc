// N-API glue of the readiness checks (ready.h), each on its own detached thread:
//   portWatch(host, port, intervalMs, onDone) -> handle; onDone({ ok, err, error, readyAtMonoMs,
//     attempts }) once, when a connect succeeded or after readyStop(handle)
//   pipeRead(fd, onChunk) -> handle; onChunk(bytes: Buffer, readAtMonoMs) per read, then
//     onChunk(null, atMonoMs, errno) once at the end (EOF: errno 0) or after readyStop(handle);
//     the reader owns fd from the call on and closes it at the end
//   readyStop(handle): either one stops (idempotent)
//   readySupported: whether both work here
//
// A handle is an External holding one reference to the state its thread holds the other: the
// thread may finish first (the state lives on until the handle is collected) or the handle may be
// dropped first (the thread runs on to its end). Stopping only sets an atomic word the thread
// reads between attempts or reads (at most 10 ms / 100 ms later).
//
// The thread-safe functions are referenced while their thread runs, like a socket or a timer: a
// port being polled or a pipe being read keeps the event loop alive. pipeRead's queue holds 16
// chunks: a main thread that falls behind makes the reader wait, and the command then blocks on
// its full pipe, as with any pipe nobody reads.
#include <errno.h>
#include <napi.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <memory>
#include <string>

#include "args.h"
#include "ready.h"
#include "spawn.h"
#include "timing.h"

namespace {

// What a handle reaches: the stop word its thread reads. Both kinds derive from it, and the
// External is type-tagged, so a stop call can never reinterpret some other External.
struct Stoppable {
  std::atomic<int> stop{0};
  virtual ~Stoppable() = default;
};
using StopRef = std::shared_ptr<Stoppable>;
constexpr napi_type_tag kHandleTag = {0x70726f6370726f62ULL, 0x72656164792d6831ULL};

// ---- the port ----

struct PortWatch;
void CallPortDone(Napi::Env env, Napi::Function cb, void* ctx, PortWatch* w);
using PortFn = Napi::TypedThreadSafeFunction<void, PortWatch, CallPortDone>;

struct PortWatch : Stoppable {
  std::string host;
  int port = 0;
  double interval_ms = 0.5;
  pp_port_result r;
  PortFn fn;
};
using PortRef = std::shared_ptr<PortWatch>;

void CallPortDone(Napi::Env env, Napi::Function cb, void*, PortWatch* w) {
  if ((napi_env)env == nullptr || (napi_value)cb == nullptr) return;
  Napi::Object o = Napi::Object::New(env);
  o.Set("ok", w->r.ok != 0);
  o.Set("err", w->r.err);
  o.Set("error", w->r.error);
  o.Set("readyAtMonoMs", w->r.ready_mono_ms);
  o.Set("attempts", w->r.attempts);
  cb.Call({o});
}

void* PortMain(void* arg) {
  PortRef* held = (PortRef*)arg;
  PortWatch* w = held->get();
  pp_thread_tune();  // 0.5 ms deadlines: the default 50 µs timer slack would be a tenth of one
  pp_port_poll(w->host.c_str(), w->port, w->interval_ms, &w->stop, &w->r);
  PortFn fn = w->fn;
  fn.BlockingCall(w);  // napi_closing: the env is gone, nobody to tell
  fn.Release();
  delete held;  // after the call: CallPortDone reads *w on the JavaScript thread
  return nullptr;
}

Napi::Value Handle(Napi::Env env, const StopRef& ref) {
  auto h = Napi::External<StopRef>::New(env, new StopRef(ref), [](Napi::Env, StopRef* p) { delete p; });
  napi_type_tag_object(env, h, &kHandleTag);
  return h;
}

// Starts the thread with its own reference; on failure the caller reports the errno.
template <typename T>
int Start(void* (*fn)(void*), const std::shared_ptr<T>& ref) {  // T: PortWatch or PipeReader
  auto* held = new std::shared_ptr<T>(ref);
  int rc = pp_thread_detached(fn, held);
  if (rc != 0) delete held;
  return rc;
}

Napi::Value PortWatchStart(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ArgCheck a(info, "portWatch");
  std::string host;
  double port, interval;
  if (!a.String(0, "host", false, &host) || !a.Integer(1, "port", 1, 65535, &port) || !a.Number(2, "intervalMs", 0.05, kMaxBlockMs, &interval) ||
      !a.Function(3, "onDone")) {
    return env.Undefined();
  }
  PortRef w = std::make_shared<PortWatch>();
  w->host = host;
  w->port = (int)port;
  w->interval_ms = interval;
  w->fn = PortFn::New(env, info[3].As<Napi::Function>(), "procprobe.ready.port", 0, 1);
  int rc = Start(PortMain, w);
  if (rc != 0) {
    w->fn.Release();
    return Napi::Number::New(env, -rc);
  }
  return Handle(env, w);
}

// ---- the pipe ----

struct PipeReader;
struct Chunk {
  char* data;  // null: the end
  long n;
  double at_mono_ms;
  int err;
};
void CallChunk(Napi::Env env, Napi::Function cb, PipeReader* r, Chunk* c);
using ChunkFn = Napi::TypedThreadSafeFunction<PipeReader, Chunk, CallChunk>;

struct PipeReader : Stoppable {
  int fd = -1;
  ChunkFn fn;
};
using PipeRef = std::shared_ptr<PipeReader>;

constexpr size_t kChunkBytes = 64 * 1024;
constexpr double kStopCheckMs = 100;

void CallChunk(Napi::Env env, Napi::Function cb, PipeReader*, Chunk* c) {
  if ((napi_env)env != nullptr && (napi_value)cb != nullptr) {
    Napi::Value bytes = c->data ? (Napi::Value)Napi::Buffer<char>::Copy(env, c->data, (size_t)c->n) : env.Null();
    cb.Call({bytes, Napi::Number::New(env, c->at_mono_ms), Napi::Number::New(env, c->err)});
  }
  free(c->data);
  delete c;
}

void* PipeMain(void* arg) {
  PipeRef* held = (PipeRef*)arg;
  PipeReader* r = held->get();
  char* buf = (char*)malloc(kChunkBytes);
  ChunkFn fn = r->fn;
  int err = buf ? 0 : ENOMEM;
  double at = pp_monotonic_ms();
  while (buf && r->stop.load() == 0) {
    long n = pp_pipe_read(r->fd, buf, kChunkBytes, kStopCheckMs, &at);
    if (n == -2) continue;
    if (n <= 0) {
      err = n < 0 ? errno : 0;
      at = pp_monotonic_ms();
      break;
    }
    char* copy = (char*)malloc((size_t)n);
    if (copy == nullptr) {
      err = ENOMEM;
      break;
    }
    memcpy(copy, buf, (size_t)n);
    Chunk* c = new Chunk{copy, n, at, 0};
    if (fn.BlockingCall(c) != napi_ok) {
      free(copy);
      delete c;
      break;
    }
  }
  free(buf);
  close(r->fd);
  Chunk* end = new Chunk{nullptr, 0, at, err};
  if (fn.BlockingCall(end) != napi_ok) delete end;
  fn.Release();
  delete held;
  return nullptr;
}

Napi::Value PipeReadStart(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ArgCheck a(info, "pipeRead");
  double fd;
  if (!a.Integer(0, "fd", 0, 1 << 30, &fd) || !a.Function(1, "onChunk")) return env.Undefined();
  PipeRef r = std::make_shared<PipeReader>();
  r->fd = (int)fd;
  r->fn = ChunkFn::New(env, info[1].As<Napi::Function>(), "procprobe.ready.pipe", 16, 1, r.get());
  int rc = Start(PipeMain, r);
  if (rc != 0) {
    r->fn.Release();
    return Napi::Number::New(env, -rc);
  }
  return Handle(env, r);
}

// readyStop(handle) for either kind: sets its stop word; idempotent.
Napi::Value Stop(const Napi::CallbackInfo& info) {
  bool tagged = false;
  if (info.Length() >= 1 && info[0].IsExternal()) napi_check_object_type_tag(info.Env(), info[0], &kHandleTag, &tagged);
  if (!tagged) {
    ArgCheck(info, "readyStop").Fail(false, "handle", "a handle from portWatch or pipeRead", info.Length() >= 1 ? (napi_value)info[0] : (napi_value)info.Env().Undefined());
    return info.Env().Undefined();
  }
  info[0].As<Napi::External<StopRef>>().Data()->get()->stop.store(1);
  return info.Env().Undefined();
}

}  // namespace

// Called by the addon's constructor (addon.cc).
void pp_define_ready(Napi::Env env, Napi::Object exports) {
  exports.Set("readySupported", Napi::Boolean::New(env, pp_ready_supported() != 0 && pp_spawn_supported() != 0));
  exports.Set("portWatch", Napi::Function::New(env, PortWatchStart, "portWatch"));
  exports.Set("pipeRead", Napi::Function::New(env, PipeReadStart, "pipeRead"));
  exports.Set("readyStop", Napi::Function::New(env, Stop, "readyStop"));
}
