// Portable f32 GEMM micro-kernel: plain C++ the compiler vectorises for the baseline instruction
// set of the build (SSE2 on x86-64, NEON on arm64). This is the "scalar" path: the one that runs on
// any CPU, and the one CONVKIT_ISA=scalar forces. Tile 4 x 8: 32 accumulators, 8 SSE/NEON registers.
#include <cstddef>

#include "kernels/gemm_ukernel.h"

namespace convkit {
namespace {

constexpr size_t kMR = 4;
constexpr size_t kNR = 8;

void f32_gemm_ukernel_4x8__scalar(size_t mr, size_t nr, size_t kc, const float* __restrict a,
                                  const float* __restrict b, float* __restrict c, size_t ldc,
                                  const GemmTileArgs& t) {
  float acc[kMR][kNR] = {};
  for (size_t p = 0; p < kc; ++p) {
    for (size_t r = 0; r < kMR; ++r) {
      const float ar = a[r];
      for (size_t j = 0; j < kNR; ++j) acc[r][j] += ar * b[j];
    }
    a += kMR;
    b += kNR;
  }
  for (size_t r = 0; r < mr; ++r) {
    float* crow = c + r * ldc;
    const float br = t.bias_row != nullptr ? t.bias_row[r] : 0.0f;
    for (size_t j = 0; j < nr; ++j) {
      float v = t.alpha * acc[r][j];
      if (t.beta != 0.0f) v += t.beta * crow[j];
      v += br;
      if (t.bias_col != nullptr) v += t.bias_col[j];
      v = apply_relu(v, t.relu, t.relu_cap);  // NaN propagates, as in PyTorch
      crow[j] = v;
    }
  }
}

// gemv_dots: the few-rows kernel.
#include "kernels/gemv_impl.inc"

}  // namespace

const GemmUkernel& gemm_ukernel_scalar() {
  static const GemmUkernel k = {"f32_gemm_ukernel_4x8__scalar", kMR, kNR, kNR, 256, 512, 1024,
                                &f32_gemm_ukernel_4x8__scalar, nullptr, nullptr, &gemv_dots};
  return k;
}

}  // namespace convkit
