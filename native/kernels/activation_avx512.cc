// The activation-family loops (activation_impl.inc) for AVX-512 (compiled with the kernels_avx512 flags).
#include "kernels/activation_impl.inc"

namespace convkit {

const ActivationKernels& activation_kernels_avx512() {
  static const ActivationKernels kernels = make_activation_kernels("avx512");
  return kernels;
}

}  // namespace convkit
