// The direct convolution loops for the avx2 path: AVX2 + FMA (compiled with -mavx2 -mfma only in this file).
// The loops live in conv_direct_impl.inc, in an anonymous namespace.
#include <cstddef>

#include "kernels/conv_direct.h"

#define CONVKIT_DIRECT_NAME "conv_direct__avx2"
#include "kernels/conv_direct_impl.inc"

namespace convkit {

const DirectKernels& direct_kernels_avx2() { return kDirectKernels; }

}  // namespace convkit
