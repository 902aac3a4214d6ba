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
#include "kernels/gemm_ukernel.h"
#include "runtime/error.h"
#include "runtime/isa.h"
#include "runtime/threads.h"
#include "runtime/workspace.h"

namespace convkit {
namespace {

inline size_t ceil_div(size_t a, size_t b) { return (a + b - 1) / b; }

struct Geometry {
  size_t tiles_h, tiles_w, tiles_per_image, tiles;
};

Geometry geometry_of(const ConvParams& p) {
  Geometry g;
  g.tiles_h = ceil_div(p.out[1], 2);
  g.tiles_w = ceil_div(p.out[2], 2);
  g.tiles_per_image = g.tiles_h * g.tiles_w;
  g.tiles = p.batch * g.tiles_per_image;
  return g;
}

// U[xi] packed as A panels: for each xi, ceil(co / MR) panels of [ci][MR].
void transform_weights(const ConvParams& p, const float* w, size_t mr, float* u) {
  const size_t co_n = p.out_channels, ci_n = p.in_channels;
  const size_t panels = ceil_div(co_n, mr);
  const size_t xi_stride = panels * ci_n * mr;
  std::memset(u, 0, 16 * xi_stride * sizeof(float));
  for (size_t co = 0; co < co_n; ++co) {
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

// A run of a block's tiles that lie in one tile row of one image: lanes [lane0, lane0 + len).
struct TileRun {
  size_t lane0, len, n, th, tw0;
};

// Splits the block's tiles [t0, t0 + count) into runs along tile rows.
size_t tile_runs(const Geometry& g, size_t t0, size_t count, TileRun* runs) {
  size_t nruns = 0;
  for (size_t lane = 0; lane < count;) {
    const size_t t = t0 + lane;
    const size_t n = t / g.tiles_per_image, r = t % g.tiles_per_image;
    const size_t th = r / g.tiles_w, tw = r % g.tiles_w;
    const size_t len = g.tiles_w - tw < count - lane ? g.tiles_w - tw : count - lane;
    runs[nruns++] = TileRun{lane, len, n, th, tw};
    lane += len;
  }
  return nruns;
}

constexpr size_t kMaxLanes = 256;  // tiles per block at most

// V for the block's tiles, as B panels [xi][ci][nr] (lanes past count zero). Each run of tiles in
// one tile row is transformed with whole-row vector operations: B^T over the four input rows
// (contiguous along the row), then B over each tile's four columns via even/odd columns.
void transform_input(const ConvParams& p, const Geometry& g, const float* x, size_t t0, size_t count, size_t nr,
                     size_t xi_stride, float* v) {
  const size_t ci_n = p.in_channels, H = p.in[1], W = p.in[2], in_s = H * W;
  const long pad_h = static_cast<long>(p.pad_begin[1]), pad_w = static_cast<long>(p.pad_begin[2]);
  if (count < nr) {
    for (size_t xi = 0; xi < 16; ++xi)
      for (size_t ci = 0; ci < ci_n; ++ci)
        for (size_t lane = count; lane < nr; ++lane) v[xi * xi_stride + ci * nr + lane] = 0.0f;
  }
  TileRun runs[kMaxLanes];
  const size_t nruns = tile_runs(g, t0, count, runs);
  float rows[4][2 * 64 + 2];
  float ev[4][64 + 1], od[4][64 + 1];
  for (size_t ri = 0; ri < nruns; ++ri) {
    const TileRun& run = runs[ri];
    const size_t len = run.len, span = 2 * len + 2;
    const long h0 = static_cast<long>(run.th * 2) - pad_h;
    const long w0 = static_cast<long>(run.tw0 * 2) - pad_w;
    // Columns [w0, w0 + span) of the input, valid part [lo, hi) of the span.
    const long lo = w0 < 0 ? -w0 : 0;
    long hi = static_cast<long>(W) - w0;
    if (hi > static_cast<long>(span)) hi = static_cast<long>(span);
    for (size_t ci = 0; ci < ci_n; ++ci) {
      const float* plane = x + (run.n * ci_n + ci) * in_s;
      for (int i = 0; i < 4; ++i) {
        float* row = rows[i];
        const long hh = h0 + i;
        if (hh < 0 || hh >= static_cast<long>(H) || hi <= lo) {
          for (size_t c = 0; c < span; ++c) row[c] = 0.0f;
          continue;
        }
        const float* src = plane + static_cast<size_t>(hh) * W + w0;
        for (long c = 0; c < lo; ++c) row[c] = 0.0f;
        for (long c = lo; c < hi; ++c) row[c] = src[c];
        for (long c = hi < lo ? lo : hi; c < static_cast<long>(span); ++c) row[c] = 0.0f;
      }
      // s = B^T d along the rows, split into even and odd columns.
      for (size_t t = 0; t <= len; ++t) {
        const size_t c0 = 2 * t, c1 = 2 * t + 1;
        ev[0][t] = rows[0][c0] - rows[2][c0];
        ev[1][t] = rows[1][c0] + rows[2][c0];
        ev[2][t] = rows[2][c0] - rows[1][c0];
        ev[3][t] = rows[1][c0] - rows[3][c0];
        od[0][t] = rows[0][c1] - rows[2][c1];
        od[1][t] = rows[1][c1] + rows[2][c1];
        od[2][t] = rows[2][c1] - rows[1][c1];
        od[3][t] = rows[1][c1] - rows[3][c1];
      }
      // V = s B: tile t covers columns 2t .. 2t + 3 = ev[t], od[t], ev[t + 1], od[t + 1].
      float* dst = v + ci * nr + run.lane0;
      for (int i = 0; i < 4; ++i) {
        float* v0 = dst + (i * 4 + 0) * xi_stride;
        float* v1 = dst + (i * 4 + 1) * xi_stride;
        float* v2 = dst + (i * 4 + 2) * xi_stride;
        float* v3 = dst + (i * 4 + 3) * xi_stride;
        const float* e = ev[i];
        const float* o = od[i];
        for (size_t t = 0; t < len; ++t) {
          v0[t] = e[t] - e[t + 1];
          v1[t] = o[t] + e[t + 1];
          v2[t] = e[t + 1] - o[t];
          v3[t] = o[t] - o[t + 1];
        }
      }
    }
  }
}

// Y = A^T M A for the block's tiles; M is [xi][co][nr]. Vector operations along each run of tiles,
// then the two output columns of each tile are interleaved into the output rows.
void transform_output(const ConvParams& p, const Geometry& g, const float* m, size_t t0, size_t count, size_t nr,
                      const float* bias, Activation act, float* y) {
  const size_t co_n = p.out_channels, Ho = p.out[1], Wo = p.out[2], out_s = Ho * Wo;
  const size_t xi_stride = co_n * nr;  // here nr is the block width (ldc of M)
  const bool relu = act != Activation::kNone;
  const float cap = activation_cap(act);
  TileRun runs[kMaxLanes];
  const size_t nruns = tile_runs(g, t0, count, runs);
  float q[2][4][kMaxLanes];
  float out[2][2][kMaxLanes];
  for (size_t ri = 0; ri < nruns; ++ri) {
    const TileRun& run = runs[ri];
    const size_t len = run.len;
    const size_t oh = run.th * 2, ow0 = run.tw0 * 2;
    const bool two_rows = oh + 1 < Ho;
    for (size_t co = 0; co < co_n; ++co) {
      const float* src = m + co * nr + run.lane0;
      // q = A^T M over the rows of M (xi = 4 * row + column).
      for (int j = 0; j < 4; ++j) {
        const float* m0 = src + (0 * 4 + j) * xi_stride;
        const float* m1 = src + (1 * 4 + j) * xi_stride;
        const float* m2 = src + (2 * 4 + j) * xi_stride;
        const float* m3 = src + (3 * 4 + j) * xi_stride;
        for (size_t t = 0; t < len; ++t) {
          q[0][j][t] = m0[t] + m1[t] + m2[t];
          q[1][j][t] = m1[t] - m2[t] - m3[t];
        }
      }
      const float b = bias != nullptr ? bias[co] : 0.0f;
      for (int i = 0; i < 2; ++i) {
        for (size_t t = 0; t < len; ++t) {
          float a0 = q[i][0][t] + q[i][1][t] + q[i][2][t] + b;
          float a1 = q[i][1][t] - q[i][2][t] - q[i][3][t] + b;
          a0 = apply_relu(a0, relu, cap);
          a1 = apply_relu(a1, relu, cap);
          out[i][0][t] = a0;
          out[i][1][t] = a1;
        }
      }
      float* dst = y + (run.n * co_n + co) * out_s + oh * Wo + ow0;
      // The run's last tile may stick out of an odd-width output by one column.
      const size_t cols = Wo - ow0 < 2 * len ? Wo - ow0 : 2 * len;
      for (int i = 0; i < (two_rows ? 2 : 1); ++i) {
        float* row = dst + i * Wo;
        for (size_t c = 0; c < cols; ++c) row[c] = out[i][c & 1][c >> 1];
      }
    }
  }
}

}  // namespace

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
  // Below ~64 channels the transforms cost as much as the multiplications they save; on small
  // images (ResNet's 7x7) short tile rows and padded tiles eat the gain (measured: 231 effective
  // GFLOP/s against 313 for the GEMM path at 7x7x512, 425 against 282 at 14x14x256).
  // The weights are transformed on every call (16 x co x ci values): with few tiles to spread that
  // over (one 14x14 image has 49) the transform costs more than the multiplications saved
  // (measured at batch 1, 14x14x256: 5.5 ms Winograd against 3 ms GEMM on one thread).
  const size_t tiles = p.batch * ((p.out[1] + 1) / 2) * ((p.out[2] + 1) / 2);
  return conv_algo() == ConvAlgo::kWinograd ||
         (p.in_channels >= 64 && p.out_channels >= 64 && p.out[1] >= 12 && p.out[2] >= 12 && tiles >= 128);
}

void conv_winograd_forward(const ConvParams& p, const float* x, const float* w, const float* bias, float* y,
                           Activation act) {
  const GemmUkernel& uk = gemm_ukernel_for(active_isa());
  const size_t mr = uk.mr, nr = uk.nr;
  const size_t ci_n = p.in_channels, co_n = p.out_channels;
  const Geometry g = geometry_of(p);
  const size_t co_panels = ceil_div(co_n, mr);
  const size_t u_xi_stride = co_panels * ci_n * mr;
  float* u = workspace_floats(WorkspaceSlot::kConvWeights, 16 * u_xi_stride);
  transform_weights(p, w, mr, u);
  if (nr > 64) throw Error(ErrorCode::kInternal, "winograd: micro-kernel wider than the tile buffers");
  // Blocks of several panels of tiles: every block streams all of U (16 x co x ci) once, so wide
  // layers want more tiles per block; keep at least two blocks per thread.
  const int threads = num_threads();
  size_t panels = (co_n * ci_n) / 32768;
  if (panels < 1) panels = 1;
  if (panels > kMaxLanes / nr) panels = kMaxLanes / nr;
  while (panels > 1 && ceil_div(g.tiles, panels * nr) < static_cast<size_t>(threads)) --panels;
  const size_t width = panels * nr;
  const size_t blocks = ceil_div(g.tiles, width);
  const int team = blocks < static_cast<size_t>(threads) ? static_cast<int>(blocks) : threads;
#pragma omp parallel num_threads(team)
  {
    // Per-thread block buffers (workspace is thread-local): V [xi][panel][ci][nr], M [xi][co][width].
    float* v = workspace_floats(WorkspaceSlot::kConvColumns, 16 * ci_n * width);
    float* m = workspace_floats(WorkspaceSlot::kConvOutput, 16 * co_n * width);
#pragma omp for schedule(dynamic, 1)
    for (long b = 0; b < static_cast<long>(blocks); ++b) {
      const size_t t0 = static_cast<size_t>(b) * width;
      const size_t count = g.tiles - t0 < width ? g.tiles - t0 : width;
      const size_t used_panels = ceil_div(count, nr);
      for (size_t pj = 0; pj < used_panels; ++pj) {
        const size_t c = count - pj * nr < nr ? count - pj * nr : nr;
        transform_input(p, g, x, t0 + pj * nr, c, nr, panels * ci_n * nr, v + pj * ci_n * nr);
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
      transform_output(p, g, m, t0, count, width, bias, act, y);
    }
  }
}

}  // namespace convkit
