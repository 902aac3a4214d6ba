// Driver of softmax / log-softmax: the tensor is [outer, n, inner]; the work items are rows (inner
// == 1) or tiles of up to kColumnTile adjacent columns of one slab, split over one OpenMP team.
#include <cstddef>

#include "kernels/activation_kernels.h"
#include "kernels/activation_parallel.h"
#include "kernels/softmax.h"
#include "runtime/error.h"
#include "runtime/threads.h"

namespace convkit {
namespace {

constexpr size_t kColumnTile = 64;
constexpr size_t kMinElementsPerThread = 16 * 1024;

struct Items {
  size_t count;  // work items
  size_t tiles;  // column tiles per slab (1 for rows)
};

Items items_of(const SoftmaxShape& s) {
  if (s.inner == 1) return {s.outer, 1};
  const size_t tiles = (s.inner + kColumnTile - 1) / kColumnTile;
  return {s.outer * tiles, tiles};
}

void check_shape(const SoftmaxShape& s) {
  const size_t max = static_cast<size_t>(-1);
  if ((s.n != 0 && s.outer > max / s.n) || (s.inner != 0 && s.outer * s.n > max / s.inner)) {
    throw Error(ErrorCode::kShape, "softmax: tensor too large");
  }
}

// Runs fn(slab offset, j0, j1) for every item, in parallel.
template <class Fn>
void for_each_item(int threads, const SoftmaxShape& s, Fn&& fn) {
  check_shape(s);
  const size_t total = s.outer * s.n * s.inner;
  if (total == 0) return;
  const Items it = items_of(s);
  const int t = pick_threads(threads, total, kMinElementsPerThread);
  parallel_chunks(t, it.count, 1, [&](int, size_t b, size_t e) {
    for (size_t i = b; i < e; ++i) {
      const size_t o = i / it.tiles;
      const size_t j0 = (i % it.tiles) * kColumnTile;
      const size_t j1 = s.inner == 1 ? 1 : (j0 + kColumnTile < s.inner ? j0 + kColumnTile : s.inner);
      fn(o * s.n * s.inner, j0, j1);
    }
  });
}

}  // namespace

void softmax_forward_with(Isa isa, int threads, SoftmaxKind kind, const SoftmaxShape& s, const float* x, float* y) {
  const ActivationKernels& k = activation_kernels(isa);
  for_each_item(threads, s, [&](size_t off, size_t j0, size_t j1) {
    k.softmax_forward(kind, x + off, y + off, s.n, s.inner, j0, j1);
  });
}

void softmax_backward_with(Isa isa, int threads, SoftmaxKind kind, const SoftmaxShape& s, const float* y,
                           const float* dy, float* dx) {
  const ActivationKernels& k = activation_kernels(isa);
  for_each_item(threads, s, [&](size_t off, size_t j0, size_t j1) {
    k.softmax_backward(kind, y + off, dy + off, dx + off, s.n, s.inner, j0, j1);
  });
}

void softmax_forward(SoftmaxKind kind, const SoftmaxShape& s, const float* x, float* y) {
  softmax_forward_with(active_isa(), num_threads(), kind, s, x, y);
}

void softmax_backward(SoftmaxKind kind, const SoftmaxShape& s, const float* y, const float* dy, float* dx) {
  softmax_backward_with(active_isa(), num_threads(), kind, s, y, dy, dx);
}

}  // namespace convkit
