// Winograd F(2x2, 3x3) convolution for 3x3, stride-1, undilated 2-D layers with many channels
// (ResNet's 56x56x64 ... 7x7x512): 16 multiplications per 2x2 outputs instead of 36, so 2.25x fewer
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
#include "kernels/gemm.h"
#include "kernels/gemm_ukernel.h"
#include "runtime/error.h"
#include "runtime/isa.h"
#include "runtime/parallel_errors.h"
#include "runtime/threads.h"
#include "runtime/workspace.h"

namespace convkit {
namespace {

inline size_t ceil_div(size_t a, size_t b) { return (a + b - 1) / b; }

const WinogradKernels& winograd_kernels_for(Isa isa) {
  switch (isa) {
#if defined(CONVKIT_HAVE_X86_KERNELS)
    case Isa::kAvx512: return winograd_kernels_avx512();
    case Isa::kAvx2: return winograd_kernels_avx2();
#endif
    default: return winograd_kernels_scalar();
  }
}

// U[xi] packed as A panels: for each xi, ceil(co / MR) panels of [ci][MR], one panel per task.
void transform_weights(const ConvParams& p, const WinogradKernels& wk, const float* w, size_t mr, float* u) {
  const size_t co_n = p.out_channels, ci_n = p.in_channels;
  const size_t panels = ceil_div(co_n, mr);
  const size_t xi_stride = panels * ci_n * mr;
  if (co_n % mr != 0) {  // the last panel's rows past co_n
    const size_t panel = co_n / mr;
    for (size_t xi = 0; xi < 16; ++xi)
      for (size_t ci = 0; ci < ci_n; ++ci)
        for (size_t lane = co_n % mr; lane < mr; ++lane) u[xi * xi_stride + panel * ci_n * mr + ci * mr + lane] = 0.0f;
  }
  const long panel_count = static_cast<long>(panels);
#pragma omp parallel for schedule(static) num_threads(num_threads()) if (co_n * ci_n >= 4096)
  for (long panel_l = 0; panel_l < panel_count; ++panel_l) {
    const size_t co0 = static_cast<size_t>(panel_l) * mr;
    const size_t lanes = co_n - co0 < mr ? co_n - co0 : mr;
    wk.transform_weights(w + co0 * ci_n * 9, ci_n, lanes, mr, xi_stride, u + static_cast<size_t>(panel_l) * ci_n * mr);
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
  // input channels (a network's first layer) it is no faster. The weights are transformed on every
  // call (16 x co x ci values written, 1.7x the weights read): that pays off from about 128 tiles
  // whatever the channels (2 threads, GEMM against Winograd: 7x7x512 at batch 4 3.9 against 4.9 ms,
  // batch 8 6.6 against 6.6, batch 16 12.1 against 11.4, batch 32 24-28 against 17-19; 14x14x256
  // at batch 2 1.64 against 1.59; 8x8x64 at batch 64 2.1 against 1.3; 4x4x64 at batch 64 0.86
  // against 0.61). Small images waste part of their edge tiles (a 7x7 output is 4x4 tiles, 8x8
  // outputs), which the saved multiplications still cover from 4x4 outputs up.
  const size_t tiles = p.batch * ((p.out[1] + 1) / 2) * ((p.out[2] + 1) / 2);
  return conv_algo() == ConvAlgo::kWinograd || (p.in_channels >= 8 && p.out[1] >= 4 && p.out[2] >= 4 && tiles >= 128);
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
  transform_weights(p, wk, w, mr, u);
  if (nr > kWinogradMaxPanel) throw Error(ErrorCode::kInternal, "winograd: micro-kernel wider than the tile buffers");
  // Each thread takes one contiguous share of the tiles (the threads finish together) and works
  // through it in blocks of up to `panels` NR-wide panels. Every block streams all of U
  // (16 x co x ci) once, so wide layers want wide blocks; a share is cut into blocks of equal width.
  const size_t threads = static_cast<size_t>(num_threads());
  size_t panels = (co_n * ci_n) / 32768;
  if (panels < 1) panels = 1;
  if (panels > kWinogradMaxLanes / nr) panels = kWinogradMaxLanes / nr;
  const size_t team = threads < ceil_div(g.tiles, nr) ? threads : ceil_div(g.tiles, nr);
  // No wider than one thread's share: the buffers below are sized by it (8 MB each for 512
  // channels at full width, where a batch of 8 7x7 images has 64 tiles per thread).
  if (panels > ceil_div(ceil_div(g.tiles, team), nr)) panels = ceil_div(ceil_div(g.tiles, team), nr);
  const size_t width = panels * nr;  // M's row length (and the widest block)
  ParallelErrors errors("winograd");
#pragma omp parallel num_threads(static_cast<int>(team))
  errors.run([&] {
    // Per-thread block buffers (workspace is thread-local): V [xi][panel][ci][nr], M [xi][co][width].
    float* v = workspace_floats(WorkspaceSlot::kConvColumns, 16 * ci_n * width);
    float* m = workspace_floats(WorkspaceSlot::kConvOutput, 16 * co_n * width);
    const TeamPlace place = team_place();
    const size_t tid = place.tid, nth = place.nth;
    const size_t r0 = g.tiles * tid / nth, r1 = g.tiles * (tid + 1) / nth;
    const size_t blocks = ceil_div(r1 - r0, width);
    const size_t step = blocks == 0 ? width : ceil_div(ceil_div(r1 - r0, blocks), nr) * nr;
    for (size_t t0 = r0; t0 < r1; t0 += step) {
      const size_t count = r1 - t0 < step ? r1 - t0 : step;
      const size_t used_panels = ceil_div(count, nr);
      for (size_t pj = 0; pj < used_panels; ++pj) {
        const size_t c = count - pj * nr < nr ? count - pj * nr : nr;
        wk.transform_input(p, g, x, t0 + pj * nr, c, nr, nr, panels * ci_n * nr, v + pj * ci_n * nr);
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

// The gradient of the weights through the same transforms: with M[xi] = U[xi] V[xi] per tile,
// dU[xi] (co x ci) = sum over tiles of Z[xi] V[xi]^T, Z = A dY A^T; then dw = G^T dU G. 16 GEMMs
// whose depth is the tiles, 2.25x fewer multiply-adds than the im2col GEMM. Each thread sums its
// share of the tiles into a private dU (blocks of kWinogradMaxLanes tiles: V and Z row-major
// [xi][channel][tile], the GEMM packs them); the partial sums are added and transformed at the end.
void conv_winograd_backward_weight(const ConvParams& p, const float* x, const float* dy, float* dw) {
  const Isa isa = active_isa();
  const WinogradKernels& wk = winograd_kernels_for(isa);
  const size_t ci_n = p.in_channels, co_n = p.out_channels;
  const WinogradGeometry g = winograd_geometry_of(p);
  const size_t threads = static_cast<size_t>(num_threads());
  const size_t team = threads < ceil_div(g.tiles, kWinogradMaxPanel) ? threads : ceil_div(g.tiles, kWinogradMaxPanel);
  // Tiles per block: no more than one thread's share (the buffers below are sized by it).
  const size_t share = ceil_div(g.tiles, team);
  const size_t block = share < kWinogradMaxLanes ? share : kWinogradMaxLanes;
  const size_t du_size = 16 * co_n * ci_n;
  const bool du_by_ci = ci_n < co_n;  // dU laid out [xi][ci][co] instead of [xi][co][ci]
  std::vector<float*> partials(team, nullptr);
  ParallelErrors errors("winograd");
#pragma omp parallel num_threads(static_cast<int>(team))
  errors.run([&] {
    const TeamPlace place = team_place();
    const size_t tid = place.tid, nth = place.nth;
    // Per-thread buffers (workspace is thread-local): V [xi][ci][block], Z [xi][co][block], dU.
    float* v = workspace_floats(WorkspaceSlot::kConvColumns, 16 * ci_n * block);
    float* z = workspace_floats(WorkspaceSlot::kConvOutput, 16 * co_n * block);
    float* du = workspace_floats(WorkspaceSlot::kConvWeights, du_size);
    partials[tid] = du;
    const size_t r0 = g.tiles * tid / nth, r1 = g.tiles * (tid + 1) / nth;
    if (r0 == r1) std::memset(du, 0, du_size * sizeof(float));
    for (size_t t0 = r0; t0 < r1; t0 += block) {
      const size_t count = r1 - t0 < block ? r1 - t0 : block;
      for (size_t c0 = 0; c0 < count; c0 += kWinogradMaxPanel) {
        const size_t c = count - c0 < kWinogradMaxPanel ? count - c0 : kWinogradMaxPanel;
        wk.transform_input(p, g, x, t0 + c0, c, c, block, ci_n * block, v + c0);
      }
      wk.transform_output_grad(p, g, dy, t0, count, block, co_n * block, z);
      // dU[xi] (co x ci) += Z[xi] (co x count) * V[xi]^T (count x ci), or its transpose when there are
      // fewer input channels (the wider side goes along the micro-kernel's vector).
      GemmShape s;
      s.trans_b = Trans::kYes;
      s.m = du_by_ci ? ci_n : co_n;
      s.n = du_by_ci ? co_n : ci_n;
      s.k = count;
      s.lda = block;
      s.ldb = block;
      s.ldc = s.n;
      const float beta = t0 == r0 ? 0.0f : 1.0f;
      for (size_t xi = 0; xi < 16; ++xi) {
        const float* zx = z + xi * co_n * block;
        const float* vx = v + xi * ci_n * block;
        compute_gemm_with(isa, 1, s, 1.0f, du_by_ci ? vx : zx, du_by_ci ? zx : vx, beta, du + xi * co_n * ci_n);
      }
    }
  });
  errors.rethrow();
  // dw = G^T (sum of the partial dU) G per (co, ci).
  const long co_count = static_cast<long>(co_n);
#pragma omp parallel for schedule(static) num_threads(num_threads()) if (co_n * ci_n >= 4096)
  for (long co_l = 0; co_l < co_count; ++co_l) {
    const size_t co = static_cast<size_t>(co_l);
    for (size_t ci = 0; ci < ci_n; ++ci) {
      float d[16];
      for (int xi = 0; xi < 16; ++xi) {
        float sum = 0.0f;
        const size_t at = xi * co_n * ci_n + (du_by_ci ? ci * co_n + co : co * ci_n + ci);
        for (const float* part : partials)
          if (part != nullptr) sum += part[at];  // OpenMP may have run fewer threads than asked
        d[xi] = sum;
      }
      // q = G^T d (3x4), then dw = q G (3x3); G's rows are (1,0,0), (1/2,1/2,1/2), (1/2,-1/2,1/2), (0,0,1).
      float q[3][4];
      for (int c = 0; c < 4; ++c) {
        const float d0 = d[c], d1 = d[4 + c], d2 = d[8 + c], d3 = d[12 + c];
        q[0][c] = d0 + 0.5f * (d1 + d2);
        q[1][c] = 0.5f * (d1 - d2);
        q[2][c] = 0.5f * (d1 + d2) + d3;
      }
      float* out = dw + (co * ci_n + ci) * 9;
      for (int r = 0; r < 3; ++r) {
        out[r * 3 + 0] = q[r][0] + 0.5f * (q[r][1] + q[r][2]);
        out[r * 3 + 1] = 0.5f * (q[r][1] - q[r][2]);
        out[r * 3 + 2] = 0.5f * (q[r][1] + q[r][2]) + q[r][3];
      }
    }
  }
}

}  // namespace convkit
