// The implicit-im2col packer, portable build (plain loops the compiler vectorises).
#include "kernels/conv_pack.h"

namespace convkit {
namespace {

inline void copy_run(float* out, const float* src, long lo, long hi, long len) {
  for (long i = 0; i < lo; ++i) out[i] = 0.0f;
  for (long i = lo; i < hi; ++i) out[i] = src[i];
  for (long i = hi; i < len; ++i) out[i] = 0.0f;
}

inline void copy_run_s2(float* out, const float* src, long lo, long hi, long len) {
  for (long i = 0; i < lo; ++i) out[i] = 0.0f;
  for (long i = lo; i < hi; ++i) out[i] = src[2 * i];
  for (long i = hi; i < len; ++i) out[i] = 0.0f;
}

inline void zero_run(float* out, long len) {
  for (long i = 0; i < len; ++i) out[i] = 0.0f;
}

}  // namespace

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
