// Local-response-norm loops for the scalar path: portable C++ (baseline flags; the path arm64 builds use).
// The loops live in lrn_impl.inc, entirely in an anonymous namespace, so this file's vector code is
// never shared with another path through the linker.
#include <cstddef>

#include "kernels/lrn.h"

namespace convkit {
namespace {

void sqrt_run(const float* in, float* out, size_t n) {
  for (size_t j = 0; j < n; ++j) out[j] = __builtin_sqrtf(in[j]);
}

}  // namespace
}  // namespace convkit

#define CONVKIT_LRN_NAME "lrn__scalar"
#include "kernels/lrn_impl.inc"

namespace convkit {

const LrnKernels& lrn_kernels_scalar() { return kLrnKernels; }

}  // namespace convkit
