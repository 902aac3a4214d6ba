// Entry points of the activation family (see exports.h): elementwise activations, softmax /
// log-softmax, and the losses. Every argument is checked again here (types, integer ranges, array
// lengths against the sizes, outputs not overlapping inputs), so no call from JS can make a kernel
// read or write outside its arrays. Kernels validate class indices themselves (before writing).
//
//   _activationForward(kind, param, x, y)
//   _activationBackward(kind, param, saved, dy, dx)
//   _binaryForward(op, a, b, y)            y = a op b elementwise (op: 0 add, 1 sub, 2 mul, 3 div)
//   _softmaxForward(log, outer, n, inner, x, y)
//   _softmaxBackward(log, outer, n, inner, y, dy, dx)
//   _crossEntropyForward(batch, classes, inner, logits, target|null, probs|null, weight|null,
//                        ignoreIndex, labelSmoothing, stats, losses|null)               -> [total, weight]
//   _crossEntropyBackward(batch, classes, inner, logits, target|null, probs|null, weight|null,
//                         ignoreIndex, labelSmoothing, stats, grad|null, scale, dlogits|null, dprobs|null)
//   _nllLossForward(batch, classes, inner, logp, target, weight|null, ignoreIndex, losses|null)
//                                                                                       -> [total, weight]
//   _nllLossBackward(batch, classes, inner, target, weight|null, ignoreIndex, grad|null, scale, dlogp)
//   _pointwiseLossForward(kind, input, target, beta, weight|null, posWeight|null, losses|null)
//                                                                                       -> [total, weight]
//   _pointwiseLossBackward(kind, input, target, beta, weight|null, posWeight|null, grad|null, scale,
//                          dinput|null, dtarget|null)
// Exactly one of target (Int32Array of class indices) and probs (Float32Array) is given to the
// cross-entropy entry points. `scale` may be infinite or NaN (a mean over zero total weight).
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <utility>

#include "binding/args.h"
#include "binding/exports.h"
#include "kernels/activation.h"
#include "kernels/elementwise.h"
#include "kernels/loss.h"
#include "kernels/softmax.h"
#include "runtime/memory.h"

namespace convkit::binding {
namespace {

// A view of a typed array argument: its elements and length (null data and 0 for a null argument).
template <class T>
struct Span {
  T* data = nullptr;
  size_t length = 0;
  const char* name = "";
};

Span<float> f32(const Napi::CallbackInfo& info, size_t i, const char* name) {
  Napi::Float32Array a = arg_f32(info, i, name);
  return {a.Data(), a.ElementLength(), name};
}

Span<float> f32_or_null(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (arg_is_nullish(info, i)) return {nullptr, 0, name};
  return f32(info, i, name);
}

bool present(const Napi::CallbackInfo& info, size_t i) { return !arg_is_nullish(info, i); }

Span<int32_t> i32(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (!info[i].IsTypedArray() || info[i].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) {
    throw_js(info.Env(), ErrorCode::kArgument, std::string("Expected Int32Array for ") + name);
  }
  Napi::Int32Array a = info[i].As<Napi::Int32Array>();
  return {a.Data(), a.ElementLength(), name};
}

// A signed integer (class indices, ignore_index) within int32.
int64_t arg_i32(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (!info[i].IsNumber()) throw_js(info.Env(), ErrorCode::kArgument, std::string("Expected integer for ") + name);
  const double v = info[i].As<Napi::Number>().DoubleValue();
  if (!(v >= -2147483648.0 && v <= 2147483647.0) || v != std::floor(v)) {
    throw_js(info.Env(), ErrorCode::kArgument,
             std::string("Expected a 32-bit integer for ") + name + " but received " + std::to_string(v));
  }
  return static_cast<int64_t>(v);
}

// Any number, infinities and NaN included (gradient scales).
double arg_any_number(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (!info[i].IsNumber()) throw_js(info.Env(), ErrorCode::kArgument, std::string("Expected number for ") + name);
  return info[i].As<Napi::Number>().DoubleValue();
}

size_t product(Napi::Env env, std::initializer_list<size_t> dims, const char* op) {
  size_t p = 1;
  for (size_t d : dims) {
    if (d != 0 && p > static_cast<size_t>(-1) / d) throw_js(env, ErrorCode::kShape, std::string(op) + ": sizes overflow");
    p *= d;
  }
  return p;
}

template <class T>
void require_length(Napi::Env env, const Span<T>& s, size_t want, const char* op) {
  if (s.length != want) {
    throw_js(env, ErrorCode::kShape,
             std::string(op) + ": " + s.name + " has " + std::to_string(s.length) + " elements, expected " +
                 std::to_string(want));
  }
}

// Outputs are written while inputs are read: they must not share memory.
template <class A, class B>
void require_disjoint(Napi::Env env, const Span<A>& out, const Span<B>& in, const char* op) {
  if (out.length == 0 || in.length == 0) return;
  const auto* o0 = reinterpret_cast<const unsigned char*>(out.data);
  const auto* o1 = reinterpret_cast<const unsigned char*>(out.data + out.length);
  const auto* i0 = reinterpret_cast<const unsigned char*>(in.data);
  const auto* i1 = reinterpret_cast<const unsigned char*>(in.data + in.length);
  if (o0 < i1 && i0 < o1) {
    throw_js(env, ErrorCode::kArgument, std::string(op) + ": " + out.name + " overlaps " + in.name);
  }
}

Napi::Value sums_value(Napi::Env env, const LossSums& s) {
  Napi::Array out = Napi::Array::New(env, 2);
  out.Set(uint32_t{0}, Napi::Number::New(env, s.total));
  out.Set(uint32_t{1}, Napi::Number::New(env, s.weight));
  return out;
}

// ---------------------------------------------------------------------------------------------

Napi::Value activation_forward_js(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    require_count(info, 4, "_activationForward");
    const auto kind = static_cast<ActKind>(arg_int(info, 0, "kind", 0, kActKindCount - 1));
    const float param = static_cast<float>(arg_number(info, 1, "param"));
    const Span<float> x = f32(info, 2, "x"), y = f32(info, 3, "y");
    require_length(env, y, x.length, "_activationForward");
    require_disjoint(env, y, x, "_activationForward");
    advise_huge_pages(y.data, x.length * sizeof(float));
    activation_forward(kind, param, x.data, y.data, x.length);
    return env.Undefined();
  });
}

Napi::Value binary_forward_js(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    require_count(info, 4, "_binaryForward");
    const auto op = static_cast<BinaryOp>(arg_int(info, 0, "op", 0, kBinaryOpCount - 1));
    const Span<float> a = f32(info, 1, "a"), b = f32(info, 2, "b"), y = f32(info, 3, "y");
    require_length(env, b, a.length, "_binaryForward");
    require_length(env, y, a.length, "_binaryForward");
    require_disjoint(env, y, a, "_binaryForward");
    require_disjoint(env, y, b, "_binaryForward");
    binary_forward(op, a.data, b.data, y.data, a.length);
    return env.Undefined();
  });
}

Napi::Value activation_backward_js(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    require_count(info, 5, "_activationBackward");
    const auto kind = static_cast<ActKind>(arg_int(info, 0, "kind", 0, kActKindCount - 1));
    const float param = static_cast<float>(arg_number(info, 1, "param"));
    const Span<float> saved = f32(info, 2, "saved"), dy = f32(info, 3, "dy"), dx = f32(info, 4, "dx");
    require_length(env, dy, saved.length, "_activationBackward");
    require_length(env, dx, saved.length, "_activationBackward");
    require_disjoint(env, dx, saved, "_activationBackward");
    require_disjoint(env, dx, dy, "_activationBackward");
    advise_huge_pages(dx.data, saved.length * sizeof(float));
    activation_backward(kind, param, saved.data, dy.data, dx.data, saved.length);
    return env.Undefined();
  });
}

SoftmaxShape softmax_shape(const Napi::CallbackInfo& info, size_t first) {
  SoftmaxShape s;
  s.outer = arg_size(info, first, "outer");
  s.n = arg_size(info, first + 1, "n");
  s.inner = arg_size(info, first + 2, "inner");
  return s;
}

Napi::Value softmax_forward_js(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    require_count(info, 6, "_softmaxForward");
    const bool log = arg_bool(info, 0, "log");
    const SoftmaxShape s = softmax_shape(info, 1);
    const size_t total = product(env, {s.outer, s.n, s.inner}, "_softmaxForward");
    const Span<float> x = f32(info, 4, "x"), y = f32(info, 5, "y");
    require_length(env, x, total, "_softmaxForward");
    require_length(env, y, total, "_softmaxForward");
    require_disjoint(env, y, x, "_softmaxForward");
    advise_huge_pages(y.data, total * sizeof(float));
    softmax_forward(log ? SoftmaxKind::kLogSoftmax : SoftmaxKind::kSoftmax, s, x.data, y.data);
    return env.Undefined();
  });
}

Napi::Value softmax_backward_js(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    require_count(info, 7, "_softmaxBackward");
    const bool log = arg_bool(info, 0, "log");
    const SoftmaxShape s = softmax_shape(info, 1);
    const size_t total = product(env, {s.outer, s.n, s.inner}, "_softmaxBackward");
    const Span<float> y = f32(info, 4, "y"), dy = f32(info, 5, "dy"), dx = f32(info, 6, "dx");
    require_length(env, y, total, "_softmaxBackward");
    require_length(env, dy, total, "_softmaxBackward");
    require_length(env, dx, total, "_softmaxBackward");
    require_disjoint(env, dx, y, "_softmaxBackward");
    require_disjoint(env, dx, dy, "_softmaxBackward");
    advise_huge_pages(dx.data, total * sizeof(float));
    softmax_backward(log ? SoftmaxKind::kLogSoftmax : SoftmaxKind::kSoftmax, s, y.data, dy.data, dx.data);
    return env.Undefined();
  });
}

// ---------------------------------------------------------------------------------------------
// Class losses

struct ClassArgs {
  ClassShape shape;
  size_t positions = 0, elements = 0;
};

ClassArgs class_args(const Napi::CallbackInfo& info, const char* op) {
  ClassArgs a;
  a.shape.batch = arg_size(info, 0, "batch");
  a.shape.classes = arg_size(info, 1, "classes");
  a.shape.inner = arg_size(info, 2, "inner");
  a.positions = product(info.Env(), {a.shape.batch, a.shape.inner}, op);
  a.elements = product(info.Env(), {a.positions, a.shape.classes}, op);
  return a;
}

// The class weights (length classes) or null.
const float* class_weight(const Napi::CallbackInfo& info, size_t i, const ClassArgs& a, const char* op) {
  const Span<float> w = f32_or_null(info, i, "weight");
  if (!present(info, i)) return nullptr;
  require_length(info.Env(), w, a.shape.classes, op);
  return w.data;
}

// Index targets (Int32Array, one per position) xor probabilities (Float32Array like the logits).
struct Targets {
  bool is_index = false;
  Span<int32_t> index;
  Span<float> probs;
};

Targets ce_targets(const Napi::CallbackInfo& info, const ClassArgs& a, const char* op) {
  Targets t;
  const bool has_index = present(info, 4), has_probs = present(info, 5);
  if (has_index == has_probs) {
    throw_js(info.Env(), ErrorCode::kArgument, std::string(op) + ": pass exactly one of target and probs");
  }
  t.is_index = has_index;
  if (has_index) {
    t.index = i32(info, 4, "target");
    require_length(info.Env(), t.index, a.positions, op);
  } else {
    t.probs = f32(info, 5, "probs");
    require_length(info.Env(), t.probs, a.elements, op);
  }
  return t;
}

Napi::Value cross_entropy_forward_js(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    const char* op = "_crossEntropyForward";
    require_count(info, 11, op);
    const ClassArgs a = class_args(info, op);
    const Span<float> logits = f32(info, 3, "logits");
    require_length(env, logits, a.elements, op);
    const Targets t = ce_targets(info, a, op);
    ClassLossOptions opts;
    opts.weight = class_weight(info, 6, a, op);
    opts.ignore_index = arg_i32(info, 7, "ignoreIndex");
    opts.label_smoothing = static_cast<float>(arg_number(info, 8, "labelSmoothing"));
    const Span<float> stats = f32(info, 9, "stats");
    require_length(env, stats, 2 * a.positions, op);
    const Span<float> losses = f32_or_null(info, 10, "losses");
    if (present(info, 10)) require_length(env, losses, a.positions, op);
    for (const Span<float>* out : {&stats, &losses}) {
      require_disjoint(env, *out, logits, op);
      require_disjoint(env, *out, t.probs, op);
      require_disjoint(env, *out, t.index, op);
    }
    require_disjoint(env, losses, stats, op);
    const LossSums sums =
        t.is_index
            ? cross_entropy_forward(a.shape, logits.data, t.index.data, opts, stats.data, losses.data)
            : cross_entropy_prob_forward(a.shape, logits.data, t.probs.data, opts, stats.data, losses.data);
    return sums_value(env, sums);
  });
}

Napi::Value cross_entropy_backward_js(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    const char* op = "_crossEntropyBackward";
    require_count(info, 14, op);
    const ClassArgs a = class_args(info, op);
    const Span<float> logits = f32(info, 3, "logits");
    require_length(env, logits, a.elements, op);
    const Targets t = ce_targets(info, a, op);
    ClassLossOptions opts;
    opts.weight = class_weight(info, 6, a, op);
    opts.ignore_index = arg_i32(info, 7, "ignoreIndex");
    opts.label_smoothing = static_cast<float>(arg_number(info, 8, "labelSmoothing"));
    const Span<float> stats = f32(info, 9, "stats");
    require_length(env, stats, 2 * a.positions, op);
    const Span<float> grad = f32_or_null(info, 10, "grad");
    if (present(info, 10)) require_length(env, grad, a.positions, op);
    const float scale = static_cast<float>(arg_any_number(info, 11, "scale"));
    const Span<float> dlogits = f32_or_null(info, 12, "dlogits");
    if (present(info, 12)) require_length(env, dlogits, a.elements, op);
    const Span<float> dprobs = f32_or_null(info, 13, "dprobs");
    if (present(info, 13)) {
      if (t.is_index) throw_js(env, ErrorCode::kArgument, std::string(op) + ": dprobs needs probs");
      require_length(env, dprobs, a.elements, op);
    }
    for (const Span<float>* out : {&dlogits, &dprobs}) {
      require_disjoint(env, *out, logits, op);
      require_disjoint(env, *out, t.probs, op);
      require_disjoint(env, *out, t.index, op);
      require_disjoint(env, *out, stats, op);
      require_disjoint(env, *out, grad, op);
    }
    require_disjoint(env, dlogits, dprobs, op);
    if (t.is_index) {
      if (present(info, 12)) {
        cross_entropy_backward(a.shape, logits.data, t.index.data, opts, stats.data, grad.data, scale, dlogits.data);
      }
    } else {
      cross_entropy_prob_backward(a.shape, logits.data, t.probs.data, opts, stats.data, grad.data, scale,
                                  dlogits.data, dprobs.data);
    }
    return env.Undefined();
  });
}

Napi::Value nll_loss_forward_js(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    const char* op = "_nllLossForward";
    require_count(info, 8, op);
    const ClassArgs a = class_args(info, op);
    const Span<float> logp = f32(info, 3, "logp");
    require_length(env, logp, a.elements, op);
    const Span<int32_t> target = i32(info, 4, "target");
    require_length(env, target, a.positions, op);
    ClassLossOptions opts;
    opts.weight = class_weight(info, 5, a, op);
    opts.ignore_index = arg_i32(info, 6, "ignoreIndex");
    const Span<float> losses = f32_or_null(info, 7, "losses");
    if (present(info, 7)) require_length(env, losses, a.positions, op);
    require_disjoint(env, losses, logp, op);
    require_disjoint(env, losses, target, op);
    return sums_value(env, nll_loss_forward(a.shape, logp.data, target.data, opts, losses.data));
  });
}

Napi::Value nll_loss_backward_js(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    const char* op = "_nllLossBackward";
    require_count(info, 9, op);
    const ClassArgs a = class_args(info, op);
    const Span<int32_t> target = i32(info, 3, "target");
    require_length(env, target, a.positions, op);
    ClassLossOptions opts;
    opts.weight = class_weight(info, 4, a, op);
    opts.ignore_index = arg_i32(info, 5, "ignoreIndex");
    const Span<float> grad = f32_or_null(info, 6, "grad");
    if (present(info, 6)) require_length(env, grad, a.positions, op);
    const float scale = static_cast<float>(arg_any_number(info, 7, "scale"));
    const Span<float> dlogp = f32(info, 8, "dlogp");
    require_length(env, dlogp, a.elements, op);
    require_disjoint(env, dlogp, target, op);
    require_disjoint(env, dlogp, grad, op);
    nll_loss_backward(a.shape, target.data, opts, grad.data, scale, dlogp.data);
    return env.Undefined();
  });
}

// ---------------------------------------------------------------------------------------------
// Pointwise losses

struct PointwiseArgs {
  PointwiseLoss kind;
  PointwiseLossOptions opts;
  Span<float> input, target, weight, pos_weight;
};

PointwiseArgs pointwise_args(const Napi::CallbackInfo& info, const char* op) {
  Napi::Env env = info.Env();
  PointwiseArgs a;
  a.kind = static_cast<PointwiseLoss>(arg_int(info, 0, "kind", 0, 2));
  a.input = f32(info, 1, "input");
  a.target = f32(info, 2, "target");
  require_length(env, a.target, a.input.length, op);
  a.opts.beta = static_cast<float>(arg_number(info, 3, "beta"));
  a.weight = f32_or_null(info, 4, "weight");
  a.pos_weight = f32_or_null(info, 5, "posWeight");
  if (present(info, 4)) {
    require_length(env, a.weight, a.input.length, op);
    a.opts.weight = a.weight.data;
  }
  if (present(info, 5)) {
    require_length(env, a.pos_weight, a.input.length, op);
    a.opts.pos_weight = a.pos_weight.data;
  }
  if (a.kind != PointwiseLoss::kBceWithLogits && (a.opts.weight != nullptr || a.opts.pos_weight != nullptr)) {
    throw_js(env, ErrorCode::kArgument, std::string(op) + ": weight and posWeight apply to BCE only");
  }
  return a;
}

template <class T>
void require_disjoint_inputs(Napi::Env env, const Span<T>& out, const PointwiseArgs& a, const char* op) {
  require_disjoint(env, out, a.input, op);
  require_disjoint(env, out, a.target, op);
  require_disjoint(env, out, a.weight, op);
  require_disjoint(env, out, a.pos_weight, op);
}

Napi::Value pointwise_loss_forward_js(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    const char* op = "_pointwiseLossForward";
    require_count(info, 7, op);
    const PointwiseArgs a = pointwise_args(info, op);
    const Span<float> losses = f32_or_null(info, 6, "losses");
    if (present(info, 6)) require_length(env, losses, a.input.length, op);
    require_disjoint_inputs(env, losses, a, op);
    return sums_value(env, pointwise_loss_forward(a.kind, a.opts, a.input.data, a.target.data, a.input.length,
                                                  losses.data));
  });
}

Napi::Value pointwise_loss_backward_js(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    const char* op = "_pointwiseLossBackward";
    require_count(info, 10, op);
    const PointwiseArgs a = pointwise_args(info, op);
    const size_t n = a.input.length;
    const Span<float> grad = f32_or_null(info, 6, "grad");
    if (present(info, 6)) require_length(env, grad, n, op);
    const float scale = static_cast<float>(arg_any_number(info, 7, "scale"));
    const Span<float> dinput = f32_or_null(info, 8, "dinput");
    if (present(info, 8)) require_length(env, dinput, n, op);
    const Span<float> dtarget = f32_or_null(info, 9, "dtarget");
    if (present(info, 9)) require_length(env, dtarget, n, op);
    for (const Span<float>* out : {&dinput, &dtarget}) {
      require_disjoint_inputs(env, *out, a, op);
      require_disjoint(env, *out, grad, op);
    }
    require_disjoint(env, dinput, dtarget, op);
    pointwise_loss_backward(a.kind, a.opts, a.input.data, a.target.data, n, grad.data, scale, dinput.data,
                            dtarget.data);
    return env.Undefined();
  });
}

}  // namespace

void register_activation(Napi::Env env, Napi::Object exports) {
  const std::initializer_list<std::pair<const char*, Napi::Value (*)(const Napi::CallbackInfo&)>> fns = {
      {"_activationForward", activation_forward_js},
      {"_activationBackward", activation_backward_js},
      {"_binaryForward", binary_forward_js},
      {"_softmaxForward", softmax_forward_js},
      {"_softmaxBackward", softmax_backward_js},
      {"_crossEntropyForward", cross_entropy_forward_js},
      {"_crossEntropyBackward", cross_entropy_backward_js},
      {"_nllLossForward", nll_loss_forward_js},
      {"_nllLossBackward", nll_loss_backward_js},
      {"_pointwiseLossForward", pointwise_loss_forward_js},
      {"_pointwiseLossBackward", pointwise_loss_backward_js},
  };
  for (const auto& [name, fn] : fns) exports.Set(name, Napi::Function::New(env, fn, name));
}

}  // namespace convkit::binding
