// The implicit-im2col packer, AVX-512 build: each row run is copied 16 floats at a time with one
// masked load (lanes outside the image are not read) and one masked store, instead of scalar
// prologue and epilogue loops; ResNet and CIFAR rows are 7 to 56 floats long.
#include <immintrin.h>

#include <cstdint>

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

// Bit j of an 8-bit mask moved to bit 2j (the even float lanes of a 16-float load).
struct EvenLanes {
  uint16_t bits[256];
  constexpr EvenLanes() : bits() {
    for (int m = 0; m < 256; ++m) {
      uint16_t v = 0;
      for (int j = 0; j < 8; ++j) v = static_cast<uint16_t>(v | (((m >> j) & 1) << (2 * j)));
      bits[m] = v;
    }
  }
};
constexpr EvenLanes kEvenLanes;

// Stride 2 (the 7x7/2 stem, 3x3/2 downsampling): out[i] = src[2i] for lo <= i < hi. Two masked
// loads cover 32 source floats (only the even ones that are needed are read), and one two-source
// permute keeps the even lanes.
inline void copy_run_s2(float* out, const float* src, long lo, long hi, long len) {
  const __m512i evens = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
  for (long i = 0; i < len; i += 16) {
    const __mmask16 store = lanes_below(len - i);
    const unsigned valid = static_cast<unsigned>(lanes_below(hi - i) & ~lanes_below(lo - i)) & store;
    const __m512 a = _mm512_maskz_loadu_ps(kEvenLanes.bits[valid & 0xFFu], src + 2 * i);
    const __m512 b = _mm512_maskz_loadu_ps(kEvenLanes.bits[(valid >> 8) & 0xFFu], src + 2 * i + 16);
    _mm512_mask_storeu_ps(out + i, store, _mm512_permutex2var_ps(a, evens, b));
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
