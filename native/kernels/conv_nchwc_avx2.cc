// The channel-blocked convolution loops for the avx2 path (AVX2 + FMA, compiled with those flags
// only in this file). The loops live in conv_nchwc_impl.inc, in an anonymous namespace.
// GCC 12 cannot see that the tail tiles (a run-time count of positions) only read the entries they
// wrote, and warns.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <cstddef>

#include "kernels/conv_nchwc.h"

// A block of 16 channels is two ymm registers: 6 accumulators (2 blocks x 3 positions or 1 x 6)
// + 2 weight vectors fill the 16.
#define CONVKIT_NCHWC_NB 2
#define CONVKIT_NCHWC_ACC 6
#define CONVKIT_NCHWC_DW_NP 4
#define CONVKIT_NCHWC_NAME "nchwc__avx2"
#include "kernels/conv_nchwc_impl.inc"

namespace convkit {

const NchwcKernels& nchwc_kernels_avx2() { return kNchwcKernels; }

}  // namespace convkit
