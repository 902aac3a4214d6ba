// Pooling loops for the scalar path: portable C++ (baseline flags; the path arm64 builds use).
// The loops live in pool_impl.inc, entirely in an anonymous namespace, so this file's vector code is
// never shared with another path through the linker.
#include <cstddef>
#include <cstdint>

#include "kernels/pool.h"

#define CONVKIT_POOL_NAME "pool_separable__scalar"
#include "kernels/pool_impl.inc"

namespace convkit {

const PoolPlaneKernels& pool_kernels_scalar() { return kPoolKernels; }

}  // namespace convkit
