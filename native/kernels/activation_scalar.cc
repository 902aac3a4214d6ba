// The activation-family loops (activation_impl.inc) for the portable path: baseline flags (SSE2 on x86-64, NEON on arm64).
#include "kernels/activation_impl.inc"

namespace convkit {

const ActivationKernels& activation_kernels_scalar() {
  static const ActivationKernels kernels = make_activation_kernels("scalar");
  return kernels;
}

}  // namespace convkit
