// The Winograd F(2x2, 3x3) input and output transforms for the avx2 path: AVX2 + FMA (compiled with -mavx2 -mfma only in this file).
// The loops live in conv_winograd_impl.inc, in an anonymous namespace.
#include <cstddef>

#include "kernels/conv_winograd.h"

#define CONVKIT_WINOGRAD_NAME "winograd_f2x3_transforms__avx2"
#include "kernels/conv_winograd_impl.inc"

namespace convkit {

const WinogradKernels& winograd_kernels_avx2() { return kWinogradKernels; }

}  // namespace convkit
