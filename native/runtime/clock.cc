#include "runtime/clock.h"

#include <chrono>
#include <cstdint>

namespace convkit {

double measure_clock_ghz() {
#if defined(__x86_64__)
  double best = 0.0;
  for (int rep = 0; rep < 5; ++rep) {
    constexpr uint64_t kIters = 2000000;  // x 50 dependent adds = 100M cycles, ~30 ms
    uint64_t x = 0;
    const auto t0 = std::chrono::steady_clock::now();
    for (uint64_t i = 0; i < kIters; ++i) {
      __asm__ volatile(
          ".rept 50\n\t"
          "add $1, %0\n\t"
          ".endr"
          : "+r"(x));
    }
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double ghz = static_cast<double>(kIters) * 50.0 / s * 1e-9;
    if (ghz > best) best = ghz;
  }
  return best;
#else
  return 0.0;
#endif
}

}  // namespace convkit
