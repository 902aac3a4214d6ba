// Internal: the tile geometry of Winograd F(2x2, 3x3) and its input/output transforms, compiled
// once per instruction set (conv_winograd_{scalar,avx2,avx512}.cc from conv_winograd_impl.inc)
// and chosen at run time by conv_winograd.cc.
#pragma once

#include <cstddef>

#include "kernels/conv.h"
#include "runtime/isa.h"

namespace convkit {

struct WinogradGeometry {
  size_t tiles_h, tiles_w, tiles_per_image, tiles;
};

WinogradGeometry winograd_geometry_of(const ConvParams& p);

// A run of a block's tiles that lie in one tile row of one image: lanes [lane0, lane0 + len).
struct WinogradTileRun {
  size_t lane0, len, n, th, tw0;
};

constexpr size_t kWinogradMaxLanes = 256;  // tiles per block at most
constexpr size_t kWinogradMaxPanel = 64;   // tiles per input-transform call (one GEMM panel) at most

// Splits the block's tiles [t0, t0 + count) into runs along tile rows; returns how many.
size_t winograd_tile_runs(const WinogradGeometry& g, size_t t0, size_t count, WinogradTileRun* runs);

struct WinogradKernels {
  const char* name;
  // U = G g G^T for `lanes` (<= mr) output channels and all input channels, w = their weights
  // [lane][ci][3][3]: u[xi * xi_stride + ci * mr + lane] (one A panel per xi plane).
  void (*transform_weights)(const float* w, size_t ci_n, size_t lanes, size_t mr, size_t xi_stride, float* u);
  // V = B^T d B for tiles [t0, t0 + count), count <= width <= kWinogradMaxPanel, at
  // v[xi * xi_stride + ci * ld + lane] (a forward B panel [xi][ci][nr] has width = ld = nr); lanes
  // count..width are zero.
  void (*transform_input)(const ConvParams& p, const WinogradGeometry& g, const float* x, size_t t0, size_t count,
                          size_t width, size_t ld, size_t xi_stride, float* v);
  // y = clamp(A^T M A + bias) for tiles [t0, t0 + count), M = [xi][co][width]; clamped to [0, cap]
  // when relu (NaN propagates).
  void (*transform_output)(const ConvParams& p, const WinogradGeometry& g, const float* m, size_t t0, size_t count,
                           size_t width, const float* bias, bool relu, float cap, float* y);
  // Z = A dY A^T (the gradient of M) for tiles [t0, t0 + count), count <= kWinogradMaxLanes, at
  // z[xi * xi_stride + co * ld + lane]; dY reads as zero past the output's edges.
  void (*transform_output_grad)(const ConvParams& p, const WinogradGeometry& g, const float* dy, size_t t0,
                                size_t count, size_t ld, size_t xi_stride, float* z);
};

const WinogradKernels& winograd_kernels_scalar();
#if defined(CONVKIT_HAVE_X86_KERNELS)
const WinogradKernels& winograd_kernels_avx2();
const WinogradKernels& winograd_kernels_avx512();
#endif

}  // namespace convkit
