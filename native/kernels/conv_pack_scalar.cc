// The implicit-im2col packer, portable build (plain loops the compiler vectorises).
#include "kernels/conv_pack.h"

namespace convkit {
#include "kernels/conv_pack_loops.inc"

#include "kernels/conv_pack_impl.inc"

void conv_pack_columns_scalar(const void* source, size_t k0, size_t kc, size_t col0, size_t cols, size_t nr,
                              float* dst) {
  pack_columns(source, k0, kc, col0, cols, nr, dst);
}

ConvColumnPacker conv_column_packer(Isa isa) {
#if defined(CONVKIT_HAVE_X86_KERNELS)
  if (isa == Isa::kAvx512) return &conv_pack_columns_avx512;
  if (isa == Isa::kAvx2) return &conv_pack_columns_avx2;
#else
  (void)isa;
#endif
  return &conv_pack_columns_scalar;
}

}  // namespace convkit
