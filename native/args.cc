// Argument checks and the typed errors of the N-API glue (see args.h).
#include "args.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

namespace {

constexpr const char* kCode = "ERR_PROCPROBE_INVALID_OPTION";

const char* TypedArrayName(napi_typedarray_type t) {
  switch (t) {
    case napi_int8_array: return "Int8Array";
    case napi_uint8_array: return "Uint8Array";
    case napi_uint8_clamped_array: return "Uint8ClampedArray";
    case napi_int16_array: return "Int16Array";
    case napi_uint16_array: return "Uint16Array";
    case napi_int32_array: return "Int32Array";
    case napi_uint32_array: return "Uint32Array";
    case napi_float32_array: return "Float32Array";
    case napi_float64_array: return "Float64Array";
    case napi_bigint64_array: return "BigInt64Array";
    case napi_biguint64_array: return "BigUint64Array";
    default: return "typed array";
  }
}

// "a Float64Array", "an Int32Array".
const char* Article(const char* name) { return name[0] == 'I' ? "an" : "a"; }

size_t ElementSize(napi_typedarray_type t) {
  switch (t) {
    case napi_int16_array: case napi_uint16_array: return 2;
    case napi_int32_array: case napi_uint32_array: case napi_float32_array: return 4;
    case napi_float64_array: case napi_bigint64_array: case napi_biguint64_array: return 8;
    default: return 1;
  }
}

// A bound in a message, as JavaScript would print it: the shortest of 15 to 17 digits that reads
// back as the same double (838395.912146, not 838395.91214599996); INFINITY as "Infinity".
const char* Num(double d, char* out, size_t n) {
  if (isinf(d)) {
    snprintf(out, n, "%sInfinity", d < 0 ? "-" : "");
    return out;
  }
  for (int digits = 15; digits <= 17; digits++) {
    snprintf(out, n, "%.*g", digits, d);
    if (strtod(out, nullptr) == d) break;
  }
  return out;
}

// A JS primitive as String(v) writes it (numbers: "NaN", "1e+300"). Primitives only: String() of
// a symbol throws, and an object's toString is the caller's code.
void Stringify(napi_env env, napi_value v, char* out, size_t n) {
  napi_value s;
  size_t len = 0;
  out[0] = '\0';
  if (napi_coerce_to_string(env, v, &s) == napi_ok) napi_get_value_string_utf8(env, s, out, n, &len);
}

// What a bad argument was, as describe() in src/errors.ts words it, plus the kind and length of a
// typed array (the usual mistake here).
void Describe(napi_env env, napi_value v, char* out, size_t n) {
  napi_valuetype t = napi_undefined;
  if (v == nullptr || napi_typeof(env, v, &t) != napi_ok) t = napi_undefined;
  char text[48];
  bool is = false;
  switch (t) {
    case napi_string: {
      size_t len = 0;
      napi_get_value_string_utf8(env, v, text, sizeof text, &len);
      snprintf(out, n, "\"%s%s\"", text, len + 1 >= sizeof text ? "..." : "");
      return;
    }
    case napi_bigint:
      Stringify(env, v, text, sizeof text);
      snprintf(out, n, "%sn", text);
      return;
    case napi_symbol: snprintf(out, n, "a symbol"); return;
    case napi_function: snprintf(out, n, "a function"); return;
    case napi_external: snprintf(out, n, "an external"); return;
    case napi_object:
      if (napi_is_typedarray(env, v, &is) == napi_ok && is) {
        napi_typedarray_type kind;
        size_t length = 0;
        napi_get_typedarray_info(env, v, &kind, &length, nullptr, nullptr, nullptr);
        snprintf(out, n, "%s %s of %zu elements", Article(TypedArrayName(kind)), TypedArrayName(kind), length);
      } else if (napi_is_array(env, v, &is) == napi_ok && is) {
        snprintf(out, n, "an array");
      } else {
        snprintf(out, n, "an object");
      }
      return;
    default:  // undefined, null, boolean, number
      Stringify(env, v, out, n);
  }
}

// Symbol.for('procprobe.error'), looked up on the error path only; nullptr if the global Symbol
// was tampered with (the error then still has its code, only without the brand).
napi_value Brand(napi_env env) {
  napi_value global, symbol, fn, key, result;
  napi_valuetype t = napi_undefined;
  bool ok = napi_get_global(env, &global) == napi_ok && napi_get_named_property(env, global, "Symbol", &symbol) == napi_ok &&
            napi_get_named_property(env, symbol, "for", &fn) == napi_ok &&
            napi_create_string_utf8(env, "procprobe.error", NAPI_AUTO_LENGTH, &key) == napi_ok &&
            napi_call_function(env, symbol, fn, 1, &key, &result) == napi_ok && napi_typeof(env, result, &t) == napi_ok &&
            t == napi_symbol;
  bool pending = false;
  if (napi_is_exception_pending(env, &pending) == napi_ok && pending) {
    napi_value ignored;
    napi_get_and_clear_last_exception(env, &ignored);
  }
  return ok ? result : nullptr;
}

}  // namespace

void ArgCheck::Fail(bool range, const char* option, const char* expected, napi_value got) {
  napi_env env = info_.Env();
  char full[160], what[160], message[512];
  snprintf(full, sizeof full, "%s: %s", fn_, option);
  Describe(env, got, what, sizeof what);
  // InvalidOptionError's wording: "<option> must be <expected>, got <value>".
  snprintf(message, sizeof message, "%s must be %s, got %s", full, expected, what);
  napi_value code, msg, err, name, brand, yes;
  napi_create_string_utf8(env, kCode, NAPI_AUTO_LENGTH, &code);
  napi_create_string_utf8(env, message, NAPI_AUTO_LENGTH, &msg);
  if ((range ? napi_create_range_error(env, code, msg, &err) : napi_create_type_error(env, code, msg, &err)) != napi_ok) {
    napi_throw_error(env, kCode, message);
    return;
  }
  napi_create_string_utf8(env, full, NAPI_AUTO_LENGTH, &name);
  napi_set_named_property(env, err, "option", name);
  if (got == nullptr) napi_get_undefined(env, &got);
  napi_set_named_property(env, err, "value", got);
  brand = Brand(env);
  if (brand != nullptr && napi_get_boolean(env, true, &yes) == napi_ok) napi_set_property(env, err, brand, yes);
  napi_throw(env, err);
}

void ArgCheck::FailNumber(bool range, const char* option, const char* expected, double got) {
  napi_value v = nullptr;
  napi_create_double(info_.Env(), got, &v);
  Fail(range, option, expected, v);
}

bool ArgCheck::View(size_t i, const char* name, napi_typedarray_type type, size_t min_length, pp_view* out) {
  napi_env env = info_.Env();
  napi_value v = info_[i];
  bool is = false;
  napi_typedarray_type kind;
  char expected[96];  // written on the error path only: this runs on every sample
  const char* kind_name = TypedArrayName(type);
  if (napi_is_typedarray(env, v, &is) != napi_ok || !is ||
      napi_get_typedarray_info(env, v, &kind, &out->length, &out->data, nullptr, nullptr) != napi_ok || kind != type) {
    snprintf(expected, sizeof expected, "%s %s", Article(kind_name), kind_name);
    Fail(false, name, expected, v);
    return false;
  }
  if (out->length < min_length) {
    snprintf(expected, sizeof expected, "%s %s of at least %zu elements", Article(kind_name), kind_name, min_length);
    Fail(true, name, expected, v);
    return false;
  }
  // The engine aligns a typed array to its element size (its byteOffset must be a multiple of
  // it); the atomics on header words rely on that, so it is checked rather than assumed.
  if (out->length > 0 && (uintptr_t)out->data % ElementSize(type) != 0) {
    Fail(true, name, "aligned to its element size", v);
    return false;
  }
  return true;
}

// Number and Integer: one check, the message naming which was expected.
bool ArgCheck::Numeric(size_t i, const char* name, double min, double max, bool integer, double* out) {
  napi_value v = info_[i];
  const char* kind = integer ? "an integer" : "a number";
  if (!info_[i].IsNumber()) {
    Fail(false, name, kind, v);
    return false;
  }
  double d = info_[i].As<Napi::Number>().DoubleValue();
  if (!(d >= min && d <= max) || (integer && d != floor(d))) {
    char expected[96];
    char lo[32], hi[32];
    snprintf(expected, sizeof expected, "%s from %s to %s", kind, Num(min, lo, sizeof lo), Num(max, hi, sizeof hi));
    Fail(true, name, expected, v);
    return false;
  }
  *out = d;
  return true;
}

bool ArgCheck::Number(size_t i, const char* name, double min, double max, double* out) {
  return Numeric(i, name, min, max, false, out);
}

bool ArgCheck::Integer(size_t i, const char* name, double min, double max, double* out) {
  return Numeric(i, name, min, max, true, out);
}

bool ArgCheck::Within(const char* what, double value, double min, double max, bool integer) {
  if (value >= min && value <= max && (!integer || value == floor(value))) return true;
  char expected[96];
  char lo[32], hi[32];
  snprintf(expected, sizeof expected, "%s from %s to %s", integer ? "an integer" : "a number", Num(min, lo, sizeof lo),
           Num(max, hi, sizeof hi));
  FailNumber(true, what, expected, value);
  return false;
}

bool ArgCheck::CString(napi_value v, const char* name, std::string* out) {
  Napi::Value value(info_.Env(), v);
  if (!value.IsString()) {
    Fail(false, name, "a string", v);
    return false;
  }
  *out = value.As<Napi::String>().Utf8Value();
  if (out->find('\0') != std::string::npos) {
    Fail(true, name, "a string without NUL characters", v);
    return false;
  }
  return true;
}

bool ArgCheck::String(size_t i, const char* name, bool nullable, std::string* out, bool* is_null) {
  bool none = info_[i].IsNull() || info_[i].IsUndefined();
  if (is_null != nullptr) *is_null = nullable && none;
  if (nullable && none) return true;
  return CString(info_[i], name, out);
}

bool ArgCheck::Strings(size_t i, const char* name, uint32_t max, std::vector<std::string>* out) {
  if (!info_[i].IsArray()) {
    Fail(false, name, "an array of strings", info_[i]);
    return false;
  }
  Napi::Array list = info_[i].As<Napi::Array>();
  uint32_t n = list.Length();
  if (n > max) {
    char expected[64];
    snprintf(expected, sizeof expected, "an array of at most %u strings", max);
    Fail(true, name, expected, info_[i]);
    return false;
  }
  out->resize(n);
  for (uint32_t k = 0; k < n; k++) {
    napi_value item;
    if (napi_get_element(info_.Env(), list, k, &item) != napi_ok) return false;  // a throwing getter: its error is pending
    char what[96];
    snprintf(what, sizeof what, "%s[%u]", name, k);
    if (!CString(item, what, &(*out)[k])) return false;
  }
  return true;
}

bool ArgCheck::Function(size_t i, const char* name) {
  if (info_[i].IsFunction()) return true;
  Fail(false, name, "a function", info_[i]);
  return false;
}
