// Internal: the per-plane forward loop of 2-D depthwise convolution, compiled once per instruction
// set (conv_depthwise_scalar.cc, _avx2.cc, _avx512.cc from conv_depthwise_impl.inc) and chosen at
// run time by conv_depthwise.cc.
#pragma once

#include <cstddef>

#include "kernels/conv.h"
#include "runtime/isa.h"

namespace convkit {

// The geometry of one 2-D plane (the depth axis of ConvParams is 1).
struct DepthwisePlane {
  size_t H, W, OH, OW, KH, KW, sh, sw, dh, dw, pt, pl;
};

DepthwisePlane depthwise_plane_of(const ConvParams& p);

struct DepthwiseKernels {
  const char* name;
  // Floats of scratch one plane needs (a zero-padded copy of the input, split into stride phases).
  size_t (*scratch_floats)(const DepthwisePlane& g);
  // y (OH x OW) = clamp(bias + sum over taps of w[kh][kw] * x[oh*sh + kh*dh - pt][ow*sw + kw*dw - pl]),
  // clamped to [0, cap] when relu (NaN propagates). scratch: scratch_floats(g) floats.
  void (*forward_plane)(const DepthwisePlane& g, const float* x, const float* w, float bias, bool relu, float cap,
                        float* y, float* scratch);
};

const DepthwiseKernels& depthwise_kernels_scalar();
#if defined(CONVKIT_HAVE_X86_KERNELS)
const DepthwiseKernels& depthwise_kernels_avx2();
const DepthwiseKernels& depthwise_kernels_avx512();
#endif

}  // namespace convkit
