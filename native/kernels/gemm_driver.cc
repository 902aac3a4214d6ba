// The blocked GEMM driver: Goto/BLIS loop nest around a register-blocked micro-kernel.
//
//   for pc in K step KC                      (one packed depth block)
//     for ic in M step MC                    pack A[ic:+MC, pc:+KC] into MR-row panels   (L3)
//       for jc in N step NC * threads        pack B[pc:+KC, jc:+NC*t] into NR-col panels (L2)
//         barrier
//         for ir over this thread's A panels        A micro-panel stays in L1
//           for jr over this thread's B panels      B micro-panels stream from L2
//             micro-kernel(MR x NR tile)
//         barrier
//
// One OpenMP team does every block; threads split the tile grid along N (each thread packs the B
// panels it then uses, so they land in its own L2) or, when N has too few panels or the A block is
// the larger one, along M (each thread packs the A panels it uses).
//
// Narrow outputs (n much smaller than a multiple of NR while m fits the vector width better, e.g.
// m=512, n=49) are computed in the swapped orientation, C^T = op(B)^T op(A)^T, into scratch that is
// then transposed into C with alpha, beta and the epilogue, so the vector lanes are not wasted on
// padding.
#include <cstddef>
#include <cstdint>
#include <string>

#include "kernels/gemm.h"
#include "kernels/gemm_pack.h"
#include "kernels/gemm_ukernel.h"
#include "runtime/error.h"
#include "runtime/threads.h"
#include "runtime/workspace.h"

#if defined(_OPENMP)
#include <omp.h>
#endif

namespace convkit {
namespace {

inline size_t min_sz(size_t a, size_t b) { return a < b ? a : b; }
inline size_t round_up(size_t v, size_t m) { return (v + m - 1) / m * m; }
inline size_t ceil_div(size_t v, size_t m) { return (v + m - 1) / m; }

struct CoreArgs {
  StridedView a;  // ms x k, broadcast side
  StridedView b;  // k x nv, vector side
  const GemmPanelSource* b_source;  // when set, B panels come from here instead of `b`
  size_t ms, nv, k;
  float alpha, beta;
  float* c;
  size_t ldc;
  const float* bias_row;  // ms floats or null
  const float* bias_col;  // nv floats or null
  bool relu;
  float relu_cap;  // +inf for ReLU, 6 for ReLU6
};

// Work below this many flops per thread runs on fewer threads: a fork/join costs a few microseconds.
constexpr double kDefaultMinFlopsPerThread = 2.0e6;
double g_min_flops_per_thread = kDefaultMinFlopsPerThread;
GemmBlocking g_blocking;

int pick_threads(int requested, size_t ms, size_t nv, size_t k, const GemmUkernel& uk) {
  if (requested <= 1) return 1;
  const double flops = 2.0 * static_cast<double>(ms) * static_cast<double>(nv) * static_cast<double>(k);
  int t = requested;
  if (g_min_flops_per_thread > 0.0) {
    const double by_work = flops / g_min_flops_per_thread;
    if (by_work < t) t = by_work < 1.0 ? 1 : static_cast<int>(by_work);
  }
  const size_t tiles = ceil_div(ms, uk.mr) * ceil_div(nv, uk.nr);
  if (tiles < static_cast<size_t>(t)) t = static_cast<int>(tiles);
  return t < 1 ? 1 : t;
}

void gemm_core(const GemmUkernel& uk, int threads, const CoreArgs& g) {
  const size_t MR = uk.mr, NR = uk.nr;
  // Depth blocks of equal size: a remainder block a few steps deep would reload and store every C
  // tile for almost no work (k = 392 with KC = 384 was 384 + 8). A depth up to 1.25 KC stays whole.
  const size_t kc_target = g_blocking.kc != 0 ? g_blocking.kc : uk.kc;
  const size_t k_blocks = g.k <= kc_target + kc_target / 4 ? 1 : ceil_div(g.k, kc_target);
  const size_t KC = g_blocking.kc != 0 ? min_sz(kc_target, g.k) : round_up(ceil_div(g.k, k_blocks), 8) < g.k ? round_up(ceil_div(g.k, k_blocks), 8) : g.k;
  const size_t MC = min_sz(round_up(g_blocking.mc != 0 ? g_blocking.mc : uk.mc, MR), round_up(g.ms, MR));
  const size_t NC = round_up(g_blocking.nc != 0 ? g_blocking.nc : uk.nc, NR);
  const int T = pick_threads(threads, g.ms, g.nv, g.k, uk);
  const size_t NCT = min_sz(NC * static_cast<size_t>(T), round_up(g.nv, NR));

  float* pack_a = workspace_floats(WorkspaceSlot::kGemmPackA, MC * KC);
  float* pack_b = workspace_floats(WorkspaceSlot::kGemmPackB, NCT * KC);

  auto body = [&](int tid, int nth) {
    for (size_t pc = 0; pc < g.k; pc += KC) {
      const size_t kc = min_sz(KC, g.k - pc);
      const bool first = pc == 0;
      const bool last = pc + kc == g.k;
      GemmTileArgs tile;
      tile.alpha = g.alpha;
      tile.beta = first ? g.beta : 1.0f;
      tile.relu = last && g.relu;
      tile.relu_cap = g.relu_cap;
      for (size_t ic = 0; ic < g.ms; ic += MC) {
        const size_t mc = min_sz(MC, g.ms - ic);
        const size_t a_panels = ceil_div(mc, MR);
        {  // this thread's share of the A panels
          const size_t p0 = a_panels * tid / nth, p1 = a_panels * (tid + 1) / nth;
          if (p1 > p0) {
            const size_t rows = min_sz(mc, p1 * MR) - p0 * MR;
            if (uk.pack_a != nullptr) {
              uk.pack_a(g.a, ic + p0 * MR, rows, pc, kc, pack_a + p0 * MR * kc);
            } else {
              pack_a_panels(g.a, ic + p0 * MR, rows, pc, kc, MR, pack_a + p0 * MR * kc);
            }
          }
        }
        for (size_t jc = 0; jc < g.nv; jc += NCT) {
          const size_t nc = min_sz(NCT, g.nv - jc);
          const size_t b_panels = ceil_div(nc, NR);
          // Split the tile grid along N, so each thread packs the B panels it uses; or along M when
          // N has fewer panels than threads, or when the A block is the larger operand: then each
          // thread packs and reads only its own share of A instead of all of it, half of it from
          // the other core's cache. ResNet-18's 7x7x512 layers at batch 1 (a 512 x 49 x 4608 GEMM
          // on 9.4 MB of weights) measured 2.1-2.6 ms split along N, 1.25-1.6 along M.
          const size_t t = static_cast<size_t>(nth);
          const bool split_n = b_panels >= t && !(mc > nc && a_panels >= 2 * t);
          size_t bj0 = 0, bj1 = b_panels, ai0 = 0, ai1 = a_panels;
          if (split_n) {
            bj0 = b_panels * tid / nth;
            bj1 = b_panels * (tid + 1) / nth;
          } else {
            ai0 = a_panels * tid / nth;
            ai1 = a_panels * (tid + 1) / nth;
          }
          {  // pack B: the panels this thread computes on (split_n), or an even share
            const size_t q0 = split_n ? bj0 : b_panels * tid / nth;
            const size_t q1 = split_n ? bj1 : b_panels * (tid + 1) / nth;
            if (q1 > q0) {
              const size_t cols = min_sz(nc, q1 * NR) - q0 * NR;
              if (g.b_source != nullptr) {
                g.b_source->pack(g.b_source->ctx, pc, kc, jc + q0 * NR, cols, NR, pack_b + q0 * NR * kc);
              } else if (uk.pack_b != nullptr) {
                uk.pack_b(g.b, pc, kc, jc + q0 * NR, cols, pack_b + q0 * NR * kc);
              } else {
                pack_b_panels(g.b, pc, kc, jc + q0 * NR, cols, NR, pack_b + q0 * NR * kc);
              }
            }
          }
          if (nth > 1) {
#if defined(_OPENMP)
#pragma omp barrier
#endif
          }
          for (size_t ir = ai0; ir < ai1; ++ir) {
            const size_t row = ic + ir * MR;
            const size_t mr = min_sz(MR, g.ms - row);
            const float* ap = pack_a + ir * MR * kc;
            tile.bias_row = last && g.bias_row != nullptr ? g.bias_row + row : nullptr;
            for (size_t jr = bj0; jr < bj1; ++jr) {
              const size_t col = jc + jr * NR;
              const size_t nr = min_sz(NR, g.nv - col);
              tile.bias_col = last && g.bias_col != nullptr ? g.bias_col + col : nullptr;
              uk.fn(mr, nr, kc, ap, pack_b + jr * NR * kc, g.c + row * g.ldc + col, g.ldc, tile);
            }
          }
          if (nth > 1) {
#if defined(_OPENMP)
#pragma omp barrier
#endif
          }
        }
      }
    }
  };

#if defined(_OPENMP)
  if (T > 1) {
#pragma omp parallel num_threads(T)
    body(omp_get_thread_num(), omp_get_num_threads());
    return;
  }
#endif
  body(0, 1);
}

// C = act(alpha * C + beta * C_old + bias) without a product: alpha == 0 or k == 0.
void scale_only(const GemmShape& s, float beta, float* c, const GemmEpilogue& ep) {
  for (size_t i = 0; i < s.m; ++i) {
    float* row = c + i * s.ldc;
    for (size_t j = 0; j < s.n; ++j) {
      float v = beta != 0.0f ? beta * row[j] : 0.0f;
      if (ep.bias_mode == BiasMode::kPerRow) v += ep.bias[i];
      if (ep.bias_mode == BiasMode::kPerCol) v += ep.bias[j];
      v = apply_relu(v, ep.activation != Activation::kNone, activation_cap(ep.activation));
      row[j] = v;
    }
  }
}

// Fraction of vector lanes doing useful work when `v` columns are tiled by the kernel's panels (the
// last one in steps of nr_step).
double lane_efficiency(size_t v, const GemmUkernel& uk) {
  const size_t padded = v / uk.nr * uk.nr + round_up(v % uk.nr, uk.nr_step);
  return static_cast<double>(v) / static_cast<double>(padded);
}

// A few rows against a transposed B (a fully connected layer on a batch of up to 16: y = x W^T):
// each task's rows of B (its output features' weights) are read from memory once and dotted with
// every row of A, by the path's gemv_dots. The blocked path packs all of B through transposes each
// call: MobileNetV2's 1280 -> 1000 classifier at batch 1 took 0.7 ms there, 0.29 ms in a portable
// dot-product loop (one thread, scalar-width sums), 0.045 ms in the AVX-512 kernel on two threads
// with B in the cache (0.29-0.32 inside the forward pass, where B comes from memory). At batch 16:
// 227-325 us here against 348-518 through the blocked path (k 1280, n 1000); at 64 rows the two
// were within noise, so larger batches keep the blocked path.
constexpr size_t kGemvMaxRows = 16;
constexpr size_t kGemvTileRows = 4;  // rows of A one gemv_dots call takes

// Output columns per task, and the bytes of B from which two threads share the columns.
constexpr size_t kGemvColumns = 64;
constexpr size_t kGemvThreadedBytes = 1 << 20;

bool gemv_applicable(const GemmShape& s) {
  return s.m <= kGemvMaxRows && s.trans_a == Trans::kNo && s.trans_b == Trans::kYes && s.n >= 16;
}

void gemv_rows(const GemmUkernel& uk, int threads, const GemmShape& s, float alpha, const float* a, const float* b,
               float beta, float* c, const GemmEpilogue& ep) {
  const bool relu = ep.activation != Activation::kNone;
  const float cap = activation_cap(ep.activation);
  const int t = threads > 1 && s.n * s.k * sizeof(float) >= kGemvThreadedBytes ? threads : 1;
  const long tasks = static_cast<long>((s.n + kGemvColumns - 1) / kGemvColumns);
#pragma omp parallel for schedule(static) num_threads(t)
  for (long task = 0; task < tasks; ++task) {
    const size_t j0 = static_cast<size_t>(task) * kGemvColumns;
    const size_t cols = s.n - j0 < kGemvColumns ? s.n - j0 : kGemvColumns;
    // Rows of A in groups of kGemvTileRows, while the task's columns of B stay in the L2 cache.
    float dots[kGemvMaxRows * kGemvColumns];
    for (size_t i0 = 0; i0 < s.m; i0 += kGemvTileRows) {
      const size_t rows = s.m - i0 < kGemvTileRows ? s.m - i0 : kGemvTileRows;
      uk.gemv_dots(rows, cols, s.k, a + i0 * s.lda, s.lda, b + j0 * s.ldb, s.ldb, dots + i0 * cols);
    }
    for (size_t i = 0; i < s.m; ++i) {
      for (size_t jj = 0; jj < cols; ++jj) {
        const size_t j = j0 + jj;
        float* out = c + i * s.ldc + j;
        float v = alpha * dots[i * cols + jj] + (beta != 0.0f ? beta * *out : 0.0f);
        if (ep.bias_mode == BiasMode::kPerRow) v += ep.bias[i];
        if (ep.bias_mode == BiasMode::kPerCol) v += ep.bias[j];
        *out = apply_relu(v, relu, cap);
      }
    }
  }
}

// Rows of m computed per swapped chunk: bounds the transpose scratch.
constexpr size_t kSwapChunk = 4096;

}  // namespace

const GemmUkernel& gemm_ukernel_for(Isa isa) {
  switch (isa) {
#if defined(CONVKIT_HAVE_X86_KERNELS)
    case Isa::kAvx512: return gemm_ukernel_avx512();
    case Isa::kAvx2: return gemm_ukernel_avx2();
#endif
    default: return gemm_ukernel_scalar();
  }
}

void validate_gemm(const GemmShape& s, const GemmEpilogue& ep) {
  const size_t a_cols = s.trans_a == Trans::kNo ? s.k : s.m;
  const size_t a_rows = s.trans_a == Trans::kNo ? s.m : s.k;
  const size_t b_cols = s.trans_b == Trans::kNo ? s.n : s.k;
  const size_t b_rows = s.trans_b == Trans::kNo ? s.k : s.n;
  auto bad_ld = [](const char* name, size_t ld, size_t cols) {
    throw Error(ErrorCode::kArgument, std::string("gemm: ") + name + " = " + std::to_string(ld) +
                                          " is smaller than the row length " + std::to_string(cols));
  };
  if (a_rows > 0 && a_cols > 0 && s.lda < a_cols) bad_ld("lda", s.lda, a_cols);
  if (b_rows > 0 && b_cols > 0 && s.ldb < b_cols) bad_ld("ldb", s.ldb, b_cols);
  if (s.m > 0 && s.n > 0 && s.ldc < s.n) bad_ld("ldc", s.ldc, s.n);
  if (ep.bias_mode != BiasMode::kNone && ep.bias == nullptr) {
    throw Error(ErrorCode::kArgument, "gemm: bias mode set without a bias");
  }
}

void gemm_set_blocking_for_testing(const GemmBlocking& blocking) { g_blocking = blocking; }
void gemm_set_parallel_threshold_for_testing(double min_flops_per_thread) {
  g_min_flops_per_thread = min_flops_per_thread;
}
void gemm_reset_tuning_for_testing() {
  g_blocking = GemmBlocking{};
  g_min_flops_per_thread = kDefaultMinFlopsPerThread;
}

const char* gemm_ukernel_name(Isa isa) { return gemm_ukernel_for(isa).name; }

void compute_gemm_with(Isa isa, int threads, const GemmShape& s, float alpha, const float* a, const float* b,
                       float beta, float* c, const GemmEpilogue& ep) {
  validate_gemm(s, ep);
  require_isa(isa);
  if (s.m == 0 || s.n == 0) return;
  if (s.k == 0 || alpha == 0.0f) {
    scale_only(s, beta, c, ep);
    return;
  }
  const GemmUkernel& uk = gemm_ukernel_for(isa);
  if (gemv_applicable(s)) {
    gemv_rows(uk, threads, s, alpha, a, b, beta, c, ep);
    return;
  }
  const StridedView va = s.trans_a == Trans::kNo
                             ? StridedView{a, static_cast<ptrdiff_t>(s.lda), 1}
                             : StridedView{a, 1, static_cast<ptrdiff_t>(s.lda)};  // op(A): m x k
  const StridedView vb = s.trans_b == Trans::kNo
                             ? StridedView{b, static_cast<ptrdiff_t>(s.ldb), 1}
                             : StridedView{b, 1, static_cast<ptrdiff_t>(s.ldb)};  // op(B): k x n
  const bool relu = ep.activation != Activation::kNone;
  const float cap = activation_cap(ep.activation);
  const float* bias_row = ep.bias_mode == BiasMode::kPerRow ? ep.bias : nullptr;
  const float* bias_col = ep.bias_mode == BiasMode::kPerCol ? ep.bias : nullptr;

  // Swapping fills more lanes but pays for a transposing copy of C, worth about 16 steps of depth per
  // element: a 256 x 196 x 128 product (ResNet-18's 28x28 downsample, one image) ran 1.5-1.65 ms for
  // 32 images unswapped (six full panels and a half one) against 1.9-2.2 swapped, while at depth
  // 2304 (256 x 196) the swap still gains 3%.
  const double eff_m = lane_efficiency(s.m, uk), eff_n = lane_efficiency(s.n, uk);
  const double k = static_cast<double>(s.k);
  const bool swap = s.k >= 32 && s.m >= uk.nr && eff_m > 1.02 * eff_n && k / eff_m + 16.0 < k / eff_n;
  if (!swap) {
    gemm_core(uk, threads, CoreArgs{va, vb, nullptr, s.m, s.n, s.k, alpha, beta, c, s.ldc, bias_row, bias_col, relu, cap});
    return;
  }
  // Swapped: T (n x mc) = op(B)^T (n x k) * op(A)^T (k x mc), then C[i][j] <- T[j][i].
  const StridedView vbt{vb.p, vb.cs, vb.rs};
  for (size_t i0 = 0; i0 < s.m; i0 += kSwapChunk) {
    const size_t mc = min_sz(kSwapChunk, s.m - i0);
    float* t = workspace_floats(WorkspaceSlot::kGemmTranspose, s.n * mc);
    const StridedView vat{va.p + static_cast<ptrdiff_t>(i0) * va.rs, va.cs, va.rs};
    gemm_core(uk, threads, CoreArgs{vbt, vat, nullptr, s.n, mc, s.k, 1.0f, 0.0f, t, mc, nullptr, nullptr, false, 0.0f});
    // The copy back, in 32 x 32 blocks, by row blocks across the threads; the epilogue then runs
    // along each finished row (contiguous, so it vectorises).
    constexpr size_t kBlock = 32;
    const long row_blocks = static_cast<long>(ceil_div(mc, kBlock));
    const int copy_threads = threads > 1 && mc * s.n >= (size_t{1} << 15) ? threads : 1;
#pragma omp parallel for schedule(static) num_threads(copy_threads)
    for (long rb = 0; rb < row_blocks; ++rb) {
      const size_t ib = static_cast<size_t>(rb) * kBlock, ie = min_sz(ib + kBlock, mc);
      for (size_t jb = 0; jb < s.n; jb += kBlock) {
        const size_t je = min_sz(jb + kBlock, s.n);
        for (size_t i = ib; i < ie; ++i) {
          float* __restrict crow = c + (i0 + i) * s.ldc;
          const float* __restrict tc = t + i;
          if (beta == 0.0f) {
            for (size_t j = jb; j < je; ++j) crow[j] = alpha * tc[j * mc];
          } else {
            for (size_t j = jb; j < je; ++j) crow[j] = alpha * tc[j * mc] + beta * crow[j];
          }
        }
      }
      for (size_t i = ib; i < ie; ++i) {
        float* __restrict crow = c + (i0 + i) * s.ldc;
        if (bias_row != nullptr) {
          const float br = bias_row[i0 + i];
          for (size_t j = 0; j < s.n; ++j) crow[j] += br;
        }
        if (bias_col != nullptr) {
          for (size_t j = 0; j < s.n; ++j) crow[j] += bias_col[j];
        }
        if (relu) {  // NaN fails both comparisons and is kept
          for (size_t j = 0; j < s.n; ++j) {
            float v = crow[j];
            v = v > cap ? cap : v;
            crow[j] = v < 0.0f ? 0.0f : v;
          }
        }
      }
    }
  }
}

void compute_gemm_b_source(Isa isa, int threads, const GemmShape& s, float alpha, const float* a,
                           const GemmPanelSource& b, float beta, float* c, const GemmEpilogue& ep) {
  GemmShape shape = s;
  shape.trans_b = Trans::kNo;
  shape.ldb = s.n;
  validate_gemm(shape, ep);
  require_isa(isa);
  if (s.m == 0 || s.n == 0) return;
  if (s.k == 0 || alpha == 0.0f) {
    scale_only(s, beta, c, ep);
    return;
  }
  const GemmUkernel& uk = gemm_ukernel_for(isa);
  const StridedView va = s.trans_a == Trans::kNo ? StridedView{a, static_cast<ptrdiff_t>(s.lda), 1}
                                                 : StridedView{a, 1, static_cast<ptrdiff_t>(s.lda)};
  gemm_core(uk, threads,
            CoreArgs{va, StridedView{nullptr, 0, 0}, &b, s.m, s.n, s.k, alpha, beta, c, s.ldc,
                     ep.bias_mode == BiasMode::kPerRow ? ep.bias : nullptr,
                     ep.bias_mode == BiasMode::kPerCol ? ep.bias : nullptr, ep.activation != Activation::kNone,
                     activation_cap(ep.activation)});
}

void compute_gemm(const GemmShape& s, float alpha, const float* a, const float* b, float beta, float* c,
                  const GemmEpilogue& ep) {
  compute_gemm_with(active_isa(), num_threads(), s, alpha, a, b, beta, c, ep);
}

}  // namespace convkit
