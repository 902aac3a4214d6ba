// Batch-norm loops for the avx512 path: AVX-512 F/BW/DQ/VL (compiled with -mavx512* only in this file).
// The loops live in batchnorm_impl.inc, entirely in an anonymous namespace, so this file's vector code
// is never shared with another path through the linker.
#include <cstddef>

#include "kernels/batchnorm.h"

#define CONVKIT_BATCHNORM_NAME "batch_norm__avx512"
#include "kernels/batchnorm_impl.inc"

namespace convkit {

const BatchNormKernels& batch_norm_kernels_avx512() { return kBatchNormKernels; }

}  // namespace convkit
