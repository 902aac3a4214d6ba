// Local-response-norm loops for the avx2 path: AVX2 + FMA (compiled with -mavx2 -mfma only in this file).
// The loops live in lrn_impl.inc, entirely in an anonymous namespace, so this file's vector code is
// never shared with another path through the linker.
#include <immintrin.h>

#include <cstddef>

#include "kernels/lrn.h"

namespace convkit {
namespace {

void sqrt_run(const float* in, float* out, size_t n) {
  size_t j = 0;
  for (; j + 8 <= n; j += 8) _mm256_storeu_ps(out + j, _mm256_sqrt_ps(_mm256_loadu_ps(in + j)));
  for (; j < n; ++j) out[j] = _mm_cvtss_f32(_mm_sqrt_ss(_mm_set_ss(in[j])));
}

}  // namespace
}  // namespace convkit

#define CONVKIT_LRN_NAME "lrn__avx2"
#include "kernels/lrn_impl.inc"

namespace convkit {

const LrnKernels& lrn_kernels_avx2() { return kLrnKernels; }

}  // namespace convkit
