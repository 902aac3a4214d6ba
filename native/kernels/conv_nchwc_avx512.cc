// The channel-blocked convolution loops for the avx512 path: AVX-512 F/BW/DQ/VL (compiled with
// -mavx512* only in this file). The loops live in conv_nchwc_impl.inc, in an anonymous namespace.
// GCC 12 warns inside its own avx512fintrin.h (_mm512_undefined_ps under _mm512_set1_ps): a known
// false positive.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <cstddef>

#include "kernels/conv_nchwc.h"

// One block of 16 channels is one 512-bit register.
#pragma GCC target("prefer-vector-width=512")

// Tiles of 24 accumulators (4 output blocks x 6 positions, 3 x 8, 2 x 12 or 1 x 24) + up to 4
// weight vectors of the 32 zmm registers.
#define CONVKIT_NCHWC_NB 4
#define CONVKIT_NCHWC_ACC 24
#define CONVKIT_NCHWC_DW_NP 8
#define CONVKIT_NCHWC_NAME "nchwc__avx512"
#include "kernels/conv_nchwc_impl.inc"

namespace convkit {

const NchwcKernels& nchwc_kernels_avx512() { return kNchwcKernels; }

}  // namespace convkit
