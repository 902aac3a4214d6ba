#include <chrono>
#include <cstddef>

#include "kernels/fma_peak.h"

#if defined(_OPENMP)
#include <omp.h>
#endif

namespace convkit {

// Portable loop: 8 chains of 4 lanes the compiler vectorises for the baseline instruction set.
double fma_loop_scalar(size_t iters, float seed) {
  constexpr int kLanes = 32;
  float acc[kLanes];
  for (int i = 0; i < kLanes; ++i) acc[i] = seed + static_cast<float>(i);
  const float x = 0.999999f, y = seed * 1e-7f;
  for (size_t it = 0; it < iters; ++it) {
    for (int i = 0; i < kLanes; ++i) acc[i] = acc[i] * x + y;
  }
  float sum = 0.0f;
  for (int i = 0; i < kLanes; ++i) sum += acc[i];
  volatile float sink = sum;
  (void)sink;
  return static_cast<double>(iters) * kLanes * 2;
}

double fma_peak_gflops(Isa isa, int threads) {
  require_isa(isa);
  double (*loop)(size_t, float) = &fma_loop_scalar;
#if defined(CONVKIT_HAVE_X86_KERNELS)
  if (isa == Isa::kAvx2) loop = &fma_loop_avx2;
  if (isa == Isa::kAvx512) loop = &fma_loop_avx512;
#endif
  // Size one run to about 50 ms.
  size_t iters = 1 << 16;
  for (;;) {
    const auto t0 = std::chrono::steady_clock::now();
    loop(iters, 1.0f);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (s > 0.01 || iters > (static_cast<size_t>(1) << 40)) {
      iters = static_cast<size_t>(static_cast<double>(iters) * 0.05 / (s > 1e-9 ? s : 1e-9)) + 1;
      break;
    }
    iters *= 4;
  }
  double best = 0.0;
  for (int rep = 0; rep < 3; ++rep) {
    double flops = 0.0;
    const auto t0 = std::chrono::steady_clock::now();
#if defined(_OPENMP)
#pragma omp parallel num_threads(threads) reduction(+ : flops)
    flops += loop(iters, 1.0f + static_cast<float>(omp_get_thread_num()));
#else
    (void)threads;
    flops = loop(iters, 1.0f);
#endif
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double g = flops / s * 1e-9;
    if (g > best) best = g;
  }
  return best;
}

}  // namespace convkit
