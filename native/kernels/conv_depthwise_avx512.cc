// The depthwise convolution plane loop for the avx512 path: AVX-512 F/BW/DQ/VL (compiled with -mavx512* only in this file).
// The loop lives in conv_depthwise_impl.inc, in an anonymous namespace.
// GCC 12 warns inside its own avx512fintrin.h (_mm512_undefined_ps under the masked loads): a known
// false positive.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <cstddef>
#include <vector>

#include "kernels/conv_depthwise.h"

// One block of 16 outputs is one 512-bit register.
#pragma GCC target("prefer-vector-width=512")

#define CONVKIT_DEPTHWISE_NAME "depthwise_blocked__avx512"
#include "kernels/conv_depthwise_impl.inc"

namespace convkit {

const DepthwiseKernels& depthwise_kernels_avx512() { return kDepthwiseKernels; }

}  // namespace convkit
