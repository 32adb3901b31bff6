// Argument checks for the N-API glue: every value JavaScript hands an addon function is read here,
// and a bad one becomes a typed JS error instead of a read or write outside the caller's memory.
//
// The error is a TypeError (wrong type) or RangeError (a number or length out of range) whose
// `code` is ERR_PROCPROBE_INVALID_OPTION and which carries procprobe's error brand (the registry
// symbol Symbol.for('procprobe.error'), see src/errors.ts): `instanceof InvalidOptionError` and
// `instanceof ProcprobeError` hold for it in every copy of the package, it keeps `option` and
// `value` like InvalidOptionError, and it crosses threads through errorData/rebuildError.
//
// No allocation on success: the hot-path calls (sampleInto, tick) check their arguments here on
// every sample. Only the error path builds strings and objects.
#ifndef PROCPROBE_ARGS_H_
#define PROCPROBE_ARGS_H_

#include <napi.h>
#include <stddef.h>
#include <stdint.h>

#include <string>
#include <vector>

// The longest a call may block its thread in C: a worker blocked in C cannot be terminated, so a
// sleep, a loop slice or a sampling interval longer than this is refused (the sampler uses 100 ms
// slices and intervals below 5 ms).
constexpr double kMaxBlockMs = 1000;

// A typed array argument: its memory and its length in elements, as N-API reports them (the
// engine's own length, not a JavaScript `length` getter that a subclass could override).
struct pp_view {
  void* data;
  size_t length;
};

class ArgCheck {
 public:
  // fn: the addon function's name, the prefix of every message ("runLoop: records must be ...").
  ArgCheck(const Napi::CallbackInfo& info, const char* fn) : info_(info), fn_(fn) {}

  // Argument i must be a typed array of `type` with at least min_length elements.
  bool View(size_t i, const char* name, napi_typedarray_type type, size_t min_length, pp_view* out);
  // Argument i must be a Number that is an integer in [min, max].
  bool Integer(size_t i, const char* name, double min, double max, double* out);
  // Argument i must be a Number in [min, max] (so never NaN).
  bool Number(size_t i, const char* name, double min, double max, double* out);
  // Argument i must be a string without NUL characters (a C string cannot hold one); when
  // `nullable`, null or undefined too (*is_null set). Used by spawn, not on the sampling path.
  bool String(size_t i, const char* name, bool nullable, std::string* out, bool* is_null = nullptr);
  // Argument i must be an array of such strings, at most `max` of them.
  bool Strings(size_t i, const char* name, uint32_t max, std::vector<std::string>* out);
  // Argument i must be a function.
  bool Function(size_t i, const char* name);
  // A value the caller passed inside an array (a layout word, a params cell): must lie in
  // [min, max], and be an integer when `integer`. `what` names it ("layout.stride").
  bool Within(const char* what, double value, double min, double max, bool integer);

  // Throw the typed error for `option`: "<fn>: <option> must be <expected>, got <describe(got)>".
  void Fail(bool range, const char* option, const char* expected, napi_value got);
  void FailNumber(bool range, const char* option, const char* expected, double got);

  Napi::Env Env() const { return info_.Env(); }

 private:
  bool CString(napi_value v, const char* name, std::string* out);
  bool Numeric(size_t i, const char* name, double min, double max, bool integer, double* out);

  const Napi::CallbackInfo& info_;
  const char* fn_;
};

#endif  // PROCPROBE_ARGS_H_
