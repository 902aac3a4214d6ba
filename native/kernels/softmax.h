// Softmax and log-softmax over one dimension of a contiguous tensor, forward and backward.
//
// The tensor is viewed as [outer, n, inner] (row-major) and normalised over n: for every (o, j),
//   softmax:      y[o, k, j] = exp(x[o, k, j] - m) / sum_i exp(x[o, i, j] - m)
//   log-softmax:  y[o, k, j] = x[o, k, j] - m - log(sum_i exp(x[o, i, j] - m))
// with m = max_i x[o, i, j] (subtracted for stability: no overflow for any finite input). A NaN
// anywhere in a slice makes the whole slice NaN, and +inf gives NaN (inf - inf), as in PyTorch.
// Backward, from the output y and the output gradient dy:
//   softmax:      dx = y * (dy - sum_k dy_k y_k)
//   log-softmax:  dx = dy - exp(y) * sum_k dy_k
// The last dimension (inner == 1) runs along contiguous rows; other dimensions run along columns,
// vectorised across the inner positions. Sums are float32 in 16 independent lanes per row (or one
// per column): relative error below 1e-6 for n up to ~10^4.
//
// Arrays must not overlap. Any of outer, n, inner may be 0.
#pragma once

#include <cstddef>

#include "runtime/isa.h"

namespace convkit {

enum class SoftmaxKind { kSoftmax = 0, kLogSoftmax = 1 };

struct SoftmaxShape {
  size_t outer = 0, n = 0, inner = 0;
};

// Double-precision reference.
void softmax_forward_ref(SoftmaxKind kind, const SoftmaxShape& s, const float* x, float* y);
void softmax_backward_ref(SoftmaxKind kind, const SoftmaxShape& s, const float* y, const float* dy, float* dx);

// One path on `threads` threads (fewer for small tensors).
void softmax_forward_with(Isa isa, int threads, SoftmaxKind kind, const SoftmaxShape& s, const float* x, float* y);
void softmax_backward_with(Isa isa, int threads, SoftmaxKind kind, const SoftmaxShape& s, const float* y,
                           const float* dy, float* dx);

// active_isa(), num_threads().
void softmax_forward(SoftmaxKind kind, const SoftmaxShape& s, const float* x, float* y);
void softmax_backward(SoftmaxKind kind, const SoftmaxShape& s, const float* y, const float* dy, float* dx);

}  // namespace convkit
