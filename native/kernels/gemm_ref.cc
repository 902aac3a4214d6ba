// The reference GEMM: a triple loop with double accumulation, written to be obviously right.
// Every optimised path is tested against it; it is tested against PyTorch through matmul fixtures.
#include <cstddef>

#include "kernels/gemm.h"

namespace convkit {

void compute_gemm_ref(const GemmShape& s, float alpha, const float* a, const float* b, float beta, float* c,
                      const GemmEpilogue& ep) {
  validate_gemm(s, ep);
  for (size_t i = 0; i < s.m; ++i) {
    for (size_t j = 0; j < s.n; ++j) {
      double acc = 0.0;
      if (alpha != 0.0f) {
        for (size_t p = 0; p < s.k; ++p) {
          const float av = s.trans_a == Trans::kNo ? a[i * s.lda + p] : a[p * s.lda + i];
          const float bv = s.trans_b == Trans::kNo ? b[p * s.ldb + j] : b[j * s.ldb + p];
          acc += static_cast<double>(av) * static_cast<double>(bv);
        }
      }
      float& out = c[i * s.ldc + j];
      double v = static_cast<double>(alpha) * acc;
      if (beta != 0.0f) v += static_cast<double>(beta) * static_cast<double>(out);
      if (ep.bias_mode == BiasMode::kPerRow) v += ep.bias[i];
      if (ep.bias_mode == BiasMode::kPerCol) v += ep.bias[j];
      float result = static_cast<float>(v);
      result = apply_relu(result, ep.activation != Activation::kNone, activation_cap(ep.activation));
      out = result;
    }
  }
}

}  // namespace convkit
