// The direct convolution loops for the avx512 path: AVX-512 F/BW/DQ/VL (compiled with -mavx512* only in this file).
// The loops live in conv_direct_impl.inc, in an anonymous namespace.
// GCC 12 warns inside its own avx512fintrin.h (_mm512_undefined_ps under the masked loads): a known
// false positive.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <cstddef>

#include "kernels/conv_direct.h"

// One vector of 16 outputs is one 512-bit register.
#pragma GCC target("prefer-vector-width=512")

#define CONVKIT_DIRECT_NAME "conv_direct__avx512"
#include "kernels/conv_direct_impl.inc"

namespace convkit {

const DirectKernels& direct_kernels_avx512() { return kDirectKernels; }

}  // namespace convkit
