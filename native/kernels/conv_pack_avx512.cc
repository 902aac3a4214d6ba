// The implicit-im2col packer, AVX-512 build: each row run is copied 16 floats at a time with one
// masked load (lanes outside the image are not read) and one masked store, instead of scalar
// prologue and epilogue loops; ResNet and CIFAR rows are 7 to 56 floats long.
#include <immintrin.h>

#include "kernels/conv_pack.h"

namespace convkit {
namespace {

inline __mmask16 lanes_below(long n) {
  return n <= 0 ? static_cast<__mmask16>(0) : n >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << n) - 1u);
}

inline void copy_run(float* out, const float* src, long lo, long hi, long len) {
  for (long i = 0; i < len; i += 16) {
    const __mmask16 store = lanes_below(len - i);
    // Lanes j with lo <= i + j < hi are read; the others become zero and are never touched.
    const __mmask16 load = static_cast<__mmask16>(lanes_below(hi - i) & ~lanes_below(lo - i)) & store;
    _mm512_mask_storeu_ps(out + i, store, _mm512_maskz_loadu_ps(load, src + i));
  }
}

inline void zero_run(float* out, long len) {
  const __m512 zero = _mm512_setzero_ps();
  for (long i = 0; i < len; i += 16) _mm512_mask_storeu_ps(out + i, lanes_below(len - i), zero);
}

}  // namespace

#include "kernels/conv_pack_impl.inc"

void conv_pack_columns_avx512(const void* source, size_t k0, size_t kc, size_t col0, size_t cols, size_t nr,
                              float* dst) {
  pack_columns(source, k0, kc, col0, cols, nr, dst);
}

}  // namespace convkit
