// The reference local response norm: the formulas of lrn.h element by element, in double, written to
// be obviously right. The optimised paths are tested against it; it is tested against PyTorch
// through the golden fixtures.
#include <cmath>

#include "kernels/lrn.h"

namespace convkit {
namespace {

// d at (n, c, s), in double.
double divisor(const LrnShape& sh, const LrnParams& p, const float* x, size_t n, size_t c, size_t s) {
  const long lo = static_cast<long>(c) - static_cast<long>(p.size / 2);
  const long hi = static_cast<long>(c) + static_cast<long>((p.size - 1) / 2);
  double sum = 0.0;
  for (long cc = lo; cc <= hi; ++cc) {
    if (cc < 0 || cc >= static_cast<long>(sh.c)) continue;
    const double v = x[(n * sh.c + static_cast<size_t>(cc)) * sh.s + s];
    sum += v * v;
  }
  return sum / static_cast<double>(p.size) * p.alpha + p.k;
}

}  // namespace

void lrn_forward_ref(const LrnShape& sh, const LrnParams& p, const float* x, float* y) {
  check_lrn(p);
  for (size_t n = 0; n < sh.n; ++n)
    for (size_t c = 0; c < sh.c; ++c)
      for (size_t s = 0; s < sh.s; ++s) {
        const size_t at = (n * sh.c + c) * sh.s + s;
        y[at] = static_cast<float>(x[at] / std::pow(divisor(sh, p, x, n, c, s), p.beta));
      }
}

void lrn_backward_ref(const LrnShape& sh, const LrnParams& p, const float* x, const float* gy, float* gx) {
  check_lrn(p);
  for (size_t n = 0; n < sh.n; ++n)
    for (size_t c = 0; c < sh.c; ++c)
      for (size_t s = 0; s < sh.s; ++s) {
        const size_t at = (n * sh.c + c) * sh.s + s;
        const double d = divisor(sh, p, x, n, c, s);
        double g = gy[at] / std::pow(d, p.beta);
        // Every channel cc whose window [cc - size/2, cc + (size-1)/2] holds c.
        for (size_t cc = 0; cc < sh.c; ++cc) {
          const long lo = static_cast<long>(cc) - static_cast<long>(p.size / 2);
          const long hi = static_cast<long>(cc) + static_cast<long>((p.size - 1) / 2);
          if (static_cast<long>(c) < lo || static_cast<long>(c) > hi) continue;
          const size_t at2 = (n * sh.c + cc) * sh.s + s;
          const double d2 = divisor(sh, p, x, n, cc, s);
          g -= 2.0 * p.alpha * p.beta / static_cast<double>(p.size) * x[at] * gy[at2] * x[at2] *
               std::pow(d2, -p.beta - 1.0);
        }
        gx[at] = static_cast<float>(g);
      }
}

}  // namespace convkit
