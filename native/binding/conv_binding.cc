// Entry points of the convolution family (see exports.h and native/kernels/conv.h).
//
//   _convForward(x, w, bias | null, y, params, activation /* 0 none, 1 ReLU, 2 ReLU6 */)
//   _convBackwardData(dy, w, dx, params)
//   _convBackwardWeight(x, dy, dw, dbias | null, params)
//   _nchwcConv(x, wPacked, bias, residual | null, y, shape, activation)
//   _nchwcInvertedResidual(x, wExpand | null, bExpand | null, wDepthwise, bDepthwise, wProject, bProject, y,
//                          shape, activations, residual)
//   _nchwcDepthwise(x, wPacked, bias, y, shape, activation)
//   _nchwcReorder(x, y, batch, channels, spatial, toBlocked)
//
// params: [batch, inChannels, outChannels, groups, in[3], out[3], kernel[3], stride[3], padBegin[3],
// padEnd[3], dilation[3]] (25 integers, spatial axes d, h, w; lower ranks use leading 1s).
// shape (blocked inference, kernels/conv_nchwc.h): [batch, inChannels, inBlock, H, W, outChannels,
// OH, OW, KH, KW, strideH, strideW, padTop, padLeft] (14 integers).
#include <string>

#include "binding/args.h"
#include "binding/exports.h"
#include "kernels/conv.h"
#include "kernels/conv_nchwc.h"
#include "runtime/memory.h"

namespace convkit::binding {
namespace {

constexpr size_t kParamCount = 25;

// `count` non-negative integers (each below 2^31) from the array argument i, or a JS error naming `what`.
void read_integers(const Napi::CallbackInfo& info, size_t i, size_t* v, uint32_t count, const char* what) {
  Napi::Env env = info.Env();
  if (!info[i].IsArray()) {
    throw_js(env, ErrorCode::kArgument, std::string("Expected an array of ") + std::to_string(count) + " integers for " + what);
  }
  Napi::Array a = info[i].As<Napi::Array>();
  if (a.Length() != count) {
    throw_js(env, ErrorCode::kArgument, std::string(what) + ": expected " + std::to_string(count) + " integers, received " +
                                            std::to_string(a.Length()));
  }
  for (uint32_t k = 0; k < count; ++k) {
    Napi::Value e = a.Get(k);
    const double d = e.IsNumber() ? e.As<Napi::Number>().DoubleValue() : -1.0;
    if (!(d >= 0.0) || d != static_cast<double>(static_cast<uint64_t>(d)) || d > 2147483647.0) {
      throw_js(env, ErrorCode::kArgument, std::string(what) + ": entry " + std::to_string(k) + " is not a non-negative integer");
    }
    v[k] = static_cast<size_t>(d);
  }
}

ConvParams read_params(const Napi::CallbackInfo& info, size_t i) {
  size_t v[kParamCount];
  read_integers(info, i, v, kParamCount, "conv params");
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

constexpr size_t kNchwcShapeCount = 14;

NchwcConvShape read_nchwc_shape(const Napi::CallbackInfo& info, size_t i, bool depthwise) {
  size_t v[kNchwcShapeCount];
  read_integers(info, i, v, kNchwcShapeCount, "blocked conv shape");
  NchwcConvShape g;
  g.batch = v[0];
  g.in_channels = v[1];
  g.in_block = v[2];
  g.H = v[3];
  g.W = v[4];
  g.out_channels = v[5];
  g.OH = v[6];
  g.OW = v[7];
  g.KH = v[8];
  g.KW = v[9];
  g.sh = v[10];
  g.sw = v[11];
  g.pt = v[12];
  g.pl = v[13];
  validate_nchwc(g, depthwise);
  return g;
}

Napi::Value nchwc_conv_js(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    require_count(info, 7, "_nchwcConv");
    Napi::Float32Array x = arg_f32(info, 0, "x");
    Napi::Float32Array w = arg_f32(info, 1, "w");
    Napi::Float32Array b = arg_f32(info, 2, "bias");
    const bool has_residual = !arg_is_nullish(info, 3);
    Napi::Float32Array y = arg_f32(info, 4, "y");
    const NchwcConvShape g = read_nchwc_shape(info, 5, false);
    const Activation act = static_cast<Activation>(arg_int(info, 6, "activation", 0, 2));
    const size_t ys = checked_product(env, {g.batch, g.out_channels, g.OH, g.OW}, "output");
    require_length(env, x, checked_product(env, {g.batch, g.in_channels, g.H, g.W}, "input"), "x");
    require_length(env, w, checked_product(env, {g.out_channels, g.in_channels, g.KH, g.KW}, "weight"), "w");
    require_length(env, b, g.out_channels, "bias");
    require_length(env, y, ys, "y");
    const float* residual = nullptr;
    if (has_residual) {
      Napi::Float32Array r = arg_f32(info, 3, "residual");
      require_length(env, r, ys, "residual");
      residual = r.Data();
    }
    advise_huge_pages(y.Data(), ys * sizeof(float));
    nchwc_conv_forward(g, x.Data(), w.Data(), b.Data(), residual, y.Data(), act);
    return env.Undefined();
  });
}

Napi::Value nchwc_depthwise_js(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    require_count(info, 6, "_nchwcDepthwise");
    Napi::Float32Array x = arg_f32(info, 0, "x");
    Napi::Float32Array w = arg_f32(info, 1, "w");
    Napi::Float32Array b = arg_f32(info, 2, "bias");
    Napi::Float32Array y = arg_f32(info, 3, "y");
    const NchwcConvShape g = read_nchwc_shape(info, 4, true);
    const Activation act = static_cast<Activation>(arg_int(info, 5, "activation", 0, 2));
    const size_t ys = checked_product(env, {g.batch, g.out_channels, g.OH, g.OW}, "output");
    require_length(env, x, checked_product(env, {g.batch, g.in_channels, g.H, g.W}, "input"), "x");
    require_length(env, w, checked_product(env, {g.out_channels, g.KH, g.KW}, "weight"), "w");
    require_length(env, b, g.out_channels, "bias");
    require_length(env, y, ys, "y");
    advise_huge_pages(y.Data(), ys * sizeof(float));
    nchwc_depthwise_forward(g, x.Data(), w.Data(), b.Data(), y.Data(), act);
    return env.Undefined();
  });
}

// shape: [batch, in, hidden, out, H, W, OH, OW, KH, KW, sh, sw, pt, pl] (blocked channel counts);
// activations: [expand, depthwise, project] codes.
Napi::Value nchwc_inverted_residual_js(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    require_count(info, 11, "_nchwcInvertedResidual");
    Napi::Float32Array x = arg_f32(info, 0, "x");
    const bool expand = !arg_is_nullish(info, 1);
    Napi::Float32Array wd = arg_f32(info, 3, "wDepthwise");
    Napi::Float32Array bd = arg_f32(info, 4, "bDepthwise");
    Napi::Float32Array wp = arg_f32(info, 5, "wProject");
    Napi::Float32Array bp = arg_f32(info, 6, "bProject");
    Napi::Float32Array y = arg_f32(info, 7, "y");
    size_t v[14];
    read_integers(info, 8, v, 14, "inverted residual shape");
    size_t a[3];
    read_integers(info, 9, a, 3, "inverted residual activations");
    NchwcBlockShape s;
    s.batch = v[0];
    s.in_channels = v[1];
    s.hidden = v[2];
    s.out_channels = v[3];
    s.H = v[4];
    s.W = v[5];
    s.OH = v[6];
    s.OW = v[7];
    s.KH = v[8];
    s.KW = v[9];
    s.sh = v[10];
    s.sw = v[11];
    s.pt = v[12];
    s.pl = v[13];
    s.expand = expand;
    s.residual = arg_bool(info, 10, "residual");
    validate_nchwc_block(s);
    for (size_t code : a) {
      if (code > 2) throw Error(ErrorCode::kArgument, "inverted residual activations: codes are 0 (none), 1 (relu), 2 (relu6)");
    }
    NchwcBlockWeights w;
    w.expand_act = static_cast<Activation>(a[0]);
    w.dw_act = static_cast<Activation>(a[1]);
    w.project_act = static_cast<Activation>(a[2]);
    if (expand) {
      Napi::Float32Array we = arg_f32(info, 1, "wExpand");
      Napi::Float32Array be = arg_f32(info, 2, "bExpand");
      require_length(env, we, checked_product(env, {s.hidden, s.in_channels}, "expand weight"), "wExpand");
      require_length(env, be, s.hidden, "bExpand");
      w.expand_w = we.Data();
      w.expand_b = be.Data();
    }
    require_length(env, x, checked_product(env, {s.batch, s.in_channels, s.H, s.W}, "input"), "x");
    require_length(env, wd, checked_product(env, {s.hidden, s.KH, s.KW}, "depthwise weight"), "wDepthwise");
    require_length(env, bd, s.hidden, "bDepthwise");
    require_length(env, wp, checked_product(env, {s.out_channels, s.hidden}, "project weight"), "wProject");
    require_length(env, bp, s.out_channels, "bProject");
    const size_t ys = checked_product(env, {s.batch, s.out_channels, s.OH, s.OW}, "output");
    require_length(env, y, ys, "y");
    w.dw_w = wd.Data();
    w.dw_b = bd.Data();
    w.project_w = wp.Data();
    w.project_b = bp.Data();
    advise_huge_pages(y.Data(), ys * sizeof(float));
    nchwc_inverted_residual_forward(s, w, x.Data(), y.Data());
    return env.Undefined();
  });
}

Napi::Value nchwc_reorder_js(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    require_count(info, 6, "_nchwcReorder");
    Napi::Float32Array x = arg_f32(info, 0, "x");
    Napi::Float32Array y = arg_f32(info, 1, "y");
    const size_t batch = arg_size(info, 2, "batch"), channels = arg_size(info, 3, "channels");
    const size_t spatial = arg_size(info, 4, "spatial");
    const bool to_blocked = arg_bool(info, 5, "toBlocked");
    const size_t blocked = (channels + kNchwcBlock - 1) / kNchwcBlock * kNchwcBlock;
    const size_t plain_size = checked_product(env, {batch, channels, spatial}, "plain");
    const size_t blocked_size = checked_product(env, {batch, blocked, spatial}, "blocked");
    require_length(env, x, to_blocked ? plain_size : blocked_size, "x");
    require_length(env, y, to_blocked ? blocked_size : plain_size, "y");
    if (to_blocked) {
      nchwc_from_nchw(x.Data(), batch, channels, spatial, y.Data());
    } else {
      nchwc_to_nchw(x.Data(), batch, channels, spatial, y.Data());
    }
    return env.Undefined();
  });
}

}  // namespace

void register_conv(Napi::Env env, Napi::Object exports) {
  exports.Set("_convForward", Napi::Function::New(env, conv_forward_js, "_convForward"));
  exports.Set("_convBackwardData", Napi::Function::New(env, conv_backward_data_js, "_convBackwardData"));
  exports.Set("_convBackwardWeight", Napi::Function::New(env, conv_backward_weight_js, "_convBackwardWeight"));
  exports.Set("_nchwcConv", Napi::Function::New(env, nchwc_conv_js, "_nchwcConv"));
  exports.Set("_nchwcDepthwise", Napi::Function::New(env, nchwc_depthwise_js, "_nchwcDepthwise"));
  exports.Set("_nchwcInvertedResidual", Napi::Function::New(env, nchwc_inverted_residual_js, "_nchwcInvertedResidual"));
  exports.Set("_nchwcReorder", Napi::Function::New(env, nchwc_reorder_js, "_nchwcReorder"));
}

}  // namespace convkit::binding
