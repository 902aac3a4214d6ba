// The addon's exports, and nothing else. Internal entry points start with '_'.
// N-API modules are context-aware: the addon loads in several worker threads at once, and it holds
// no JS state of its own (process-wide settings are atomics in native/runtime).
#include <napi.h>

#include "binding/gemm_binding.h"
#include "binding/runtime_binding.h"

namespace {

Napi::Object init(Napi::Env env, Napi::Object exports) {
  using namespace convkit::binding;
  exports.Set("info", Napi::Function::New(env, runtime_info, "info"));
  exports.Set("getIsa", Napi::Function::New(env, get_isa, "getIsa"));
  exports.Set("setIsa", Napi::Function::New(env, set_isa, "setIsa"));
  exports.Set("getNumThreads", Napi::Function::New(env, get_num_threads, "getNumThreads"));
  exports.Set("setNumThreads", Napi::Function::New(env, set_num_threads, "setNumThreads"));
  exports.Set("_gemm", Napi::Function::New(env, gemm, "_gemm"));
  exports.Set("_fmaPeak", Napi::Function::New(env, fma_peak, "_fmaPeak"));
  exports.Set("_clockGhz", Napi::Function::New(env, clock_ghz, "_clockGhz"));
  return exports;
}

}  // namespace

NODE_API_MODULE(convkit, init)
