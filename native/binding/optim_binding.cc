// Entry points of the optimiser family (see exports.h): in-place parameter updates.
//
//   _sgdStep(p, g, buf|null, fresh, lr, momentum, dampening, weightDecay, nesterov, maximize)
//
// p, g and buf (when given) are float32 arrays of one length; p and buf are written in place, so
// they must not overlap each other or g. buf is required when momentum is not 0.
#include <cstddef>
#include <string>

#include "binding/args.h"
#include "binding/exports.h"
#include "kernels/optim.h"

namespace convkit::binding {
namespace {

bool overlaps(const Napi::Float32Array& a, const Napi::Float32Array& b) {
  const float* a0 = a.Data();
  const float* b0 = b.Data();
  return a0 < b0 + b.ElementLength() && b0 < a0 + a.ElementLength();
}

Napi::Value sgd_step_js(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    require_count(info, 10, "_sgdStep");
    Napi::Float32Array p = arg_f32(info, 0, "p");
    Napi::Float32Array g = arg_f32(info, 1, "g");
    const bool has_buf = !arg_is_nullish(info, 2);
    Napi::Float32Array buf = has_buf ? arg_f32(info, 2, "buf") : Napi::Float32Array();
    SgdOptions o;
    const bool fresh = arg_bool(info, 3, "fresh");
    o.lr = static_cast<float>(arg_number(info, 4, "lr"));
    o.momentum = static_cast<float>(arg_number(info, 5, "momentum"));
    o.dampening = static_cast<float>(arg_number(info, 6, "dampening"));
    o.weight_decay = static_cast<float>(arg_number(info, 7, "weightDecay"));
    o.nesterov = arg_bool(info, 8, "nesterov");
    o.maximize = arg_bool(info, 9, "maximize");
    const size_t n = p.ElementLength();
    if (g.ElementLength() != n || (has_buf && buf.ElementLength() != n)) {
      throw_js(env, ErrorCode::kShape, "_sgdStep: p, g and buf must have the same length");
    }
    if (o.momentum != 0.0f && !has_buf) throw_js(env, ErrorCode::kArgument, "_sgdStep: momentum needs a buffer");
    if (n > 0 && (overlaps(p, g) || (has_buf && (overlaps(buf, p) || overlaps(buf, g))))) {
      throw_js(env, ErrorCode::kArgument, "_sgdStep: p, g and buf must not overlap");
    }
    sgd_step(o, p.Data(), g.Data(), has_buf ? buf.Data() : nullptr, fresh, n);
    return env.Undefined();
  });
}

}  // namespace

void register_optim(Napi::Env env, Napi::Object exports) {
  exports.Set("_sgdStep", Napi::Function::New(env, sgd_step_js, "_sgdStep"));
}

}  // namespace convkit::binding
