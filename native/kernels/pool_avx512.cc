// Pooling loops for the avx512 path: AVX-512 F/BW/DQ/VL (compiled with -mavx512* only in this file).
// The loops live in pool_impl.inc, entirely in an anonymous namespace, so this file's vector code is
// never shared with another path through the linker.
#include <cstddef>
#include <cstdint>

#include "kernels/pool.h"

// Pooling rows are short (56 outputs for ResNet's stem pool): with 512-bit vectors GCC's loop
// prologues and masked epilogues cost more than they save. Measured on the 3x3/2 pooling of
// 32x64x112x112, one thread: max forward 21.0 ms with 512-bit loops, 19.1 ms with 256-bit ones.
#pragma GCC target("prefer-vector-width=256")

#define CONVKIT_POOL_NAME "pool_separable__avx512"
#include "kernels/pool_impl.inc"

namespace convkit {

const PoolPlaneKernels& pool_kernels_avx512() { return kPoolKernels; }

}  // namespace convkit
