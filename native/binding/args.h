// Argument conversion for the binding. Every check throws a JS error with a `code` property
// (ERR_ARGUMENT, ERR_SHAPE, ...) instead of letting bad input reach a kernel. The TypeScript layer
// validates first with friendlier messages; these checks are the second line.
#pragma once

#include <napi.h>

#include <cstddef>
#include <string>

#include "runtime/error.h"

namespace convkit::binding {

// Throws a JS Error whose `code` is the convkit error code name.
[[noreturn]] void throw_js(Napi::Env env, ErrorCode code, const std::string& message);

// Runs fn and converts any C++ exception into a JS exception with a code.
template <class Fn>
Napi::Value guarded(const Napi::CallbackInfo& info, Fn&& fn) {
  try {
    return fn();
  } catch (const Napi::Error&) {
    throw;
  } catch (const Error& e) {
    throw_js(info.Env(), e.code(), e.what());
  } catch (const std::bad_alloc&) {
    throw_js(info.Env(), ErrorCode::kOutOfMemory, "out of memory");
  } catch (const std::exception& e) {
    throw_js(info.Env(), ErrorCode::kInternal, e.what());
  }
}

void require_count(const Napi::CallbackInfo& info, size_t count, const char* fn);
bool arg_bool(const Napi::CallbackInfo& info, size_t i, const char* name);
double arg_number(const Napi::CallbackInfo& info, size_t i, const char* name);
// A non-negative integer that fits in size_t and in a double's exact range.
size_t arg_size(const Napi::CallbackInfo& info, size_t i, const char* name);
int arg_int(const Napi::CallbackInfo& info, size_t i, const char* name, int lo, int hi);
std::string arg_string(const Napi::CallbackInfo& info, size_t i, const char* name);
Napi::Float32Array arg_f32(const Napi::CallbackInfo& info, size_t i, const char* name);
bool arg_is_nullish(const Napi::CallbackInfo& info, size_t i);

// Checks that a rows x cols matrix with row stride ld starting at `offset` lies inside `array`.
void require_extent(Napi::Env env, const Napi::Float32Array& array, size_t offset, size_t rows, size_t cols,
                    size_t ld, const char* name);

}  // namespace convkit::binding
