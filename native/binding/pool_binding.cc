// Entry points of the pool family (see exports.h): max, average and adaptive pooling, forward and
// backward. Geometry arrives as a plain object ({ planes, in: [D, H, W], kernel, stride, padding,
// dilation, ceilMode } or { planes, in, out } for adaptive pooling); every field and every buffer
// length is checked here again, so no call from JS can read or write outside its arrays.
#include <cstdint>
#include <string>

#if defined(__linux__)
#include <sys/mman.h>
#endif

#include "binding/args.h"
#include "binding/exports.h"
#include "runtime/memory.h"
#include "kernels/pool.h"

namespace convkit::binding {
namespace {

constexpr double kMaxSafe = 9007199254740991.0;


size_t field_size(Napi::Env env, const Napi::Object& obj, const char* name) {
  Napi::Value v = obj.Get(name);
  const double d = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : -1.0;
  if (!(d >= 0.0) || d != static_cast<double>(static_cast<int64_t>(d)) || d > kMaxSafe) {
    throw_js(env, ErrorCode::kArgument, std::string("Expected non-negative integer for geometry.") + name);
  }
  return static_cast<size_t>(d);
}

void field_triple(Napi::Env env, const Napi::Object& obj, const char* name, size_t out[3]) {
  Napi::Value v = obj.Get(name);
  if (!v.IsArray() || v.As<Napi::Array>().Length() != 3) {
    throw_js(env, ErrorCode::kArgument, std::string("Expected an array of 3 integers for geometry.") + name);
  }
  Napi::Array arr = v.As<Napi::Array>();
  for (uint32_t i = 0; i < 3; ++i) {
    Napi::Value e = arr.Get(i);
    const double d = e.IsNumber() ? e.As<Napi::Number>().DoubleValue() : -1.0;
    if (!(d >= 0.0) || d != static_cast<double>(static_cast<int64_t>(d)) || d > kMaxSafe) {
      throw_js(env, ErrorCode::kArgument, std::string("Expected an array of 3 integers for geometry.") + name);
    }
    out[i] = static_cast<size_t>(d);
  }
}

Napi::Object arg_object(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (!info[i].IsObject() || info[i].IsArray()) {
    throw_js(info.Env(), ErrorCode::kArgument, std::string("Expected object for ") + name);
  }
  return info[i].As<Napi::Object>();
}

Napi::Int32Array arg_i32(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (!info[i].IsTypedArray() || info[i].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) {
    throw_js(info.Env(), ErrorCode::kArgument, std::string("Expected Int32Array for ") + name);
  }
  return info[i].As<Napi::Int32Array>();
}

// planes * plane without overflow.
size_t total(Napi::Env env, size_t planes, size_t plane) {
  size_t n = 0;
  if (__builtin_mul_overflow(planes, plane, &n)) throw_js(env, ErrorCode::kShape, "pooling: tensor size overflows");
  return n;
}

void require_length(Napi::Env env, size_t have, size_t want, const char* name) {
  if (have != want) {
    throw_js(env, ErrorCode::kShape, std::string(name) + ": expected " + std::to_string(want) +
                                         " elements, the array has " + std::to_string(have));
  }
}

PoolGeometry pool_geometry(const Napi::CallbackInfo& info, size_t i, const char* op) {
  Napi::Env env = info.Env();
  Napi::Object obj = arg_object(info, i, "geometry");
  PoolGeometry g{};
  g.planes = field_size(env, obj, "planes");
  field_triple(env, obj, "in", g.in);
  field_triple(env, obj, "kernel", g.kernel);
  field_triple(env, obj, "stride", g.stride);
  field_triple(env, obj, "padding", g.padding);
  field_triple(env, obj, "dilation", g.dilation);
  Napi::Value ceil = obj.Get("ceilMode");
  if (!ceil.IsBoolean()) throw_js(env, ErrorCode::kArgument, "Expected boolean for geometry.ceilMode");
  g.ceil_mode = ceil.As<Napi::Boolean>().Value();
  make_pool_geometry(g, op);
  return g;
}

AdaptivePoolGeometry adaptive_geometry(const Napi::CallbackInfo& info, size_t i, const char* op) {
  Napi::Env env = info.Env();
  Napi::Object obj = arg_object(info, i, "geometry");
  AdaptivePoolGeometry g{};
  g.planes = field_size(env, obj, "planes");
  field_triple(env, obj, "in", g.in);
  field_triple(env, obj, "out", g.out);
  check_adaptive_pool(g, op);
  return g;
}

AvgPoolOptions avg_options(const Napi::CallbackInfo& info, size_t i) {
  AvgPoolOptions o{};
  o.count_include_pad = arg_bool(info, i, "countIncludePad");
  o.divisor_override = static_cast<int64_t>(arg_int(info, i + 1, "divisorOverride", 0, 2147483647));
  return o;
}

// _maxPoolForward(x, geometry, y, indices | null)
Napi::Value max_pool_forward_js(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    require_count(info, 4, "_maxPoolForward");
    Napi::Float32Array x = arg_f32(info, 0, "x");
    const PoolGeometry g = pool_geometry(info, 1, "max_pool");
    Napi::Float32Array y = arg_f32(info, 2, "y");
    require_length(env, x.ElementLength(), total(env, g.planes, pool_in_plane(g)), "x");
    require_length(env, y.ElementLength(), total(env, g.planes, pool_out_plane(g)), "y");
    int32_t* indices = nullptr;
    if (!arg_is_nullish(info, 3)) {
      Napi::Int32Array idx = arg_i32(info, 3, "indices");
      require_length(env, idx.ElementLength(), y.ElementLength(), "indices");
      indices = idx.Data();
    }
    advise_huge_pages(y.Data(), y.ByteLength());
    if (indices != nullptr) advise_huge_pages(indices, y.ElementLength() * sizeof(int32_t));
    max_pool_forward(g, x.Data(), y.Data(), indices);
    return env.Undefined();
  });
}

// _indexPoolBackward(gy, indices, planes, inPlane, outPlane, gx): gx = scatter of gy through indices.
Napi::Value index_pool_backward_js(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    require_count(info, 6, "_indexPoolBackward");
    Napi::Float32Array gy = arg_f32(info, 0, "gy");
    Napi::Int32Array idx = arg_i32(info, 1, "indices");
    const size_t planes = arg_size(info, 2, "planes");
    const size_t in_plane = arg_size(info, 3, "inPlane");
    const size_t out_plane = arg_size(info, 4, "outPlane");
    Napi::Float32Array gx = arg_f32(info, 5, "gx");
    require_length(env, gy.ElementLength(), total(env, planes, out_plane), "gy");
    require_length(env, idx.ElementLength(), gy.ElementLength(), "indices");
    require_length(env, gx.ElementLength(), total(env, planes, in_plane), "gx");
    advise_huge_pages(gx.Data(), gx.ByteLength());
    index_pool_backward(planes, in_plane, out_plane, gy.Data(), idx.Data(), gx.Data());
    return env.Undefined();
  });
}

// _avgPoolForward(x, geometry, countIncludePad, divisorOverride, y)
Napi::Value avg_pool_forward_js(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    require_count(info, 5, "_avgPoolForward");
    Napi::Float32Array x = arg_f32(info, 0, "x");
    const PoolGeometry g = pool_geometry(info, 1, "avg_pool");
    const AvgPoolOptions o = avg_options(info, 2);
    Napi::Float32Array y = arg_f32(info, 4, "y");
    require_length(env, x.ElementLength(), total(env, g.planes, pool_in_plane(g)), "x");
    require_length(env, y.ElementLength(), total(env, g.planes, pool_out_plane(g)), "y");
    advise_huge_pages(y.Data(), y.ByteLength());
    avg_pool_forward(g, o, x.Data(), y.Data());
    return env.Undefined();
  });
}

// _avgPoolBackward(gy, geometry, countIncludePad, divisorOverride, gx)
Napi::Value avg_pool_backward_js(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    require_count(info, 5, "_avgPoolBackward");
    Napi::Float32Array gy = arg_f32(info, 0, "gy");
    const PoolGeometry g = pool_geometry(info, 1, "avg_pool");
    const AvgPoolOptions o = avg_options(info, 2);
    Napi::Float32Array gx = arg_f32(info, 4, "gx");
    require_length(env, gy.ElementLength(), total(env, g.planes, pool_out_plane(g)), "gy");
    require_length(env, gx.ElementLength(), total(env, g.planes, pool_in_plane(g)), "gx");
    advise_huge_pages(gx.Data(), gx.ByteLength());
    avg_pool_backward(g, o, gy.Data(), gx.Data());
    return env.Undefined();
  });
}

size_t adaptive_in(const AdaptivePoolGeometry& g) { return g.in[0] * g.in[1] * g.in[2]; }
size_t adaptive_out(const AdaptivePoolGeometry& g) { return g.out[0] * g.out[1] * g.out[2]; }

// _adaptiveAvgPoolForward(x, geometry, y)
Napi::Value adaptive_avg_forward_js(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    require_count(info, 3, "_adaptiveAvgPoolForward");
    Napi::Float32Array x = arg_f32(info, 0, "x");
    const AdaptivePoolGeometry g = adaptive_geometry(info, 1, "adaptive_avg_pool");
    Napi::Float32Array y = arg_f32(info, 2, "y");
    require_length(env, x.ElementLength(), total(env, g.planes, adaptive_in(g)), "x");
    require_length(env, y.ElementLength(), total(env, g.planes, adaptive_out(g)), "y");
    adaptive_avg_pool_forward(g, x.Data(), y.Data());
    return env.Undefined();
  });
}

// _adaptiveAvgPoolBackward(gy, geometry, gx)
Napi::Value adaptive_avg_backward_js(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    require_count(info, 3, "_adaptiveAvgPoolBackward");
    Napi::Float32Array gy = arg_f32(info, 0, "gy");
    const AdaptivePoolGeometry g = adaptive_geometry(info, 1, "adaptive_avg_pool");
    Napi::Float32Array gx = arg_f32(info, 2, "gx");
    require_length(env, gy.ElementLength(), total(env, g.planes, adaptive_out(g)), "gy");
    require_length(env, gx.ElementLength(), total(env, g.planes, adaptive_in(g)), "gx");
    adaptive_avg_pool_backward(g, gy.Data(), gx.Data());
    return env.Undefined();
  });
}

// _adaptiveMaxPoolForward(x, geometry, y, indices | null)
Napi::Value adaptive_max_forward_js(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    require_count(info, 4, "_adaptiveMaxPoolForward");
    Napi::Float32Array x = arg_f32(info, 0, "x");
    const AdaptivePoolGeometry g = adaptive_geometry(info, 1, "adaptive_max_pool");
    Napi::Float32Array y = arg_f32(info, 2, "y");
    require_length(env, x.ElementLength(), total(env, g.planes, adaptive_in(g)), "x");
    require_length(env, y.ElementLength(), total(env, g.planes, adaptive_out(g)), "y");
    int32_t* indices = nullptr;
    if (!arg_is_nullish(info, 3)) {
      Napi::Int32Array idx = arg_i32(info, 3, "indices");
      require_length(env, idx.ElementLength(), y.ElementLength(), "indices");
      indices = idx.Data();
    }
    adaptive_max_pool_forward(g, x.Data(), y.Data(), indices);
    return env.Undefined();
  });
}

}  // namespace

void register_pool(Napi::Env env, Napi::Object exports) {
  exports.Set("_maxPoolForward", Napi::Function::New(env, max_pool_forward_js, "_maxPoolForward"));
  exports.Set("_indexPoolBackward", Napi::Function::New(env, index_pool_backward_js, "_indexPoolBackward"));
  exports.Set("_avgPoolForward", Napi::Function::New(env, avg_pool_forward_js, "_avgPoolForward"));
  exports.Set("_avgPoolBackward", Napi::Function::New(env, avg_pool_backward_js, "_avgPoolBackward"));
  exports.Set("_adaptiveAvgPoolForward", Napi::Function::New(env, adaptive_avg_forward_js, "_adaptiveAvgPoolForward"));
  exports.Set("_adaptiveAvgPoolBackward",
              Napi::Function::New(env, adaptive_avg_backward_js, "_adaptiveAvgPoolBackward"));
  exports.Set("_adaptiveMaxPoolForward", Napi::Function::New(env, adaptive_max_forward_js, "_adaptiveMaxPoolForward"));
}

}  // namespace convkit::binding
