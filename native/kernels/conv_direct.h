// Internal: direct convolution for layers with few input taps per output (ci x kh x kw small:
// LeNet-5's 1 -> 6 and 6 -> 16 5x5 layers, a network's first 3-channel layer), where the GEMM's
// column packing costs more than the multiply-adds it feeds. The loops are compiled once per
// instruction set (conv_direct_{scalar,avx2,avx512}.cc from conv_direct_impl.inc) and chosen at run
// time by conv_direct.cc.
//
// Every image is first copied into a zero-padded buffer whose rows are wide enough for whole vectors
// (DirectGeometry::Wp), so a run of 16 outputs reads, for each tap, 16 consecutive floats.
#pragma once

#include <cstddef>

#include "kernels/conv.h"
#include "runtime/isa.h"

namespace convkit {

constexpr size_t kDirectBlock = 16;  // outputs per vector
constexpr size_t kDirectMaxKernelW = 7;

struct DirectGeometry {
  size_t ci, co, H, W, OH, OW, KH, KW, pt, pl;
  size_t vectors;  // vectors per run of outputs along a row (1 or 2)
  size_t Hp, Wp;   // padded image rows and row length
  size_t plane() const { return Hp * Wp; }
  // Floats of one flattened, padded dy plane (OH rows of Wp, rounded up to whole vectors).
  size_t flat_len() const { return (OH * Wp + kDirectBlock - 1) / kDirectBlock * kDirectBlock; }
  size_t taps() const { return ci * KH * KW; }
};

// The `planes` planes (H x W) of one image zero-padded into xpad (planes x Hp x Wp): padded row r is
// input row r - pt, padded column c input column c - pl; input rows and columns past the padded
// size (never read by a strided kernel) are left out. Shared with the stem loops (conv_stem.cc).
void conv_pad_planes(const float* x, size_t planes, size_t H, size_t W, size_t pt, size_t pl, size_t Hp, size_t Wp,
                     float* xpad);

DirectGeometry direct_geometry_of(const ConvParams& p);
// The weight gradient's layout: rows no wider than the padded input (Wp = OW + KW - 1).
DirectGeometry direct_weight_grad_geometry_of(const ConvParams& p);

struct DirectKernels {
  const char* name;
  // y (co x OH x OW, one image) = clamp(bias + sum over ci, kh, kw of w[co][ci][kh][kw] *
  // xpad[ci][oh + kh][ow + kw]), clamped to [0, cap] when relu (NaN propagates); bias may be null.
  void (*forward_image)(const DirectGeometry& g, const float* xpad, const float* w, const float* bias, bool relu,
                        float cap, float* y);
  // dw[kh][kw] += sum over images n, oh, ow of dy[n][co][oh][ow] * x[n][ci][oh + kh - pt][ow + kw - pl]
  // for one (co, ci) pair, with g from direct_weight_grad_geometry_of: xpad holds `batch` padded
  // images of ci planes (and a vector of slack after the last), dyp `batch` images of co planes of
  // flat_len() floats, dy's rows at stride Wp with zeros past each row and the plane.
  void (*weight_grad_pair)(const DirectGeometry& g, size_t batch, const float* xpad, const float* dyp, size_t co,
                           size_t ci, float* dw);
};

const DirectKernels& direct_kernels_scalar();
#if defined(CONVKIT_HAVE_X86_KERNELS)
const DirectKernels& direct_kernels_avx2();
const DirectKernels& direct_kernels_avx512();
#endif

}  // namespace convkit
