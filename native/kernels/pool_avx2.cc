// Pooling loops for the avx2 path: AVX2 + FMA (compiled with -mavx2 -mfma only in this file).
// The loops live in pool_impl.inc, entirely in an anonymous namespace, so this file's vector code is
// never shared with another path through the linker.
#include <cstddef>
#include <cstdint>

#include "kernels/pool.h"

#define CONVKIT_POOL_NAME "pool_separable__avx2"
#include "kernels/pool_impl.inc"

namespace convkit {

const PoolPlaneKernels& pool_kernels_avx2() { return kPoolKernels; }

}  // namespace convkit
