#include "binding/args.h"

#include <cmath>

namespace convkit::binding {

void throw_js(Napi::Env env, ErrorCode code, const std::string& message) {
  Napi::Error err = Napi::Error::New(env, message);
  err.Set("code", Napi::String::New(env, error_code_name(code)));
  throw err;
}

void require_count(const Napi::CallbackInfo& info, size_t count, const char* fn) {
  if (info.Length() < count) {
    throw_js(info.Env(), ErrorCode::kArgument,
             std::string(fn) + ": expected " + std::to_string(count) + " arguments, received " +
                 std::to_string(info.Length()));
  }
}

bool arg_bool(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (!info[i].IsBoolean()) throw_js(info.Env(), ErrorCode::kArgument, std::string("Expected boolean for ") + name);
  return info[i].As<Napi::Boolean>().Value();
}

double arg_number(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (!info[i].IsNumber()) throw_js(info.Env(), ErrorCode::kArgument, std::string("Expected number for ") + name);
  const double v = info[i].As<Napi::Number>().DoubleValue();
  if (!std::isfinite(v)) throw_js(info.Env(), ErrorCode::kArgument, std::string("Expected finite number for ") + name);
  return v;
}

size_t arg_size(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (!info[i].IsNumber()) {
    throw_js(info.Env(), ErrorCode::kArgument, std::string("Expected non-negative integer for ") + name);
  }
  const double v = info[i].As<Napi::Number>().DoubleValue();
  if (!(v >= 0.0) || v != std::floor(v) || v > 9007199254740991.0) {
    throw_js(info.Env(), ErrorCode::kArgument,
             std::string("Expected non-negative integer for ") + name + " but received " + std::to_string(v));
  }
  return static_cast<size_t>(v);
}

int arg_int(const Napi::CallbackInfo& info, size_t i, const char* name, int lo, int hi) {
  const size_t v = arg_size(info, i, name);
  if (v < static_cast<size_t>(lo) || v > static_cast<size_t>(hi)) {
    throw_js(info.Env(), ErrorCode::kArgument,
             std::string("Expected integer in ") + std::to_string(lo) + ".." + std::to_string(hi) + " for " + name +
                 " but received " + std::to_string(v));
  }
  return static_cast<int>(v);
}

std::string arg_string(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (!info[i].IsString()) throw_js(info.Env(), ErrorCode::kArgument, std::string("Expected string for ") + name);
  return info[i].As<Napi::String>().Utf8Value();
}

Napi::Float32Array arg_f32(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (!info[i].IsTypedArray() || info[i].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
    throw_js(info.Env(), ErrorCode::kArgument, std::string("Expected Float32Array for ") + name);
  }
  return info[i].As<Napi::Float32Array>();
}

bool arg_is_nullish(const Napi::CallbackInfo& info, size_t i) {
  return i >= info.Length() || info[i].IsNull() || info[i].IsUndefined();
}

void require_extent(Napi::Env env, const Napi::Float32Array& array, size_t offset, size_t rows, size_t cols,
                    size_t ld, const char* name) {
  const size_t length = array.ElementLength();
  if (rows == 0 || cols == 0) {
    if (offset > length) throw_js(env, ErrorCode::kShape, std::string(name) + ": offset past the end of the array");
    return;
  }
  // Last element read is offset + (rows - 1) * ld + cols - 1; compute without overflow.
  const size_t max_size = static_cast<size_t>(-1);
  if (ld != 0 && rows - 1 > (max_size - cols) / ld) {
    throw_js(env, ErrorCode::kShape, std::string(name) + ": extent overflows");
  }
  const size_t extent = (rows - 1) * ld + cols;
  if (offset > length || extent > length - offset) {
    throw_js(env, ErrorCode::kShape,
             std::string(name) + ": a " + std::to_string(rows) + " x " + std::to_string(cols) +
                 " matrix with row stride " + std::to_string(ld) + " at offset " + std::to_string(offset) +
                 " needs " + std::to_string(extent) + " elements, the array has " +
                 std::to_string(length > offset ? length - offset : 0) + " after the offset");
  }
}

}  // namespace convkit::binding
