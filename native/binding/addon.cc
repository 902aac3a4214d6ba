// The addon's exports, and nothing else: each family registers its own (exports.h). Internal entry
// points start with '_'. N-API modules are context-aware: the addon loads in several worker threads
// at once, and it holds no JS state of its own. Process-wide settings reachable from JS (ISA, threads)
// are atomics in native/runtime; the kernels' tuning globals are written only by the native tests.
#include <napi.h>

#include "binding/exports.h"

namespace {

Napi::Object init(Napi::Env env, Napi::Object exports) {
  using namespace convkit::binding;
  register_runtime(env, exports);
  register_gemm(env, exports);
  register_conv(env, exports);
  register_pool(env, exports);
  register_norm(env, exports);
  register_activation(env, exports);
  register_optim(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(convkit, init)
