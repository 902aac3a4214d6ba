// The stem convolution loop for the avx512 path: AVX-512 F/BW/DQ/VL (compiled with -mavx512* only in this file).
// The loop lives in conv_stem_impl.inc, in an anonymous namespace.
#include <cstddef>

#include "kernels/conv_stem.h"

// One vector of 16 output channels is one 512-bit register.
#pragma GCC target("prefer-vector-width=512")

#define CONVKIT_STEM_NAME "conv_stem__avx512"
#include "kernels/conv_stem_impl.inc"

namespace convkit {

const StemKernels& stem_kernels_avx512() { return kStemKernels; }

}  // namespace convkit
