// The depthwise convolution plane loop for the avx2 path: AVX2 + FMA (compiled with -mavx2 -mfma only in this file).
// The loop lives in conv_depthwise_impl.inc, in an anonymous namespace.
#include <cstddef>
#include <vector>

#include "kernels/conv_depthwise.h"

#define CONVKIT_DEPTHWISE_NAME "depthwise_blocked__avx2"
#include "kernels/conv_depthwise_impl.inc"

namespace convkit {

const DepthwiseKernels& depthwise_kernels_avx2() { return kDepthwiseKernels; }

}  // namespace convkit
