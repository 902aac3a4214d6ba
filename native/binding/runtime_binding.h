#pragma once

#include <napi.h>

namespace convkit::binding {

// info() -> { isa, isaSupported: {scalar, avx2, avx512}, isaCompiled, threads, openmp, procs, cpu,
//             gemmUkernel, workspaceBytes }
Napi::Value runtime_info(const Napi::CallbackInfo& info);
Napi::Value get_isa(const Napi::CallbackInfo& info);
Napi::Value set_isa(const Napi::CallbackInfo& info);          // (name)
Napi::Value get_num_threads(const Napi::CallbackInfo& info);
Napi::Value set_num_threads(const Napi::CallbackInfo& info);  // (n)
Napi::Value fma_peak(const Napi::CallbackInfo& info);         // (isa, threads) -> GFLOP/s
Napi::Value clock_ghz(const Napi::CallbackInfo& info);        // () -> GHz or 0

}  // namespace convkit::binding
