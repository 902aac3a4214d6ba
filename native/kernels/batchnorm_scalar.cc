// Batch-norm loops for the scalar path: portable C++ (baseline flags; the path arm64 builds use).
// The loops live in batchnorm_impl.inc, entirely in an anonymous namespace, so this file's vector code
// is never shared with another path through the linker.
#include <cstddef>

#include "kernels/batchnorm.h"

#define CONVKIT_BATCHNORM_NAME "batch_norm__scalar"
#include "kernels/batchnorm_impl.inc"

namespace convkit {

const BatchNormKernels& batch_norm_kernels_scalar() { return kBatchNormKernels; }

}  // namespace convkit
