// f32 GEMM micro-kernel for AVX2 + FMA, compiled with -mavx2 -mfma only in this file.
// Register budget: MR=6 rows x NR=16 columns = 12 ymm accumulators + 2 ymm B + 1 broadcast = 15/16.
// Two FMAs per cycle on Zen 4 / Haswell-class cores, 12 independent chains for the 4-5 cycle latency.
//
// No inline function from a shared header is used here (see gemm_ukernel_avx512.cc).
#include <immintrin.h>

#include <cstddef>

#include "kernels/gemm_ukernel.h"

namespace convkit {
namespace {

constexpr size_t kMR = 6;
constexpr size_t kNR = 16;

template <size_t MR>
void tile_avx2(size_t nr, size_t kc, const float* __restrict a, const float* __restrict b, float* __restrict c,
               size_t ldc, const GemmTileArgs& t) {
  __m256 acc0[MR];
  __m256 acc1[MR];
#pragma GCC unroll 8
  for (size_t r = 0; r < MR; ++r) {
    acc0[r] = _mm256_setzero_ps();
    acc1[r] = _mm256_setzero_ps();
  }
  for (size_t p = 0; p < kc; ++p) {
    const __m256 b0 = _mm256_load_ps(b);
    const __m256 b1 = _mm256_load_ps(b + 8);
#pragma GCC unroll 8
    for (size_t r = 0; r < MR; ++r) {
      const __m256 ar = _mm256_broadcast_ss(a + r);
      acc0[r] = _mm256_fmadd_ps(ar, b0, acc0[r]);
      acc1[r] = _mm256_fmadd_ps(ar, b1, acc1[r]);
    }
    a += kMR;
    b += kNR;
  }

  const __m256 valpha = _mm256_set1_ps(t.alpha);
  const __m256 vbeta = _mm256_set1_ps(t.beta);
  const __m256 zero = _mm256_setzero_ps();
  const __m256 vcap = _mm256_set1_ps(t.relu_cap);
  if (nr == kNR) {
    __m256 bc0 = zero, bc1 = zero;
    if (t.bias_col != nullptr) {
      bc0 = _mm256_loadu_ps(t.bias_col);
      bc1 = _mm256_loadu_ps(t.bias_col + 8);
    }
#pragma GCC unroll 8
    for (size_t r = 0; r < MR; ++r) {
      float* crow = c + r * ldc;
      __m256 v0 = _mm256_mul_ps(acc0[r], valpha);
      __m256 v1 = _mm256_mul_ps(acc1[r], valpha);
      if (t.beta != 0.0f) {
        v0 = _mm256_fmadd_ps(vbeta, _mm256_loadu_ps(crow), v0);
        v1 = _mm256_fmadd_ps(vbeta, _mm256_loadu_ps(crow + 8), v1);
      }
      if (t.bias_row != nullptr) {
        const __m256 br = _mm256_set1_ps(t.bias_row[r]);
        v0 = _mm256_add_ps(v0, br);
        v1 = _mm256_add_ps(v1, br);
      }
      v0 = _mm256_add_ps(v0, bc0);
      v1 = _mm256_add_ps(v1, bc1);
      if (t.relu) {  // max/min return their second operand on NaN: NaN propagates
        v0 = _mm256_min_ps(vcap, _mm256_max_ps(zero, v0));
        v1 = _mm256_min_ps(vcap, _mm256_max_ps(zero, v1));
      }
      _mm256_storeu_ps(crow, v0);
      _mm256_storeu_ps(crow + 8, v1);
    }
    return;
  }
  // Column tail: spill the tile and update the valid columns one by one.
  alignas(32) float tmp[MR * kNR];
#pragma GCC unroll 8
  for (size_t r = 0; r < MR; ++r) {
    _mm256_store_ps(tmp + r * kNR, acc0[r]);
    _mm256_store_ps(tmp + r * kNR + 8, acc1[r]);
  }
  for (size_t r = 0; r < MR; ++r) {
    float* crow = c + r * ldc;
    const float br = t.bias_row != nullptr ? t.bias_row[r] : 0.0f;
    for (size_t j = 0; j < nr; ++j) {
      float v = t.alpha * tmp[r * kNR + j];
      if (t.beta != 0.0f) v += t.beta * crow[j];
      v += br;
      if (t.bias_col != nullptr) v += t.bias_col[j];
      v = apply_relu(v, t.relu, t.relu_cap);  // NaN propagates, as in PyTorch
      crow[j] = v;
    }
  }
}

// 8 x 8 transpose in registers: r[i] lane j -> r[j] lane i.
inline void transpose8x8(__m256 r[8]) {
  __m256 t[8], u[8];
  for (int i = 0; i < 4; ++i) {
    t[2 * i] = _mm256_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm256_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
  for (int h = 0; h < 2; ++h) {
    u[4 * h + 0] = _mm256_shuffle_ps(t[4 * h + 0], t[4 * h + 2], 0x44);
    u[4 * h + 1] = _mm256_shuffle_ps(t[4 * h + 0], t[4 * h + 2], 0xEE);
    u[4 * h + 2] = _mm256_shuffle_ps(t[4 * h + 1], t[4 * h + 3], 0x44);
    u[4 * h + 3] = _mm256_shuffle_ps(t[4 * h + 1], t[4 * h + 3], 0xEE);
  }
  for (int j = 0; j < 4; ++j) {
    r[j] = _mm256_permute2f128_ps(u[j], u[4 + j], 0x20);
    r[4 + j] = _mm256_permute2f128_ps(u[j], u[4 + j], 0x31);
  }
}

inline __m256i tail_mask8(size_t count) {
  const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(count)), idx);
}

// Loads up to 8 consecutive floats (count of them, rest zero) of `rows` source rows into r[0..rows).
inline void load_rows8(const float* src, ptrdiff_t stride, size_t rows, size_t count, __m256 r[8]) {
  const __m256i mask = tail_mask8(count);
  for (size_t i = 0; i < 8; ++i) {
    r[i] = i < rows ? (count == 8 ? _mm256_loadu_ps(src + static_cast<ptrdiff_t>(i) * stride)
                                  : _mm256_maskload_ps(src + static_cast<ptrdiff_t>(i) * stride, mask))
                    : _mm256_setzero_ps();
  }
}

// pack_a for MR = 6 when rows of A are contiguous along k: 8 k steps at a time through a transpose.
void pack_a_6__avx2(StridedView a, size_t row0, size_t rows, size_t k0, size_t kc, float* dst) {
  if (a.rs == 1) {  // the MR values of one k step are contiguous (a transposed A)
    for (size_t r0 = 0; r0 < rows; r0 += kMR) {
      const size_t rr = rows - r0 < kMR ? rows - r0 : kMR;
      const float* src = a.p + static_cast<ptrdiff_t>(row0 + r0) + static_cast<ptrdiff_t>(k0) * a.cs;
      if (rr == kMR) {
        for (size_t p = 0; p < kc; ++p) {
          const float* s = src + static_cast<ptrdiff_t>(p) * a.cs;
          _mm_storeu_ps(dst + p * kMR, _mm_loadu_ps(s));
          _mm_storel_pi(reinterpret_cast<__m64*>(dst + p * kMR + 4), _mm_castsi128_ps(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(s + 4))));
        }
      } else {
        for (size_t p = 0; p < kc; ++p) {
          const float* s = src + static_cast<ptrdiff_t>(p) * a.cs;
          for (size_t r = 0; r < kMR; ++r) dst[p * kMR + r] = r < rr ? s[r] : 0.0f;
        }
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
    for (size_t p = 0; p < kc; p += 8) {
      const size_t count = kc - p < 8 ? kc - p : 8;
      __m256 r[8];
      load_rows8(src + p, a.rs, rr, count, r);
      transpose8x8(r);
      for (size_t q = 0; q < count; ++q) {
        float* d = dst + (p + q) * kMR;
        _mm_storeu_ps(d, _mm256_castps256_ps128(r[q]));
        _mm_storel_pi(reinterpret_cast<__m64*>(d + 4), _mm256_extractf128_ps(r[q], 1));
      }
    }
    dst += kc * kMR;
  }
}

// pack_b for NR = 16 when columns of B are contiguous along k (a transposed B).
void pack_b_16__avx2(StridedView b, size_t k0, size_t kc, size_t col0, size_t cols, float* dst) {
  if (b.cs == 1) {  // rows of B contiguous along n (a plain B)
    for (size_t j0 = 0; j0 < cols; j0 += kNR) {
      const size_t jj = cols - j0 < kNR ? cols - j0 : kNR;
      const __m256i m0 = tail_mask8(jj), m1 = tail_mask8(jj > 8 ? jj - 8 : 0);
      const float* src = b.p + static_cast<ptrdiff_t>(k0) * b.rs + static_cast<ptrdiff_t>(col0 + j0);
      for (size_t p = 0; p < kc; ++p) {
        const float* s = src + static_cast<ptrdiff_t>(p) * b.rs;
        if (jj == kNR) {
          _mm256_storeu_ps(dst + p * kNR, _mm256_loadu_ps(s));
          _mm256_storeu_ps(dst + p * kNR + 8, _mm256_loadu_ps(s + 8));
        } else {
          _mm256_storeu_ps(dst + p * kNR, _mm256_maskload_ps(s, m0));
          _mm256_storeu_ps(dst + p * kNR + 8, _mm256_maskload_ps(s + 8, m1));
        }
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
    for (size_t p = 0; p < kc; p += 8) {
      const size_t count = kc - p < 8 ? kc - p : 8;
      for (size_t half = 0; half < 2; ++half) {
        const size_t rows = jj > half * 8 ? (jj - half * 8 < 8 ? jj - half * 8 : 8) : 0;
        __m256 r[8];
        load_rows8(src + p + static_cast<ptrdiff_t>(half * 8) * b.cs, b.cs, rows, count, r);
        transpose8x8(r);
        for (size_t q = 0; q < count; ++q) _mm256_storeu_ps(dst + (p + q) * kNR + half * 8, r[q]);
      }
    }
    dst += kc * kNR;
  }
}

using TileFn = void (*)(size_t nr, size_t kc, const float* a, const float* b, float* c, size_t ldc,
                       const GemmTileArgs& t);

void f32_gemm_ukernel_6x16__avx2(size_t mr, size_t nr, size_t kc, const float* a, const float* b, float* c,
                                 size_t ldc, const GemmTileArgs& t) {
  static constexpr TileFn kByRows[kMR] = {&tile_avx2<1>, &tile_avx2<2>, &tile_avx2<3>,
                                          &tile_avx2<4>, &tile_avx2<5>, &tile_avx2<6>};
  kByRows[mr - 1](nr, kc, a, b, c, ldc, t);
}

// gemv_dots: the few-rows kernel.
#include "kernels/gemv_impl.inc"

}  // namespace

const GemmUkernel& gemm_ukernel_avx2() {
  static const GemmUkernel k = {"f32_gemm_ukernel_6x16__avx2", kMR, kNR, kNR, 256, 1536, 512,
                                &f32_gemm_ukernel_6x16__avx2, &pack_a_6__avx2, &pack_b_16__avx2, &gemv_dots};
  return k;
}

}  // namespace convkit
