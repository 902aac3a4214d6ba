#include "kernels/optim.h"

#include <cmath>

#include "runtime/threads.h"

namespace convkit {

namespace {

template <bool kMomentum, bool kNesterov>
void sgd_range(const SgdOptions& o, float* __restrict p, const float* __restrict g, float* __restrict buf,
               bool fresh, size_t begin, size_t end) {
  const float neg_lr = -o.lr, wd = o.weight_decay, mu = o.momentum, keep = 1.0f - o.dampening;
  const float sign = o.maximize ? -1.0f : 1.0f;
  for (size_t i = begin; i < end; ++i) {
    // Plain multiply-adds: this file is built for every path (no FMA flags), where std::fma would
    // be a libm call per element; the compiler vectorises these. They round twice where PyTorch's
    // FMA kernels round once: at most an ulp apart.
    float d = sign * g[i];
    if (wd != 0.0f) d = wd * p[i] + d;
    if (kMomentum) {
      const float b = fresh ? d : buf[i] * mu + keep * d;
      buf[i] = b;
      d = kNesterov ? mu * b + d : b;
    }
    p[i] = neg_lr * d + p[i];
  }
}

template <bool kMomentum, bool kNesterov>
void sgd_parallel(const SgdOptions& o, float* p, const float* g, float* buf, bool fresh, size_t n) {
  // Memory-bound: a second thread only pays off on arrays well past the caches.
  constexpr size_t kChunk = size_t{1} << 16;
  const int threads = n >= 4 * kChunk ? num_threads() : 1;
  if (threads <= 1) {
    sgd_range<kMomentum, kNesterov>(o, p, g, buf, fresh, 0, n);
    return;
  }
  const long chunks = static_cast<long>((n + kChunk - 1) / kChunk);
#pragma omp parallel for num_threads(threads) schedule(static)
  for (long c = 0; c < chunks; ++c) {
    const size_t b = static_cast<size_t>(c) * kChunk;
    sgd_range<kMomentum, kNesterov>(o, p, g, buf, fresh, b, b + kChunk < n ? b + kChunk : n);
  }
}

}  // namespace

void sgd_step(const SgdOptions& o, float* p, const float* g, float* buf, bool fresh, size_t n) {
  if (o.momentum == 0.0f) {
    sgd_parallel<false, false>(o, p, g, buf, fresh, n);
  } else if (o.nesterov) {
    sgd_parallel<true, true>(o, p, g, buf, fresh, n);
  } else {
    sgd_parallel<true, false>(o, p, g, buf, fresh, n);
  }
}

void sgd_step_ref(const SgdOptions& o, float* p, const float* g, float* buf, bool fresh, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    double d = o.maximize ? -static_cast<double>(g[i]) : g[i];
    if (o.weight_decay != 0.0f) d = static_cast<float>(d + static_cast<double>(o.weight_decay) * p[i]);
    if (o.momentum != 0.0f) {
      const double b = fresh ? d
                             : static_cast<float>(static_cast<double>(buf[i]) * o.momentum +
                                                  static_cast<double>(1.0f - o.dampening) * d);
      buf[i] = static_cast<float>(b);
      d = o.nesterov ? static_cast<float>(d + static_cast<double>(o.momentum) * buf[i]) : buf[i];
    }
    p[i] = static_cast<float>(static_cast<double>(p[i]) - static_cast<double>(o.lr) * d);
  }
}

}  // namespace convkit
