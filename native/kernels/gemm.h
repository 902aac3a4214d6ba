// Single-precision GEMM on row-major matrices.
//
//   C[m x n] = act(alpha * op(A) * op(B) + beta * C + bias)
//
// op(X) is X or its transpose. A is stored m x k (or k x m when transposed) with row stride lda,
// B is stored k x n (or n x k when transposed) with row stride ldb, C is m x n with row stride ldc.
// Semantics follow BLAS sgemm: when beta == 0, C is not read (it may hold NaN garbage); when
// alpha == 0 or k == 0, A and B are not read. The epilogue (bias per row of C or per column of C,
// then ReLU) is applied once, after the full sum, so convolution layers need no extra pass.
//
// No upper bound on rounding error is promised beyond what a float32 dot product of length k
// gives: the blocked paths sum in a different order than the reference.
#pragma once

#include <cstddef>

#include "runtime/isa.h"

namespace convkit {

enum class Trans { kNo, kYes };
enum class BiasMode { kNone, kPerRow, kPerCol };
// The activation a fused epilogue applies: ReLU is max(0, v), ReLU6 min(max(0, v), 6) (MobileNet);
// a NaN stays NaN, as in PyTorch.
enum class Activation { kNone, kRelu, kRelu6 };

// Upper bound of the clamp an activation applies after max(0, .) (+inf for ReLU).
inline float activation_cap(Activation a) { return a == Activation::kRelu6 ? 6.0f : __builtin_inff(); }

// The scalar epilogue: v clamped to [0, cap] when relu is set; NaN propagates.
inline float apply_relu(float v, bool relu, float cap) {
  if (!relu || v != v) return v;
  return v > 0.0f ? (v < cap ? v : cap) : 0.0f;
}

struct GemmEpilogue {
  BiasMode bias_mode = BiasMode::kNone;
  const float* bias = nullptr;  // m floats (kPerRow) or n floats (kPerCol)
  Activation activation = Activation::kNone;
};

struct GemmShape {
  Trans trans_a = Trans::kNo;
  Trans trans_b = Trans::kNo;
  size_t m = 0, n = 0, k = 0;
  size_t lda = 0, ldb = 0, ldc = 0;
};

// Throws Error(kArgument) when a leading dimension is smaller than the row it strides over,
// or when a bias mode is set without a bias pointer.
void validate_gemm(const GemmShape& s, const GemmEpilogue& ep);

// The obviously-right triple loop (double accumulation). The reference every path is tested on.
void compute_gemm_ref(const GemmShape& s, float alpha, const float* a, const float* b, float beta, float* c,
                      const GemmEpilogue& ep = {});

// Blocked, packed, multithreaded GEMM on the given path with the given number of threads.
void compute_gemm_with(Isa isa, int threads, const GemmShape& s, float alpha, const float* a, const float* b,
                       float beta, float* c, const GemmEpilogue& ep = {});

// compute_gemm_with(active_isa(), num_threads(), ...).
void compute_gemm(const GemmShape& s, float alpha, const float* a, const float* b, float beta, float* c,
                  const GemmEpilogue& ep = {});

// A producer of B panels for an operand that is never materialised (the implicit im2col of a
// convolution). `pack` fills ceil(cols / nr) panels of kc x nr floats, laid out [p][j], for
// operand columns [col0, col0 + cols) and depth [k0, k0 + kc); columns past `cols` must be zero.
// It is called from several threads at once for disjoint column ranges.
struct GemmPanelSource {
  void (*pack)(const void* ctx, size_t k0, size_t kc, size_t col0, size_t cols, size_t nr, float* dst);
  const void* ctx;
};

// GEMM whose B (k x n) comes from a panel source; A, C, alpha, beta and the epilogue as above
// (s.trans_b and s.ldb are ignored). Always the normal orientation (no swap for narrow outputs).
void compute_gemm_b_source(Isa isa, int threads, const GemmShape& s, float alpha, const float* a,
                           const GemmPanelSource& b, float beta, float* c, const GemmEpilogue& ep = {});

// Test hooks (not thread-safe; for the native tests only). Blocking overrides shrink the cache
// blocks so small shapes cross every block boundary; a parallel threshold of 0 makes every call
// use all requested threads.
struct GemmBlocking {
  size_t kc = 0, mc = 0, nc = 0;  // 0 keeps the micro-kernel's default
};
void gemm_set_blocking_for_testing(const GemmBlocking& blocking);
void gemm_set_parallel_threshold_for_testing(double min_flops_per_thread);
void gemm_reset_tuning_for_testing();

// Name of the micro-kernel a path uses, e.g. "f32_gemm_ukernel_12x32__avx512".
const char* gemm_ukernel_name(Isa isa);

}  // namespace convkit
