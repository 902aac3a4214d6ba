// The activation-family loops (activation_impl.inc) for AVX2 + FMA (compiled with the kernels_avx2 flags).
#include "kernels/activation_impl.inc"

namespace convkit {

const ActivationKernels& activation_kernels_avx2() {
  static const ActivationKernels kernels = make_activation_kernels("avx2");
  return kernels;
}

}  // namespace convkit
