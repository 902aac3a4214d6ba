// The implicit-im2col packer, AVX2 build (the plain loops, vectorised with AVX2).
#include "kernels/conv_pack.h"

namespace convkit {
#include "kernels/conv_pack_loops.inc"

#include "kernels/conv_pack_impl.inc"

void conv_pack_columns_avx2(const void* source, size_t k0, size_t kc, size_t col0, size_t cols, size_t nr,
                              float* dst) {
  pack_columns(source, k0, kc, col0, cols, nr, dst);
}

}  // namespace convkit
