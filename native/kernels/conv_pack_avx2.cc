// The implicit-im2col packer, AVX2 build (the plain loops, vectorised with AVX2).
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

void conv_pack_columns_avx2(const void* source, size_t k0, size_t kc, size_t col0, size_t cols, size_t nr,
                              float* dst) {
  pack_columns(source, k0, kc, col0, cols, nr, dst);
}

}  // namespace convkit
