// Local response normalisation across channels, exactly as torch.nn.functional.local_response_norm:
// for x = [N, C, S] contiguous (S = product of the remaining dims),
//   d[n, c, s] = (sum over c' in [c - size / 2, c + (size - 1) / 2], 0 <= c' < C, of x[n, c', s]^2) / size
//                * alpha + k
//   y = x / d^beta
// (PyTorch pads the channel window asymmetrically, size // 2 before and (size - 1) // 2 after, and
// divides the sum by size even where the window is clipped at the first or last channel).
//
// Backward, with p = d^beta and W'(c) = [c - (size - 1) / 2, c + size / 2] (the channels whose
// window holds c):
//   gx[c] = gy[c] / p[c] - (2 alpha beta / size) x[c] * sum over c' in W'(c) of gy[c'] x[c'] / (p[c'] d[c'])
// recomputing d and p from x (nothing is saved but the input).
//
// d^beta is computed as sqrt(d) * sqrt(sqrt(d)) for beta = 0.75 (AlexNet's value; ~1.5 ulp),
// sqrt(d) for 0.5, d for 1, and powf otherwise. The optimised path (lrn_impl.inc, one copy per
// instruction set) works on blocks of 64 positions of one sample, every channel at once, with an
// OpenMP team over (sample, block) pairs; the reference sums in double.
#pragma once

#include <cstddef>

#include "runtime/isa.h"

namespace convkit {

struct LrnShape {
  size_t n, c, s;
};

struct LrnParams {
  size_t size;  // >= 1
  double alpha, beta, k;
};

// Throws Error(kArgument) for size 0 or a non-finite alpha, beta or k.
void check_lrn(const LrnParams& p);

void lrn_forward(const LrnShape& shape, const LrnParams& p, const float* x, float* y);
void lrn_forward_with(Isa isa, int threads, const LrnShape& shape, const LrnParams& p, const float* x, float* y);
void lrn_forward_ref(const LrnShape& shape, const LrnParams& p, const float* x, float* y);

void lrn_backward(const LrnShape& shape, const LrnParams& p, const float* x, const float* gy, float* gx);
void lrn_backward_with(Isa isa, int threads, const LrnShape& shape, const LrnParams& p, const float* x,
                       const float* gy, float* gx);
void lrn_backward_ref(const LrnShape& shape, const LrnParams& p, const float* x, const float* gy, float* gx);

const char* lrn_kernel_name(Isa isa);

// Internal: one block of `sb` positions of one sample, all channels (channel stride `cs`), per
// instruction set (lrn_impl.inc). scratch holds 3 * channels * sb floats; sb <= kLrnBlock.
constexpr size_t kLrnBlock = 64;

struct LrnKernels {
  const char* name;
  void (*forward)(const float* x, float* y, size_t channels, size_t cs, size_t sb, const LrnParams& p,
                  float* scratch);
  void (*backward)(const float* x, const float* gy, float* gx, size_t channels, size_t cs, size_t sb,
                   const LrnParams& p, float* scratch);
};

const LrnKernels& lrn_kernels_scalar();
#if defined(CONVKIT_HAVE_X86_KERNELS)
const LrnKernels& lrn_kernels_avx2();
const LrnKernels& lrn_kernels_avx512();
#endif

}  // namespace convkit
