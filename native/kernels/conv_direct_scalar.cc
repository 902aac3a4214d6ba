// The direct convolution loops for the portable path (no ISA flags).
// The loops live in conv_direct_impl.inc, in an anonymous namespace.
#include <cstddef>

#include "kernels/conv_direct.h"

#define CONVKIT_DIRECT_NAME "conv_direct__scalar"
#include "kernels/conv_direct_impl.inc"

namespace convkit {

const DirectKernels& direct_kernels_scalar() { return kDirectKernels; }

}  // namespace convkit
