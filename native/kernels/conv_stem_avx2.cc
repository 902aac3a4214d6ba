// The stem convolution loop for the avx2 path: AVX2 + FMA (compiled with -mavx2 -mfma only in this file).
// The loop lives in conv_stem_impl.inc, in an anonymous namespace.
#include <cstddef>

#include "kernels/conv_stem.h"

#define CONVKIT_STEM_NAME "conv_stem__avx2"
#include "kernels/conv_stem_impl.inc"

namespace convkit {

const StemKernels& stem_kernels_avx2() { return kStemKernels; }

}  // namespace convkit
