// Elementwise arithmetic on two contiguous float32 arrays of the same length (residual additions,
// products, quotients): y[i] = a[i] op b[i], each the correctly rounded float32 result (the same
// values JavaScript gives when it computes in double and stores to a Float32Array: float32 inputs
// make double rounding harmless for + - * /). Threaded over large arrays; memory-bound, so plain
// loops the compiler vectorises for the baseline instruction set are enough. y may be a or b
// (in place) but must not partially overlap them.
#pragma once

#include <cstddef>

namespace convkit {

enum class BinaryOp { kAdd = 0, kSub = 1, kMul = 2, kDiv = 3 };

constexpr int kBinaryOpCount = 4;

// On `threads` threads (fewer for small n).
void binary_forward_with(int threads, BinaryOp op, const float* a, const float* b, float* y, size_t n);

// On num_threads() threads.
void binary_forward(BinaryOp op, const float* a, const float* b, float* y, size_t n);

// One element at a time, for tests.
void binary_forward_ref(BinaryOp op, const float* a, const float* b, float* y, size_t n);

}  // namespace convkit
