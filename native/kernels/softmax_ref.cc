// Reference softmax / log-softmax: the definitions of softmax.h in double precision, one slice at a
// time (max, then the sum of exponentials, then the outputs). Obviously right, not fast.
#include <cmath>
#include <cstddef>
#include <limits>

#include "kernels/softmax.h"

namespace convkit {

void softmax_forward_ref(SoftmaxKind kind, const SoftmaxShape& s, const float* x, float* y) {
  for (size_t o = 0; o < s.outer; ++o) {
    for (size_t j = 0; j < s.inner; ++j) {
      const size_t base = o * s.n * s.inner + j;
      double m = -std::numeric_limits<double>::infinity();
      for (size_t k = 0; k < s.n; ++k) {
        const double v = x[base + k * s.inner];
        if (v > m) m = v;
      }
      double sum = 0.0;
      for (size_t k = 0; k < s.n; ++k) sum += std::exp(static_cast<double>(x[base + k * s.inner]) - m);
      for (size_t k = 0; k < s.n; ++k) {
        const double d = static_cast<double>(x[base + k * s.inner]) - m;
        y[base + k * s.inner] =
            static_cast<float>(kind == SoftmaxKind::kSoftmax ? std::exp(d) / sum : d - std::log(sum));
      }
    }
  }
}

void softmax_backward_ref(SoftmaxKind kind, const SoftmaxShape& s, const float* y, const float* dy, float* dx) {
  for (size_t o = 0; o < s.outer; ++o) {
    for (size_t j = 0; j < s.inner; ++j) {
      const size_t base = o * s.n * s.inner + j;
      double acc = 0.0;
      for (size_t k = 0; k < s.n; ++k) {
        const size_t i = base + k * s.inner;
        acc += kind == SoftmaxKind::kSoftmax ? static_cast<double>(dy[i]) * y[i] : static_cast<double>(dy[i]);
      }
      for (size_t k = 0; k < s.n; ++k) {
        const size_t i = base + k * s.inner;
        dx[i] = static_cast<float>(kind == SoftmaxKind::kSoftmax ? y[i] * (dy[i] - acc)
                                                                 : dy[i] - std::exp(static_cast<double>(y[i])) * acc);
      }
    }
  }
}

}  // namespace convkit
