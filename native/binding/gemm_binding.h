#pragma once

#include <napi.h>

namespace convkit::binding {

// _gemm(transA, transB, m, n, k, alpha, a, aOffset, lda, b, bOffset, ldb, beta, c, cOffset, ldc,
//       biasMode /* 0 none, 1 per row, 2 per column */, bias /* Float32Array | null */, relu,
//       isa /* string | null: active */, threads /* number | null: getNumThreads() */) -> undefined
// Writes into c. Synchronous: callers above keep large products off the event loop.
Napi::Value gemm(const Napi::CallbackInfo& info);

}  // namespace convkit::binding
