// f32 GEMM micro-kernel for AVX-512 (F/BW/DQ/VL), compiled with -mavx512* flags only in this file.
// Register budget: MR=12 rows x NR=32 columns = 24 zmm accumulators + 2 zmm B + 1 broadcast = 27/32.
// Zen 5 (this project's machine) has two 512-bit FMA pipes: 24 independent chains cover 2 pipes x
// 4 cycles of latency with room to spare; Zen 4 double-pumps 512-bit ops on 256-bit pipes and
// issues one zmm FMA per cycle.
//
// Everything here is in an anonymous namespace and uses no inline function from a shared header:
// an inline function instantiated here would carry AVX-512 code and the linker could pick it for
// callers on CPUs without AVX-512.
// GCC 12 warns inside its own avx512fintrin.h (_mm512_undefined_ps): a known false positive.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>

#include <cstddef>

#include "kernels/gemm_ukernel.h"

namespace convkit {
namespace {

constexpr size_t kMR = 12;
constexpr size_t kNR = 32;

inline __mmask16 lane_mask(size_t count) {
  return count >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << count) - 1u);
}

// MR rows x 32 columns, or x 16 when kHalf (a last panel of at most 16 columns: the second vector of
// every row would only multiply the panel's zero padding).
template <size_t MR, bool kHalf>
void tile_avx512(size_t nr, size_t kc, const float* __restrict a, const float* __restrict b, float* __restrict c,
                 size_t ldc, const GemmTileArgs& t) {
  __m512 acc0[MR];
  __m512 acc1[MR];
#pragma GCC unroll 16
  for (size_t r = 0; r < MR; ++r) {
    acc0[r] = _mm512_setzero_ps();
    acc1[r] = _mm512_setzero_ps();
  }
  for (size_t p = 0; p < kc; ++p) {
    const __m512 b0 = _mm512_load_ps(b);
    const __m512 b1 = kHalf ? b0 : _mm512_load_ps(b + 16);
#pragma GCC unroll 16
    for (size_t r = 0; r < MR; ++r) {
      const __m512 ar = _mm512_set1_ps(a[r]);
      acc0[r] = _mm512_fmadd_ps(ar, b0, acc0[r]);
      if (!kHalf) acc1[r] = _mm512_fmadd_ps(ar, b1, acc1[r]);
    }
    a += kMR;
    b += kNR;
  }

  const __mmask16 m0 = lane_mask(nr);
  const __mmask16 m1 = !kHalf && nr > 16 ? lane_mask(nr - 16) : static_cast<__mmask16>(0);
  const __m512 valpha = _mm512_set1_ps(t.alpha);
  const __m512 vbeta = _mm512_set1_ps(t.beta);
  __m512 bc0 = _mm512_setzero_ps();
  __m512 bc1 = _mm512_setzero_ps();
  if (t.bias_col != nullptr) {
    bc0 = _mm512_maskz_loadu_ps(m0, t.bias_col);
    bc1 = _mm512_maskz_loadu_ps(m1, t.bias_col + 16);
  }
  const __m512 zero = _mm512_setzero_ps();
  const __m512 vcap = _mm512_set1_ps(t.relu_cap);
#pragma GCC unroll 16
  for (size_t r = 0; r < MR; ++r) {
    float* crow = c + r * ldc;
    __m512 v0 = _mm512_mul_ps(acc0[r], valpha);
    __m512 v1 = _mm512_mul_ps(acc1[r], valpha);
    if (t.beta != 0.0f) {
      v0 = _mm512_fmadd_ps(vbeta, _mm512_maskz_loadu_ps(m0, crow), v0);
      v1 = _mm512_fmadd_ps(vbeta, _mm512_maskz_loadu_ps(m1, crow + 16), v1);
    }
    if (t.bias_row != nullptr) {
      const __m512 br = _mm512_set1_ps(t.bias_row[r]);
      v0 = _mm512_add_ps(v0, br);
      v1 = _mm512_add_ps(v1, br);
    }
    v0 = _mm512_add_ps(v0, bc0);
    v1 = _mm512_add_ps(v1, bc1);
    if (t.relu) {  // max/min return their second operand on NaN: NaN propagates
      v0 = _mm512_min_ps(vcap, _mm512_max_ps(zero, v0));
      v1 = _mm512_min_ps(vcap, _mm512_max_ps(zero, v1));
    }
    _mm512_mask_storeu_ps(crow, m0, v0);
    _mm512_mask_storeu_ps(crow + 16, m1, v1);
  }
}

// 16 x 16 transpose in registers: r[i] lane c -> r[c] lane i.
inline void transpose16x16(__m512 r[16]) {
  __m512 t[16];
  for (int i = 0; i < 8; ++i) {
    t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
  // u[4i + j], 128-bit lane L: column 4L + j of rows 4i..4i+3.
  for (int i = 0; i < 4; ++i) {
    const __m512d a0 = _mm512_castps_pd(t[4 * i]), a1 = _mm512_castps_pd(t[4 * i + 1]);
    const __m512d b0 = _mm512_castps_pd(t[4 * i + 2]), b1 = _mm512_castps_pd(t[4 * i + 3]);
    r[4 * i + 0] = _mm512_castpd_ps(_mm512_unpacklo_pd(a0, b0));
    r[4 * i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a0, b0));
    r[4 * i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(a1, b1));
    r[4 * i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(a1, b1));
  }
  for (int j = 0; j < 4; ++j) {
    const __m512 v0 = _mm512_shuffle_f32x4(r[j], r[4 + j], 0x44);
    const __m512 v1 = _mm512_shuffle_f32x4(r[j], r[4 + j], 0xEE);
    const __m512 w0 = _mm512_shuffle_f32x4(r[8 + j], r[12 + j], 0x44);
    const __m512 w1 = _mm512_shuffle_f32x4(r[8 + j], r[12 + j], 0xEE);
    t[j] = _mm512_shuffle_f32x4(v0, w0, 0x88);
    t[4 + j] = _mm512_shuffle_f32x4(v0, w0, 0xDD);
    t[8 + j] = _mm512_shuffle_f32x4(v1, w1, 0x88);
    t[12 + j] = _mm512_shuffle_f32x4(v1, w1, 0xDD);
  }
  for (int i = 0; i < 16; ++i) r[i] = t[i];
}

// Loads `count` (<= 16) consecutive floats of `rows` source rows into r[0..rows), zeros elsewhere.
inline void load_rows16(const float* src, ptrdiff_t stride, size_t rows, size_t count, __m512 r[16]) {
  const __mmask16 mask = lane_mask(count);
  for (size_t i = 0; i < 16; ++i) {
    r[i] = i < rows ? _mm512_maskz_loadu_ps(mask, src + static_cast<ptrdiff_t>(i) * stride) : _mm512_setzero_ps();
  }
}

// pack_a for MR = 12 when rows of A are contiguous along k: 16 k steps at a time through a transpose.
void pack_a_12__avx512(StridedView a, size_t row0, size_t rows, size_t k0, size_t kc, float* dst) {
  const __mmask16 store_mask = lane_mask(kMR);
  if (a.rs == 1) {  // the MR values of one k step are contiguous (a transposed A): one masked copy each
    for (size_t r0 = 0; r0 < rows; r0 += kMR) {
      const size_t rr = rows - r0 < kMR ? rows - r0 : kMR;
      const __mmask16 load_mask = lane_mask(rr);
      const float* src = a.p + static_cast<ptrdiff_t>(row0 + r0) + static_cast<ptrdiff_t>(k0) * a.cs;
      for (size_t p = 0; p < kc; ++p) {
        _mm512_mask_storeu_ps(dst + p * kMR, store_mask, _mm512_maskz_loadu_ps(load_mask, src + static_cast<ptrdiff_t>(p) * a.cs));
      }
      dst += kc * kMR;
    }
    return;
  }
  if (a.cs != 1) {
    pack_a_panels(a, row0, rows, k0, kc, kMR, dst);
    return;
  }
  for (size_t r0 = 0; r0 < rows; r0 += kMR) {
    const size_t rr = rows - r0 < kMR ? rows - r0 : kMR;
    const float* src = a.p + static_cast<ptrdiff_t>(row0 + r0) * a.rs + static_cast<ptrdiff_t>(k0);
    for (size_t p = 0; p < kc; p += 16) {
      const size_t count = kc - p < 16 ? kc - p : 16;
      __m512 r[16];
      load_rows16(src + p, a.rs, rr, count, r);
      transpose16x16(r);
      for (size_t q = 0; q < count; ++q) _mm512_mask_storeu_ps(dst + (p + q) * kMR, store_mask, r[q]);
    }
    dst += kc * kMR;
  }
}

// pack_b for NR = 32 when columns of B are contiguous along k (a transposed B, or A in the swapped
// orientation).
void pack_b_32__avx512(StridedView b, size_t k0, size_t kc, size_t col0, size_t cols, float* dst) {
  if (b.cs == 1) {  // rows of B contiguous along n (a plain B): two masked copies per k step
    for (size_t j0 = 0; j0 < cols; j0 += kNR) {
      const size_t jj = cols - j0 < kNR ? cols - j0 : kNR;
      const __mmask16 m0 = lane_mask(jj), m1 = jj > 16 ? lane_mask(jj - 16) : static_cast<__mmask16>(0);
      const float* src = b.p + static_cast<ptrdiff_t>(k0) * b.rs + static_cast<ptrdiff_t>(col0 + j0);
      for (size_t p = 0; p < kc; ++p) {
        const float* s = src + static_cast<ptrdiff_t>(p) * b.rs;
        _mm512_storeu_ps(dst + p * kNR, _mm512_maskz_loadu_ps(m0, s));
        _mm512_storeu_ps(dst + p * kNR + 16, _mm512_maskz_loadu_ps(m1, s + 16));
      }
      dst += kc * kNR;
    }
    return;
  }
  if (b.rs != 1) {
    pack_b_panels(b, k0, kc, col0, cols, kNR, dst);
    return;
  }
  for (size_t j0 = 0; j0 < cols; j0 += kNR) {
    const size_t jj = cols - j0 < kNR ? cols - j0 : kNR;
    const float* src = b.p + static_cast<ptrdiff_t>(k0) + static_cast<ptrdiff_t>(col0 + j0) * b.cs;
    for (size_t p = 0; p < kc; p += 16) {
      const size_t count = kc - p < 16 ? kc - p : 16;
      for (size_t half = 0; half < 2; ++half) {
        const size_t rows = jj > half * 16 ? (jj - half * 16 < 16 ? jj - half * 16 : 16) : 0;
        __m512 r[16];
        load_rows16(src + p + static_cast<ptrdiff_t>(half * 16) * b.cs, b.cs, rows, count, r);
        transpose16x16(r);
        for (size_t q = 0; q < count; ++q) _mm512_storeu_ps(dst + (p + q) * kNR + half * 16, r[q]);
      }
    }
    dst += kc * kNR;
  }
}

using TileFn = void (*)(size_t nr, size_t kc, const float* a, const float* b, float* c, size_t ldc,
                       const GemmTileArgs& t);

void f32_gemm_ukernel_12x32__avx512(size_t mr, size_t nr, size_t kc, const float* a, const float* b, float* c,
                                    size_t ldc, const GemmTileArgs& t) {
  static constexpr TileFn kByRows[kMR] = {
      &tile_avx512<1, false>, &tile_avx512<2, false>,  &tile_avx512<3, false>,  &tile_avx512<4, false>,
      &tile_avx512<5, false>, &tile_avx512<6, false>,  &tile_avx512<7, false>,  &tile_avx512<8, false>,
      &tile_avx512<9, false>, &tile_avx512<10, false>, &tile_avx512<11, false>, &tile_avx512<12, false>};
  static constexpr TileFn kHalfByRows[kMR] = {
      &tile_avx512<1, true>, &tile_avx512<2, true>,  &tile_avx512<3, true>,  &tile_avx512<4, true>,
      &tile_avx512<5, true>, &tile_avx512<6, true>,  &tile_avx512<7, true>,  &tile_avx512<8, true>,
      &tile_avx512<9, true>, &tile_avx512<10, true>, &tile_avx512<11, true>, &tile_avx512<12, true>};
  (nr <= 16 ? kHalfByRows : kByRows)[mr - 1](nr, kc, a, b, c, ldc, t);
}

// gemv_dots: the few-rows kernel.
#include "kernels/gemv_impl.inc"

}  // namespace

const GemmUkernel& gemm_ukernel_avx512() {
  static const GemmUkernel k = {"f32_gemm_ukernel_12x32__avx512", kMR, kNR, kNR / 2, 384, 1536, 320,
                                &f32_gemm_ukernel_12x32__avx512, &pack_a_12__avx512, &pack_b_32__avx512, &gemv_dots};
  return k;
}

}  // namespace convkit
