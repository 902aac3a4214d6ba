// The contract between the GEMM driver (gemm_driver.cc, portable) and the register-blocked
// micro-kernels (one file per instruction set, each compiled with its own flags).
//
// A micro-kernel computes one tile of at most MR x NR outputs:
//   acc[r][j] = sum_p a_packed[p * MR + r] * b_packed[p * NR + j]      (r < MR, j < NR, p < kc)
// and updates c (row stride ldc) on the first `mr` rows and `nr` columns only:
//   c[r][j] = alpha * acc[r][j] + (beta == 0 ? 0 : beta * c[r][j])
//   then, when tile.bias_row / tile.bias_col is set, + bias_row[r] / + bias_col[j]
//   then, when tile.relu, max(0, .) and min(relu_cap, .) (NaN propagates)
// Panels are zero-padded to MR rows / NR columns by the packing routines, so the kernel may
// always read full panels. Preconditions: 1 <= mr <= MR, 1 <= nr <= NR, kc >= 1,
// a_packed and b_packed 64-byte aligned.
#pragma once

#include <cstddef>

#include "kernels/gemm.h"
#include "kernels/gemm_pack.h"
#include "runtime/isa.h"

namespace convkit {

struct GemmTileArgs {
  float alpha = 1.0f;
  float beta = 0.0f;                 // 0: do not read c
  const float* bias_row = nullptr;   // mr floats, one per tile row
  const float* bias_col = nullptr;   // nr floats, one per tile column
  bool relu = false;
  float relu_cap = __builtin_inff();  // 6 for ReLU6
};

using GemmUkernelFn = void (*)(size_t mr, size_t nr, size_t kc, const float* a_packed, const float* b_packed,
                               float* c, size_t ldc, const GemmTileArgs& tile);

// Packing routines with the kernel's mr / nr fixed (see gemm_pack.h for the layout). Each path may
// supply SIMD versions of the transposing cases; the portable ones are always correct.
using GemmPackAFn = void (*)(StridedView a, size_t row0, size_t rows, size_t k0, size_t kc, float* dst);
using GemmPackBFn = void (*)(StridedView b, size_t k0, size_t kc, size_t col0, size_t cols, float* dst);

// A few rows of A against rows of B (a fully connected layer on a batch of 1 to 4):
// dots[i * n + j] = sum_q a[i * lda + q] * b[j * ldb + q] for i < m (1 to 4), j < n; each dot
// summed in the same order whatever m and n (gemv_impl.inc).
using GemvDotsFn = void (*)(size_t m, size_t n, size_t k, const float* a, size_t lda, const float* b, size_t ldb,
                            float* dots);

struct GemmUkernel {
  const char* name;
  size_t mr;     // rows of the register tile (broadcast side)
  size_t nr;     // columns of the register tile (vector side)
  size_t nr_step;  // a last panel of a multiple of nr_step columns costs that share of a full tile
  size_t kc;     // depth of one packed block (a_panel in L1)
  size_t mc;     // rows of the packed A block (L3)
  size_t nc;     // columns of the packed B block per thread (L2)
  GemmUkernelFn fn;
  GemmPackAFn pack_a;  // null: pack_a_panels(..., mr, ...)
  GemmPackBFn pack_b;  // null: pack_b_panels(..., nr, ...)
  GemvDotsFn gemv_dots;
};

// The micro-kernel of a path (gemm_driver.cc). Other kernels that run their own loop nest around
// the GEMM micro-kernel (Winograd convolution) get it here.
const GemmUkernel& gemm_ukernel_for(Isa isa);

// Defined in gemm_ukernel_scalar.cc (portable C++), gemm_ukernel_avx2.cc and gemm_ukernel_avx512.cc.
const GemmUkernel& gemm_ukernel_scalar();
#if defined(CONVKIT_HAVE_X86_KERNELS)
const GemmUkernel& gemm_ukernel_avx2();
const GemmUkernel& gemm_ukernel_avx512();
#endif

}  // namespace convkit
