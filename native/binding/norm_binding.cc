// Entry points of the norm family (see exports.h): batch norm (training and inference forward,
// backward) and local response norm (forward, backward). Shapes arrive as [n, c, s] (s = product of
// the spatial dims); every buffer length is checked against them here again, so no call from JS can
// read or write outside its arrays.
#include <cstdint>
#include <string>

#if defined(__linux__)
#include <sys/mman.h>
#endif

#include "binding/args.h"
#include "binding/exports.h"
#include "runtime/memory.h"
#include "kernels/batchnorm.h"
#include "kernels/lrn.h"

namespace convkit::binding {
namespace {


struct Dims {
  size_t n, c, s, total;
};

Dims arg_dims(const Napi::CallbackInfo& info, size_t i) {
  Dims d{arg_size(info, i, "n"), arg_size(info, i + 1, "c"), arg_size(info, i + 2, "s"), 0};
  size_t cs = 0;
  if (__builtin_mul_overflow(d.c, d.s, &cs) || __builtin_mul_overflow(d.n, cs, &d.total)) {
    throw_js(info.Env(), ErrorCode::kShape, "norm: tensor size overflows");
  }
  return d;
}

void require_length(Napi::Env env, const Napi::Float32Array& a, size_t want, const char* name) {
  if (a.ElementLength() != want) {
    throw_js(env, ErrorCode::kShape, std::string(name) + ": expected " + std::to_string(want) +
                                         " elements, the array has " + std::to_string(a.ElementLength()));
  }
}

// A Float32Array of `want` elements, or null when the argument is null/undefined.
float* optional_f32(const Napi::CallbackInfo& info, size_t i, size_t want, const char* name) {
  if (arg_is_nullish(info, i)) return nullptr;
  Napi::Float32Array a = arg_f32(info, i, name);
  require_length(info.Env(), a, want, name);
  return a.Data();
}

float* required_f32(const Napi::CallbackInfo& info, size_t i, size_t want, const char* name) {
  Napi::Float32Array a = arg_f32(info, i, name);
  require_length(info.Env(), a, want, name);
  return a.Data();
}

// _batchNormForwardTrain(x, n, c, s, weight?, bias?, runningMean?, runningVar?, eps, momentum, y, saveMean, saveInvstd)
Napi::Value bn_forward_train(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    require_count(info, 13, "_batchNormForwardTrain");
    const Dims d = arg_dims(info, 1);
    const float* x = required_f32(info, 0, d.total, "x");
    BatchNormTrainArgs a{};
    a.weight = optional_f32(info, 4, d.c, "weight");
    a.bias = optional_f32(info, 5, d.c, "bias");
    a.running_mean = optional_f32(info, 6, d.c, "runningMean");
    a.running_var = optional_f32(info, 7, d.c, "runningVar");
    a.eps = arg_number(info, 8, "eps");
    a.momentum = arg_number(info, 9, "momentum");
    float* y = required_f32(info, 10, d.total, "y");
    float* save_mean = required_f32(info, 11, d.c, "saveMean");
    float* save_invstd = required_f32(info, 12, d.c, "saveInvstd");
    advise_huge_pages(y, d.total * sizeof(float));
    batch_norm_forward_train(BatchNormShape{d.n, d.c, d.s}, x, a, y, save_mean, save_invstd);
    return info.Env().Undefined();
  });
}

// _batchNormForwardEval(x, n, c, s, weight?, bias?, runningMean, runningVar, eps, y, saveMean?, saveInvstd?)
Napi::Value bn_forward_eval(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    require_count(info, 10, "_batchNormForwardEval");
    const Dims d = arg_dims(info, 1);
    const float* x = required_f32(info, 0, d.total, "x");
    const float* weight = optional_f32(info, 4, d.c, "weight");
    const float* bias = optional_f32(info, 5, d.c, "bias");
    const float* rm = required_f32(info, 6, d.c, "runningMean");
    const float* rv = required_f32(info, 7, d.c, "runningVar");
    const double eps = arg_number(info, 8, "eps");
    float* y = required_f32(info, 9, d.total, "y");
    float* save_mean = optional_f32(info, 10, d.c, "saveMean");
    float* save_invstd = optional_f32(info, 11, d.c, "saveInvstd");
    advise_huge_pages(y, d.total * sizeof(float));
    batch_norm_forward_eval(BatchNormShape{d.n, d.c, d.s}, x, weight, bias, rm, rv, eps, y, save_mean, save_invstd);
    return info.Env().Undefined();
  });
}

// _batchNormBackward(x, gy, n, c, s, weight?, mean, invstd, training, gx?, gweight?, gbias?)
Napi::Value bn_backward(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    require_count(info, 9, "_batchNormBackward");
    const Dims d = arg_dims(info, 2);
    const float* x = required_f32(info, 0, d.total, "x");
    const float* gy = required_f32(info, 1, d.total, "gy");
    const float* weight = optional_f32(info, 5, d.c, "weight");
    const float* mean = required_f32(info, 6, d.c, "mean");
    const float* invstd = required_f32(info, 7, d.c, "invstd");
    const bool training = arg_bool(info, 8, "training");
    float* gx = optional_f32(info, 9, d.total, "gx");
    float* gweight = optional_f32(info, 10, d.c, "gweight");
    float* gbias = optional_f32(info, 11, d.c, "gbias");
    advise_huge_pages(gx, d.total * sizeof(float));
    batch_norm_backward(BatchNormShape{d.n, d.c, d.s}, x, gy, weight, mean, invstd, training, gx, gweight, gbias);
    return info.Env().Undefined();
  });
}

LrnParams arg_lrn(const Napi::CallbackInfo& info, size_t i) {
  LrnParams p{};
  p.size = static_cast<size_t>(arg_int(info, i, "size", 1, 1 << 30));
  p.alpha = arg_number(info, i + 1, "alpha");
  p.beta = arg_number(info, i + 2, "beta");
  p.k = arg_number(info, i + 3, "k");
  return p;
}

// _lrnForward(x, n, c, s, size, alpha, beta, k, y)
Napi::Value lrn_forward_js(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    require_count(info, 9, "_lrnForward");
    const Dims d = arg_dims(info, 1);
    const float* x = required_f32(info, 0, d.total, "x");
    const LrnParams p = arg_lrn(info, 4);
    float* y = required_f32(info, 8, d.total, "y");
    advise_huge_pages(y, d.total * sizeof(float));
    lrn_forward(LrnShape{d.n, d.c, d.s}, p, x, y);
    return info.Env().Undefined();
  });
}

// _lrnBackward(x, gy, n, c, s, size, alpha, beta, k, gx)
Napi::Value lrn_backward_js(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    require_count(info, 10, "_lrnBackward");
    const Dims d = arg_dims(info, 2);
    const float* x = required_f32(info, 0, d.total, "x");
    const float* gy = required_f32(info, 1, d.total, "gy");
    const LrnParams p = arg_lrn(info, 5);
    float* gx = required_f32(info, 9, d.total, "gx");
    advise_huge_pages(gx, d.total * sizeof(float));
    lrn_backward(LrnShape{d.n, d.c, d.s}, p, x, gy, gx);
    return info.Env().Undefined();
  });
}

}  // namespace

void register_norm(Napi::Env env, Napi::Object exports) {
  exports.Set("_batchNormForwardTrain", Napi::Function::New(env, bn_forward_train, "_batchNormForwardTrain"));
  exports.Set("_batchNormForwardEval", Napi::Function::New(env, bn_forward_eval, "_batchNormForwardEval"));
  exports.Set("_batchNormBackward", Napi::Function::New(env, bn_backward, "_batchNormBackward"));
  exports.Set("_lrnForward", Napi::Function::New(env, lrn_forward_js, "_lrnForward"));
  exports.Set("_lrnBackward", Napi::Function::New(env, lrn_backward_js, "_lrnBackward"));
}

}  // namespace convkit::binding
