// The depthwise convolution plane loop for the scalar path: portable C++ (baseline flags; the path arm64 builds use).
// The loop lives in conv_depthwise_impl.inc, in an anonymous namespace.
#include <cstddef>
#include <vector>

#include "kernels/conv_depthwise.h"

#define CONVKIT_DEPTHWISE_NAME "depthwise_blocked__scalar"
#include "kernels/conv_depthwise_impl.inc"

namespace convkit {

const DepthwiseKernels& depthwise_kernels_scalar() { return kDepthwiseKernels; }

}  // namespace convkit
