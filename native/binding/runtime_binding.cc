#include "binding/runtime_binding.h"

#include "binding/args.h"
#include "binding/exports.h"
#include "kernels/fma_peak.h"
#include "kernels/gemm.h"
#include "runtime/clock.h"
#include "runtime/cpu_features.h"
#include "runtime/isa.h"
#include "runtime/memory.h"
#include "runtime/threads.h"
#include "runtime/workspace.h"

namespace convkit::binding {

namespace {

// Applied once per process (the addon may load in several worker threads).
bool allocator_tuned() {
  static const bool tuned = tune_allocator();
  return tuned;
}

}  // namespace

Napi::Value runtime_info(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    Napi::Object out = Napi::Object::New(env);
    const Isa active = active_isa();
    out.Set("isa", isa_name(active));
    Napi::Object supported = Napi::Object::New(env);
    Napi::Object compiled = Napi::Object::New(env);
    for (Isa isa : {Isa::kScalar, Isa::kAvx2, Isa::kAvx512}) {
      supported.Set(isa_name(isa), isa_supported(isa));
      compiled.Set(isa_name(isa), isa_compiled(isa));
    }
    out.Set("isaSupported", supported);
    out.Set("isaCompiled", compiled);
    out.Set("threads", num_threads());
    out.Set("openmp", openmp_enabled());
    out.Set("procs", num_procs());
    out.Set("cpu", cpu_brand());
    out.Set("gemmUkernel", gemm_ukernel_name(active));
    out.Set("workspaceBytes", static_cast<double>(workspace_bytes()));
    out.Set("mallocTuned", allocator_tuned());
    return out;
  });
}

Napi::Value get_isa(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value { return Napi::String::New(info.Env(), isa_name(active_isa())); });
}

Napi::Value set_isa(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    require_count(info, 1, "setIsa");
    convkit::set_isa(parse_isa(arg_string(info, 0, "isa")));
    return info.Env().Undefined();
  });
}

Napi::Value get_num_threads(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value { return Napi::Number::New(info.Env(), num_threads()); });
}

Napi::Value set_num_threads(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    require_count(info, 1, "setNumThreads");
    convkit::set_num_threads(arg_int(info, 0, "threads", 1, 1024));
    return info.Env().Undefined();
  });
}

Napi::Value fma_peak(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    require_count(info, 2, "_fmaPeak");
    const Isa isa = parse_isa(arg_string(info, 0, "isa"));
    const int threads = arg_int(info, 1, "threads", 1, 1024);
    return Napi::Number::New(info.Env(), fma_peak_gflops(isa, threads));
  });
}

Napi::Value clock_ghz(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value { return Napi::Number::New(info.Env(), measure_clock_ghz()); });
}

void register_runtime(Napi::Env env, Napi::Object exports) {
  (void)allocator_tuned();
  exports.Set("info", Napi::Function::New(env, runtime_info, "info"));
  exports.Set("getIsa", Napi::Function::New(env, get_isa, "getIsa"));
  exports.Set("setIsa", Napi::Function::New(env, set_isa, "setIsa"));
  exports.Set("getNumThreads", Napi::Function::New(env, get_num_threads, "getNumThreads"));
  exports.Set("setNumThreads", Napi::Function::New(env, set_num_threads, "setNumThreads"));
  exports.Set("_fmaPeak", Napi::Function::New(env, fma_peak, "_fmaPeak"));
  exports.Set("_clockGhz", Napi::Function::New(env, clock_ghz, "_clockGhz"));
}

}  // namespace convkit::binding
