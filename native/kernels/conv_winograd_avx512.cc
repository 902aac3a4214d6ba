// The Winograd F(2x2, 3x3) input and output transforms for the avx512 path: AVX-512 F/BW/DQ/VL (compiled with -mavx512* only in this file).
// The loops live in conv_winograd_impl.inc, in an anonymous namespace.
#include <cstddef>

#include "kernels/conv_winograd.h"

// One vector of 16 lanes is one 512-bit register.
#pragma GCC target("prefer-vector-width=512")

#define CONVKIT_WINOGRAD_NAME "winograd_f2x3_transforms__avx512"
#include "kernels/conv_winograd_impl.inc"

namespace convkit {

const WinogradKernels& winograd_kernels_avx512() { return kWinogradKernels; }

}  // namespace convkit
