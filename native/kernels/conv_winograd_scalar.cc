// The Winograd F(2x2, 3x3) input and output transforms for the scalar path: portable C++ (baseline flags; the path arm64 builds use).
// The loops live in conv_winograd_impl.inc, in an anonymous namespace.
#include <cstddef>

#include "kernels/conv_winograd.h"

#define CONVKIT_WINOGRAD_NAME "winograd_f2x3_transforms__scalar"
#include "kernels/conv_winograd_impl.inc"

namespace convkit {

const WinogradKernels& winograd_kernels_scalar() { return kWinogradKernels; }

}  // namespace convkit
