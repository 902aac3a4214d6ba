// FMA roof loop for AVX-512: 16 independent zmm accumulators (2 FMA pipes x 4+ cycles latency).
#include <immintrin.h>

#include <cstddef>

#include "kernels/fma_peak.h"

namespace convkit {

double fma_loop_avx512(size_t iters, float seed) {
  constexpr int kChains = 16;
  __m512 acc[kChains];
  const __m512 x = _mm512_set1_ps(0.999999f);
  const __m512 y = _mm512_set1_ps(seed * 1e-7f);
#pragma GCC unroll 16
  for (int i = 0; i < kChains; ++i) acc[i] = _mm512_set1_ps(seed + static_cast<float>(i));
  for (size_t it = 0; it < iters; ++it) {
#pragma GCC unroll 16
    for (int i = 0; i < kChains; ++i) acc[i] = _mm512_fmadd_ps(acc[i], x, y);
  }
  __m512 sum = acc[0];
#pragma GCC unroll 16
  for (int i = 1; i < kChains; ++i) sum = _mm512_add_ps(sum, acc[i]);
  volatile float sink = _mm512_cvtss_f32(sum);
  (void)sink;
  return static_cast<double>(iters) * kChains * 16 * 2;
}

}  // namespace convkit
