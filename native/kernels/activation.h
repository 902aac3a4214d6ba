// Elementwise activations, forward and backward, on contiguous float32 arrays of n elements.
//
//   kind          forward y = f(x)                                   backward reads   dx =
//   kRelu         x < 0 ? 0 : x                                      x                x <= 0 ? 0 : dy
//   kLeakyRelu    x > 0 ? x : x * param        (param: the slope)    x                x > 0 ? dy : dy * param
//   kRelu6        x <= 0 ? 0 : (x >= 6 ? 6 : x)                      x                x <= 0 || x >= 6 ? 0 : dy
//   kSigmoid      1 / (1 + exp(-x))                                  y                dy * (1 - y) * y
//   kTanh         tanh(x)                                            y                dy * (1 - y * y)
//   kGelu         x * Phi(x),  Phi(x) = (1 + erf(x / sqrt 2)) / 2    x                dy * (Phi(x) + x phi(x))
//   kGeluTanh     x/2 (1 + tanh(u)),  u = sqrt(2/pi) (x + 0.044715 x^3)   x           dy * d/dx f(x)
//                 (evaluated as x sigmoid(2u), the same function without the cancellation of 1 + tanh u)
//
// These are PyTorch's definitions, including what happens to NaN: every forward maps NaN to NaN, and
// the backward conditions are written exactly as PyTorch writes them (relu'(NaN) passes dy through,
// leaky'(NaN) is the slope), so the same comparisons give the same results. The backward reads the
// input x or the output y, as PyTorch saves it (sigmoid and tanh from the output).
//
// Accuracy of the vectorised paths against the double-precision reference (every path, dense
// sweeps and special values in native/tests/test_activation.cc): relu, leaky relu and relu6 are
// exact; sigmoid and tanh within 1e-7 + 4e-7 |y| (2-3 ulp), their backward within 1e-7 + 1e-6 |dx|;
// both GELUs within 2e-7 + 1e-5 |y| forward and 4e-7 + 1e-5 |dx| backward (the relative part
// matters only in the far negative tail, where GELU is below 1e-20; Phi comes from erfc there, so
// the tail is more accurate than PyTorch's float formula, which rounds it to 0). The measured
// worst cases use at most a third of these bounds. The reference (activation_ref.cc) evaluates the
// same formulas in double precision with libm and rounds once.
//
// Arrays must not overlap (the output is a separate buffer). n may be 0.
#pragma once

#include <cstddef>

#include "runtime/isa.h"

namespace convkit {

enum class ActKind { kRelu = 0, kLeakyRelu = 1, kRelu6 = 2, kSigmoid = 3, kTanh = 4, kGelu = 5, kGeluTanh = 6 };

constexpr int kActKindCount = 7;

// "relu", "leaky_relu", ...
const char* activation_name(ActKind kind);

// True when the backward reads the forward's output (sigmoid, tanh), false when it reads the input.
bool activation_backward_uses_output(ActKind kind);

// Double-precision reference: the obviously-right loop every path is tested on.
void activation_forward_ref(ActKind kind, float param, const float* x, float* y, size_t n);
void activation_backward_ref(ActKind kind, float param, const float* saved, const float* dy, float* dx, size_t n);

// The vectorised loops of one path on `threads` threads (fewer when n is small).
void activation_forward_with(Isa isa, int threads, ActKind kind, float param, const float* x, float* y, size_t n);
void activation_backward_with(Isa isa, int threads, ActKind kind, float param, const float* saved, const float* dy,
                              float* dx, size_t n);

// The same on active_isa() and num_threads().
void activation_forward(ActKind kind, float param, const float* x, float* y, size_t n);
void activation_backward(ActKind kind, float param, const float* saved, const float* dy, float* dx, size_t n);

}  // namespace convkit
