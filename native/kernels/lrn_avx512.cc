// Local-response-norm loops for the avx512 path: AVX-512 F/BW/DQ/VL (compiled with -mavx512* only in this file).
// The loops live in lrn_impl.inc, entirely in an anonymous namespace, so this file's vector code is
// never shared with another path through the linker.
// GCC 12 warns inside its own avx512fintrin.h (_mm512_undefined_ps): a known false positive.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>

#include <cstddef>

#include "kernels/lrn.h"

namespace convkit {
namespace {

void sqrt_run(const float* in, float* out, size_t n) {
  size_t j = 0;
  for (; j + 16 <= n; j += 16) _mm512_storeu_ps(out + j, _mm512_sqrt_ps(_mm512_loadu_ps(in + j)));
  if (j < n) {
    const __mmask16 m = static_cast<__mmask16>((1u << (n - j)) - 1u);
    _mm512_mask_storeu_ps(out + j, m, _mm512_sqrt_ps(_mm512_maskz_loadu_ps(m, in + j)));
  }
}

}  // namespace
}  // namespace convkit

#define CONVKIT_LRN_NAME "lrn__avx512"
#include "kernels/lrn_impl.inc"

namespace convkit {

const LrnKernels& lrn_kernels_avx512() { return kLrnKernels; }

}  // namespace convkit
