// The stem convolution loop for the portable path (no ISA flags).
// The loop lives in conv_stem_impl.inc, in an anonymous namespace.
#include <cstddef>

#include "kernels/conv_stem.h"

#define CONVKIT_STEM_NAME "conv_stem__scalar"
#include "kernels/conv_stem_impl.inc"

namespace convkit {

const StemKernels& stem_kernels_scalar() { return kStemKernels; }

}  // namespace convkit
