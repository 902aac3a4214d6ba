// Winograd F(2x2, 3x3) convolution for 3x3, stride-1, undilated 2-D layers with many channels
// (ResNet's 56x56x64 ... 14x14x256): 16 multiplications per 2x2 outputs instead of 36, so 2.25x fewer
// than direct convolution, at an error close to direct float32 (the transforms use only +-1 and
// 1/2; tested against the reference with the same bound shape as the GEMM path, 4x wider).
//
//   U = G g G^T        per (co, ci), 4x4, computed once per call and packed as GEMM A panels
//   V = B^T d B        per (ci, tile), 4x4 from the input tile d (zero outside the image)
//   M[xi] = U[xi] V[xi]  16 GEMMs (co x ci) * (ci x tiles) on the path's micro-kernel
//   Y = A^T M A        per (co, tile), 2x2 outputs, + bias, ReLU
//
// Tiles are processed in blocks of a few NR-wide panels per thread (more panels for wider layers,
// so U is streamed fewer times); each thread owns its blocks, so nothing is shared but U. The
// transforms run along whole tile rows with vector operations (B^T over input rows, then even and
// odd columns), not tile by tile.
#include <atomic>
#include <cstring>
#include <vector>

#include "kernels/conv.h"
#include "kernels/conv_winograd.h"
#include "kernels/gemm_ukernel.h"
#include "runtime/error.h"
#include "runtime/isa.h"
#include "runtime/parallel_errors.h"
#include "runtime/threads.h"
#include "runtime/workspace.h"

#if defined(_OPENMP)
#include <omp.h>
#endif

namespace convkit {
namespace {

inline size_t ceil_div(size_t a, size_t b) { return (a + b - 1) / b; }

// U[xi] packed as A panels: for each xi, ceil(co / MR) panels of [ci][MR].
void transform_weights(const ConvParams& p, const float* w, size_t mr, float* u) {
  const size_t co_n = p.out_channels, ci_n = p.in_channels;
  const size_t panels = ceil_div(co_n, mr);
  const size_t xi_stride = panels * ci_n * mr;
  if (co_n % mr != 0) {  // the last panel's rows past co_n
    const size_t panel = co_n / mr;
    for (size_t xi = 0; xi < 16; ++xi)
      for (size_t ci = 0; ci < ci_n; ++ci)
        for (size_t lane = co_n % mr; lane < mr; ++lane) u[xi * xi_stride + panel * ci_n * mr + ci * mr + lane] = 0.0f;
  }
  const long co_count = static_cast<long>(co_n);
#pragma omp parallel for schedule(static) num_threads(num_threads()) if (co_n * ci_n >= 4096)
  for (long co_l = 0; co_l < co_count; ++co_l) {
    const size_t co = static_cast<size_t>(co_l);
    for (size_t ci = 0; ci < ci_n; ++ci) {
      const float* g = w + (co * ci_n + ci) * 9;
      // t = G g (4x3), then U = t G^T (4x4).
      float t[4][3];
      for (int c = 0; c < 3; ++c) {
        const float g0 = g[c], g1 = g[3 + c], g2 = g[6 + c];
        t[0][c] = g0;
        t[1][c] = 0.5f * (g0 + g1 + g2);
        t[2][c] = 0.5f * (g0 - g1 + g2);
        t[3][c] = g2;
      }
      float uu[16];
      for (int r = 0; r < 4; ++r) {
        uu[r * 4 + 0] = t[r][0];
        uu[r * 4 + 1] = 0.5f * (t[r][0] + t[r][1] + t[r][2]);
        uu[r * 4 + 2] = 0.5f * (t[r][0] - t[r][1] + t[r][2]);
        uu[r * 4 + 3] = t[r][2];
      }
      const size_t panel = co / mr, lane = co % mr;
      for (int xi = 0; xi < 16; ++xi) u[xi * xi_stride + panel * ci_n * mr + ci * mr + lane] = uu[xi];
    }
  }
}

const WinogradKernels& winograd_kernels_for(Isa isa) {
  switch (isa) {
#if defined(CONVKIT_HAVE_X86_KERNELS)
    case Isa::kAvx512: return winograd_kernels_avx512();
    case Isa::kAvx2: return winograd_kernels_avx2();
#endif
    default: return winograd_kernels_scalar();
  }
}

}  // namespace

WinogradGeometry winograd_geometry_of(const ConvParams& p) {
  WinogradGeometry g;
  g.tiles_h = ceil_div(p.out[1], 2);
  g.tiles_w = ceil_div(p.out[2], 2);
  g.tiles_per_image = g.tiles_h * g.tiles_w;
  g.tiles = p.batch * g.tiles_per_image;
  return g;
}

size_t winograd_tile_runs(const WinogradGeometry& g, size_t t0, size_t count, WinogradTileRun* runs) {
  size_t nruns = 0;
  for (size_t lane = 0; lane < count;) {
    const size_t t = t0 + lane;
    const size_t n = t / g.tiles_per_image, r = t % g.tiles_per_image;
    const size_t th = r / g.tiles_w, tw = r % g.tiles_w;
    const size_t len = g.tiles_w - tw < count - lane ? g.tiles_w - tw : count - lane;
    runs[nruns++] = WinogradTileRun{lane, len, n, th, tw};
    lane += len;
  }
  return nruns;
}

namespace {
std::atomic<int> g_algo{static_cast<int>(ConvAlgo::kAuto)};
}  // namespace

void conv_set_algo(ConvAlgo algo) { g_algo.store(static_cast<int>(algo)); }
ConvAlgo conv_algo() { return static_cast<ConvAlgo>(g_algo.load()); }

bool conv_winograd_applicable(const ConvParams& p) {
  if (conv_algo() == ConvAlgo::kGemm) return false;
  if (p.groups != 1 || p.in[0] != 1 || p.kernel[0] != 1) return false;
  if (p.kernel[1] != 3 || p.kernel[2] != 3) return false;
  for (int a = 1; a < 3; ++a) {
    if (p.stride[a] != 1 || p.dilation[a] != 1 || p.pad_begin[a] > 2 || p.pad_end[a] > 2) return false;
  }
  // With the vectorised transforms Winograd beats the implicit-im2col GEMM from 8 input channels up,
  // whatever the output channels (batch 64, 32x32, 2 threads: 16 -> 16 channels 3.4-4.0 ms against
  // 1.2-1.3, 32 -> 3 channels 4.4-5.6 against 1.5-2.6, 32 -> 32 9 against 4.1-4.4); with 3 or 4
  // input channels (a network's first layer) it is no faster. On small images (ResNet's 7x7) short
  // tile rows and padded tiles eat the gain (7x7x512 at batch 16: 13.5-14.3 ms against 12.7-14.3).
  // The weights are transformed on every call (16 x co x ci values): with few tiles to spread that
  // over (one 14x14 image has 49) the transform costs more than the multiplications saved
  // (measured at batch 1, 14x14x256: 5.5 ms Winograd against 3 ms GEMM on one thread).
  const size_t tiles = p.batch * ((p.out[1] + 1) / 2) * ((p.out[2] + 1) / 2);
  return conv_algo() == ConvAlgo::kWinograd || (p.in_channels >= 8 && p.out[1] >= 12 && p.out[2] >= 12 && tiles >= 128);
}

void conv_winograd_forward(const ConvParams& p, const float* x, const float* w, const float* bias, float* y,
                           Activation act) {
  const Isa isa = active_isa();
  const GemmUkernel& uk = gemm_ukernel_for(isa);
  const WinogradKernels& wk = winograd_kernels_for(isa);
  const size_t mr = uk.mr, nr = uk.nr;
  const size_t ci_n = p.in_channels, co_n = p.out_channels;
  const WinogradGeometry g = winograd_geometry_of(p);
  const size_t co_panels = ceil_div(co_n, mr);
  const size_t u_xi_stride = co_panels * ci_n * mr;
  float* u = workspace_floats(WorkspaceSlot::kConvWeights, 16 * u_xi_stride);
  transform_weights(p, w, mr, u);
  if (nr > kWinogradMaxPanel) throw Error(ErrorCode::kInternal, "winograd: micro-kernel wider than the tile buffers");
  // Each thread takes one contiguous share of the tiles (the threads finish together) and works
  // through it in blocks of up to `panels` NR-wide panels. Every block streams all of U
  // (16 x co x ci) once, so wide layers want wide blocks; a share is cut into blocks of equal width.
  const size_t threads = static_cast<size_t>(num_threads());
  size_t panels = (co_n * ci_n) / 32768;
  if (panels < 1) panels = 1;
  if (panels > kWinogradMaxLanes / nr) panels = kWinogradMaxLanes / nr;
  const size_t width = panels * nr;  // M's row length (and the widest block)
  const size_t team = threads < ceil_div(g.tiles, nr) ? threads : ceil_div(g.tiles, nr);
  ParallelErrors errors("winograd");
#pragma omp parallel num_threads(static_cast<int>(team))
  errors.run([&] {
    // Per-thread block buffers (workspace is thread-local): V [xi][panel][ci][nr], M [xi][co][width].
    float* v = workspace_floats(WorkspaceSlot::kConvColumns, 16 * ci_n * width);
    float* m = workspace_floats(WorkspaceSlot::kConvOutput, 16 * co_n * width);
    size_t tid = 0, nth = 1;
#if defined(_OPENMP)
    tid = static_cast<size_t>(omp_get_thread_num());
    nth = static_cast<size_t>(omp_get_num_threads());
#endif
    const size_t r0 = g.tiles * tid / nth, r1 = g.tiles * (tid + 1) / nth;
    const size_t blocks = ceil_div(r1 - r0, width);
    const size_t step = blocks == 0 ? width : ceil_div(ceil_div(r1 - r0, blocks), nr) * nr;
    for (size_t t0 = r0; t0 < r1; t0 += step) {
      const size_t count = r1 - t0 < step ? r1 - t0 : step;
      const size_t used_panels = ceil_div(count, nr);
      for (size_t pj = 0; pj < used_panels; ++pj) {
        const size_t c = count - pj * nr < nr ? count - pj * nr : nr;
        wk.transform_input(p, g, x, t0 + pj * nr, c, nr, panels * ci_n * nr, v + pj * ci_n * nr);
      }
      GemmTileArgs tile;
      tile.alpha = 1.0f;
      tile.beta = 0.0f;
      for (size_t xi = 0; xi < 16; ++xi) {
        const float* vx = v + xi * panels * ci_n * nr;
        float* mx = m + xi * co_n * width;
        for (size_t cp = 0; cp < co_panels; ++cp) {
          const size_t rows = co_n - cp * mr < mr ? co_n - cp * mr : mr;
          const float* up = u + xi * u_xi_stride + cp * ci_n * mr;  // stays in L1 across the panels
          for (size_t pj = 0; pj < used_panels; ++pj) {
            uk.fn(rows, nr, ci_n, up, vx + pj * ci_n * nr, mx + cp * mr * width + pj * nr, width, tile);
          }
        }
      }
      wk.transform_output(p, g, m, t0, count, width, bias, act != Activation::kNone, activation_cap(act), y);
    }
  });
  errors.rethrow();
}

}  // namespace convkit
