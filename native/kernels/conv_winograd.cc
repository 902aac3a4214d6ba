// Winograd F(2x2, 3x3) convolution for 3x3, stride-1, undilated 2-D layers with many channels
// (ResNet's 28x28x128 ... 7x7x512): 16 multiplications per 2x2 outputs instead of 36, so 2.25x fewer
// than direct convolution, at an error close to direct float32 (the transforms use only +-1 and
// 1/2; tested against the reference with the same bound shape as the GEMM path, 4x wider).
//
//   U = G g G^T        per (co, ci), 4x4, computed once per call and packed as GEMM A panels
//   V = B^T d B        per (ci, tile), 4x4 from the input tile d (zero outside the image)
//   M[xi] = U[xi] V[xi]  16 GEMMs (co x ci) * (ci x tiles) on the path's micro-kernel
//   Y = A^T M A        per (co, tile), 2x2 outputs, + bias, ReLU
//
// Tiles are processed in blocks of NR (the micro-kernel's width) per thread: the block's V and M
// stay in L2 and each thread owns its blocks, so nothing is shared but U.
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

// V for the tiles [t0, t0 + count) of one block, as B panels [xi][ci][nr] (lanes past count zero).
void transform_input(const ConvParams& p, const Geometry& g, const float* x, size_t t0, size_t count, size_t nr,
                     float* v) {
  const size_t ci_n = p.in_channels, H = p.in[1], W = p.in[2], in_s = H * W;
  const long pad_h = static_cast<long>(p.pad_begin[1]), pad_w = static_cast<long>(p.pad_begin[2]);
  const size_t xi_stride = ci_n * nr;
  for (size_t lane = 0; lane < nr; ++lane) {
    if (lane >= count) {
      for (int xi = 0; xi < 16; ++xi)
        for (size_t ci = 0; ci < ci_n; ++ci) v[xi * xi_stride + ci * nr + lane] = 0.0f;
      continue;
    }
    const size_t t = t0 + lane;
    const size_t n = t / g.tiles_per_image, r = t % g.tiles_per_image;
    const long h0 = static_cast<long>((r / g.tiles_w) * 2) - pad_h;
    const long w0 = static_cast<long>((r % g.tiles_w) * 2) - pad_w;
    const bool interior = h0 >= 0 && w0 >= 0 && h0 + 4 <= static_cast<long>(H) && w0 + 4 <= static_cast<long>(W);
    for (size_t ci = 0; ci < ci_n; ++ci) {
      const float* plane = x + (n * ci_n + ci) * in_s;
      float d[4][4];
      if (interior) {
        const float* src = plane + static_cast<size_t>(h0) * W + static_cast<size_t>(w0);
        for (int i = 0; i < 4; ++i)
          for (int j = 0; j < 4; ++j) d[i][j] = src[i * W + j];
      } else {
        for (int i = 0; i < 4; ++i) {
          const long hh = h0 + i;
          for (int j = 0; j < 4; ++j) {
            const long ww = w0 + j;
            d[i][j] = hh >= 0 && hh < static_cast<long>(H) && ww >= 0 && ww < static_cast<long>(W)
                          ? plane[static_cast<size_t>(hh) * W + static_cast<size_t>(ww)]
                          : 0.0f;
          }
        }
      }
      // s = B^T d (rows), then V = s B (columns).
      float s[4][4];
      for (int j = 0; j < 4; ++j) {
        s[0][j] = d[0][j] - d[2][j];
        s[1][j] = d[1][j] + d[2][j];
        s[2][j] = d[2][j] - d[1][j];
        s[3][j] = d[1][j] - d[3][j];
      }
      float* dst = v + ci * nr + lane;
      for (int i = 0; i < 4; ++i) {
        dst[(i * 4 + 0) * xi_stride] = s[i][0] - s[i][2];
        dst[(i * 4 + 1) * xi_stride] = s[i][1] + s[i][2];
        dst[(i * 4 + 2) * xi_stride] = s[i][2] - s[i][1];
        dst[(i * 4 + 3) * xi_stride] = s[i][1] - s[i][3];
      }
    }
  }
}

// Y = A^T M A for the block's tiles; M is [xi][co][nr].
void transform_output(const ConvParams& p, const Geometry& g, const float* m, size_t t0, size_t count, size_t nr,
                      const float* bias, bool relu, float* y) {
  const size_t co_n = p.out_channels, Ho = p.out[1], Wo = p.out[2], out_s = Ho * Wo;
  const size_t xi_stride = co_n * nr;
  for (size_t lane = 0; lane < count; ++lane) {
    const size_t t = t0 + lane;
    const size_t n = t / g.tiles_per_image, r = t % g.tiles_per_image;
    const size_t oh = (r / g.tiles_w) * 2, ow = (r % g.tiles_w) * 2;
    const bool full = oh + 2 <= Ho && ow + 2 <= Wo;
    for (size_t co = 0; co < co_n; ++co) {
      const float* src = m + co * nr + lane;
      float mm[16];
      for (int xi = 0; xi < 16; ++xi) mm[xi] = src[xi * xi_stride];
      // q = A^T M (2x4), then Y = q A (2x2).
      float q[2][4];
      for (int j = 0; j < 4; ++j) {
        q[0][j] = mm[0 * 4 + j] + mm[1 * 4 + j] + mm[2 * 4 + j];
        q[1][j] = mm[1 * 4 + j] - mm[2 * 4 + j] - mm[3 * 4 + j];
      }
      const float b = bias != nullptr ? bias[co] : 0.0f;
      float out[2][2];
      for (int i = 0; i < 2; ++i) {
        out[i][0] = q[i][0] + q[i][1] + q[i][2] + b;
        out[i][1] = q[i][1] - q[i][2] - q[i][3] + b;
        if (relu) {
          out[i][0] = out[i][0] < 0.0f ? 0.0f : out[i][0];
          out[i][1] = out[i][1] < 0.0f ? 0.0f : out[i][1];
        }
      }
      float* dst = y + (n * co_n + co) * out_s + oh * Wo + ow;
      if (full) {
        dst[0] = out[0][0];
        dst[1] = out[0][1];
        dst[Wo] = out[1][0];
        dst[Wo + 1] = out[1][1];
      } else {
        for (size_t i = 0; i < 2 && oh + i < Ho; ++i)
          for (size_t j = 0; j < 2 && ow + j < Wo; ++j) dst[i * Wo + j] = out[i][j];
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
  // Below ~64 channels the transforms cost as much as the multiplications they save.
  return conv_algo() == ConvAlgo::kWinograd || (p.in_channels >= 64 && p.out_channels >= 64);
}

void conv_winograd_forward(const ConvParams& p, const float* x, const float* w, const float* bias, float* y,
                           bool relu) {
  const GemmUkernel& uk = gemm_ukernel_for(active_isa());
  const size_t mr = uk.mr, nr = uk.nr;
  const size_t ci_n = p.in_channels, co_n = p.out_channels;
  const Geometry g = geometry_of(p);
  const size_t co_panels = ceil_div(co_n, mr);
  const size_t u_xi_stride = co_panels * ci_n * mr;
  float* u = workspace_floats(WorkspaceSlot::kConvWeights, 16 * u_xi_stride);
  transform_weights(p, w, mr, u);
  const size_t blocks = ceil_div(g.tiles, nr);
  const int threads = num_threads();
  const int team = blocks < static_cast<size_t>(threads) ? static_cast<int>(blocks) : threads;
#pragma omp parallel num_threads(team)
  {
    // Per-thread block buffers (workspace is thread-local).
    float* v = workspace_floats(WorkspaceSlot::kConvColumns, 16 * ci_n * nr);
    float* m = workspace_floats(WorkspaceSlot::kConvOutput, 16 * co_n * nr);
#pragma omp for schedule(dynamic, 1)
    for (long b = 0; b < static_cast<long>(blocks); ++b) {
      const size_t t0 = static_cast<size_t>(b) * nr;
      const size_t count = g.tiles - t0 < nr ? g.tiles - t0 : nr;
      transform_input(p, g, x, t0, count, nr, v);
      GemmTileArgs tile;
      tile.alpha = 1.0f;
      tile.beta = 0.0f;
      for (size_t xi = 0; xi < 16; ++xi) {
        const float* vb = v + xi * ci_n * nr;
        float* mb = m + xi * co_n * nr;
        for (size_t cp = 0; cp < co_panels; ++cp) {
          const size_t rows = co_n - cp * mr < mr ? co_n - cp * mr : mr;
          uk.fn(rows, nr, ci_n, u + xi * u_xi_stride + cp * ci_n * mr, vb, mb + cp * mr * nr, nr, tile);
        }
      }
      transform_output(p, g, m, t0, count, nr, bias, relu, y);
    }
  }
}

}  // namespace convkit
