// Batch-norm loops for the avx2 path: AVX2 + FMA (compiled with -mavx2 -mfma only in this file).
// The loops live in batchnorm_impl.inc, entirely in an anonymous namespace, so this file's vector code
// is never shared with another path through the linker.
#include <cstddef>

#include "kernels/batchnorm.h"

#define CONVKIT_BATCHNORM_NAME "batch_norm__avx2"
#include "kernels/batchnorm_impl.inc"

namespace convkit {

const BatchNormKernels& batch_norm_kernels_avx2() { return kBatchNormKernels; }

}  // namespace convkit
