// Entry points of the convolution family (see exports.h and native/kernels/conv.h).
//
//   _convForward(x, w, bias | null, y, params, activation /* 0 none, 1 ReLU, 2 ReLU6 */)
//   _convBackwardData(dy, w, dx, params)
//   _convBackwardWeight(x, dy, dw, dbias | null, params)
//
// params: [batch, inChannels, outChannels, groups, in[3], out[3], kernel[3], stride[3], padBegin[3],
// padEnd[3], dilation[3]] (25 integers, spatial axes d, h, w; lower ranks use leading 1s).
#include <string>

#include "binding/args.h"
#include "binding/exports.h"
#include "kernels/conv.h"
#include "runtime/memory.h"

namespace convkit::binding {
namespace {

constexpr size_t kParamCount = 25;

ConvParams read_params(const Napi::CallbackInfo& info, size_t i) {
  Napi::Env env = info.Env();
  if (!info[i].IsArray()) throw_js(env, ErrorCode::kArgument, "Expected an array of 25 integers for conv params");
  Napi::Array a = info[i].As<Napi::Array>();
  if (a.Length() != kParamCount) {
    throw_js(env, ErrorCode::kArgument,
             "conv params: expected 25 integers, received " + std::to_string(a.Length()));
  }
  size_t v[kParamCount];
  for (uint32_t k = 0; k < kParamCount; ++k) {
    Napi::Value e = a.Get(k);
    const double d = e.IsNumber() ? e.As<Napi::Number>().DoubleValue() : -1.0;
    if (!(d >= 0.0) || d != static_cast<double>(static_cast<uint64_t>(d)) || d > 2147483647.0) {
      throw_js(env, ErrorCode::kArgument, "conv params: entry " + std::to_string(k) + " is not a non-negative integer");
    }
    v[k] = static_cast<size_t>(d);
  }
  ConvParams p;
  p.batch = v[0];
  p.in_channels = v[1];
  p.out_channels = v[2];
  p.groups = v[3];
  for (int ax = 0; ax < 3; ++ax) {
    p.in[ax] = v[4 + ax];
    p.out[ax] = v[7 + ax];
    p.kernel[ax] = v[10 + ax];
    p.stride[ax] = v[13 + ax];
    p.pad_begin[ax] = v[16 + ax];
    p.pad_end[ax] = v[19 + ax];
    p.dilation[ax] = v[22 + ax];
  }
  validate_conv(p);
  return p;
}

// Product of sizes, or throw when it overflows.
size_t checked_product(Napi::Env env, std::initializer_list<size_t> factors, const char* what) {
  size_t r = 1;
  for (size_t f : factors) {
    if (__builtin_mul_overflow(r, f, &r)) throw_js(env, ErrorCode::kShape, std::string(what) + ": size overflows");
  }
  return r;
}

void require_length(Napi::Env env, const Napi::Float32Array& a, size_t need, const char* name) {
  if (a.ElementLength() < need) {
    throw_js(env, ErrorCode::kShape,
             std::string("conv: ") + name + " has " + std::to_string(a.ElementLength()) + " elements, needs " +
                 std::to_string(need));
  }
}

struct Sizes {
  size_t x, y, w;
};

Sizes sizes_of(Napi::Env env, const ConvParams& p) {
  return {checked_product(env, {p.batch, p.in_channels, p.in[0], p.in[1], p.in[2]}, "input"),
          checked_product(env, {p.batch, p.out_channels, p.out[0], p.out[1], p.out[2]}, "output"),
          checked_product(env, {p.out_channels, p.in_channels / p.groups, p.kernel[0], p.kernel[1], p.kernel[2]},
                          "weight")};
}

Napi::Value conv_forward_js(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    require_count(info, 6, "_convForward");
    Napi::Float32Array x = arg_f32(info, 0, "x");
    Napi::Float32Array w = arg_f32(info, 1, "w");
    const bool has_bias = !arg_is_nullish(info, 2);
    Napi::Float32Array y = arg_f32(info, 3, "y");
    const ConvParams p = read_params(info, 4);
    const Activation act = static_cast<Activation>(arg_int(info, 5, "activation", 0, 2));
    const Sizes s = sizes_of(env, p);
    require_length(env, x, s.x, "x");
    require_length(env, w, s.w, "w");
    require_length(env, y, s.y, "y");
    const float* bias = nullptr;
    if (has_bias) {
      Napi::Float32Array b = arg_f32(info, 2, "bias");
      require_length(env, b, p.out_channels, "bias");
      bias = b.Data();
    }
    advise_huge_pages(y.Data(), s.y * sizeof(float));
    conv_forward(p, x.Data(), w.Data(), bias, y.Data(), act);
    return env.Undefined();
  });
}

Napi::Value conv_backward_data_js(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    require_count(info, 4, "_convBackwardData");
    Napi::Float32Array dy = arg_f32(info, 0, "dy");
    Napi::Float32Array w = arg_f32(info, 1, "w");
    Napi::Float32Array dx = arg_f32(info, 2, "dx");
    const ConvParams p = read_params(info, 3);
    const Sizes s = sizes_of(env, p);
    require_length(env, dy, s.y, "dy");
    require_length(env, w, s.w, "w");
    require_length(env, dx, s.x, "dx");
    advise_huge_pages(dx.Data(), s.x * sizeof(float));
    conv_backward_data(p, dy.Data(), w.Data(), dx.Data());
    return env.Undefined();
  });
}

Napi::Value conv_backward_weight_js(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    require_count(info, 5, "_convBackwardWeight");
    Napi::Float32Array x = arg_f32(info, 0, "x");
    Napi::Float32Array dy = arg_f32(info, 1, "dy");
    Napi::Float32Array dw = arg_f32(info, 2, "dw");
    const bool has_bias = !arg_is_nullish(info, 3);
    const ConvParams p = read_params(info, 4);
    const Sizes s = sizes_of(env, p);
    require_length(env, x, s.x, "x");
    require_length(env, dy, s.y, "dy");
    require_length(env, dw, s.w, "dw");
    float* dbias = nullptr;
    if (has_bias) {
      Napi::Float32Array b = arg_f32(info, 3, "dbias");
      require_length(env, b, p.out_channels, "dbias");
      dbias = b.Data();
    }
    advise_huge_pages(dw.Data(), s.w * sizeof(float));
    conv_backward_weight(p, x.Data(), dy.Data(), dw.Data(), dbias);
    return env.Undefined();
  });
}

}  // namespace

void register_conv(Napi::Env env, Napi::Object exports) {
  exports.Set("_convForward", Napi::Function::New(env, conv_forward_js, "_convForward"));
  exports.Set("_convBackwardData", Napi::Function::New(env, conv_backward_data_js, "_convBackwardData"));
  exports.Set("_convBackwardWeight", Napi::Function::New(env, conv_backward_weight_js, "_convBackwardWeight"));
}

}  // namespace convkit::binding
