#include "kernels/elementwise.h"

#include "kernels/activation_parallel.h"
#include "runtime/error.h"
#include "runtime/threads.h"

namespace convkit {
namespace {

constexpr size_t kMinPerThread = 64 * 1024;  // streams at memory speed: a fork/join needs this much
constexpr size_t kAlign = 16;                // floats per 64-byte line

// No __restrict: y may be a or b (in place).
template <class F>
void loop(const float* a, const float* b, float* y, size_t n, F f) {
#pragma omp simd
  for (size_t i = 0; i < n; ++i) y[i] = f(a[i], b[i]);
}

void run(BinaryOp op, const float* a, const float* b, float* y, size_t n) {
  switch (op) {
    case BinaryOp::kAdd: loop(a, b, y, n, [](float u, float v) { return u + v; }); return;
    case BinaryOp::kSub: loop(a, b, y, n, [](float u, float v) { return u - v; }); return;
    case BinaryOp::kMul: loop(a, b, y, n, [](float u, float v) { return u * v; }); return;
    case BinaryOp::kDiv: loop(a, b, y, n, [](float u, float v) { return u / v; }); return;
  }
}

}  // namespace

void binary_forward_with(int threads, BinaryOp op, const float* a, const float* b, float* y, size_t n) {
  // Checked here, once: the loops run inside an OpenMP region, which no exception may leave.
  if (static_cast<int>(op) < 0 || static_cast<int>(op) >= kBinaryOpCount) {
    throw Error(ErrorCode::kArgument, "binary: unknown operation " + std::to_string(static_cast<int>(op)));
  }
  const int t = pick_threads(threads, n, kMinPerThread);
  parallel_chunks(t, n, kAlign, [&](int, size_t lo, size_t hi) { run(op, a + lo, b + lo, y + lo, hi - lo); });
}

void binary_forward(BinaryOp op, const float* a, const float* b, float* y, size_t n) {
  binary_forward_with(num_threads(), op, a, b, y, n);
}

void binary_forward_ref(BinaryOp op, const float* a, const float* b, float* y, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    const double u = a[i], v = b[i];
    double r = 0.0;
    switch (op) {
      case BinaryOp::kAdd: r = u + v; break;
      case BinaryOp::kSub: r = u - v; break;
      case BinaryOp::kMul: r = u * v; break;
      case BinaryOp::kDiv: r = u / v; break;
    }
    y[i] = static_cast<float>(r);
  }
}

}  // namespace convkit
