// The channel-blocked convolution loops for the baseline path (the build's portable flags). The
// loops live in conv_nchwc_impl.inc, in an anonymous namespace.
// GCC 12 cannot see that the tail tiles (a run-time count of positions) only read the entries they
// wrote, and warns.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <cstddef>

#include "kernels/conv_nchwc.h"

// A block of 16 channels is four xmm registers: tiles of 1 block x 2 positions.
#define CONVKIT_NCHWC_NB 1
#define CONVKIT_NCHWC_ACC 2
#define CONVKIT_NCHWC_DW_NP 2
#define CONVKIT_NCHWC_NAME "nchwc__scalar"
#include "kernels/conv_nchwc_impl.inc"

namespace convkit {

const NchwcKernels& nchwc_kernels_scalar() { return kNchwcKernels; }

}  // namespace convkit
