// Internal: strided convolutions with few input channels (a network's first layer: ResNet's 7x7/2
// stem, MobileNet's 3x3/2 on RGB). The implicit-im2col GEMM packs a strided column of ci x kh x kw
// taps for every output position and uses it for only co multiply-adds; here the output channels sit
// in the vector lanes instead: for every tap, co / 16 weight vectors are loaded once and multiplied
// by one broadcast input value per output position of a row block. The loop is compiled once per
// instruction set (conv_stem_{scalar,avx2,avx512}.cc from conv_stem_impl.inc) and chosen at run time
// by conv_stem.cc.
#pragma once

#include <cstddef>

#include "kernels/conv.h"
#include "runtime/isa.h"

namespace convkit {

constexpr size_t kStemLanes = 16;      // output channels per vector
constexpr size_t kStemPositions = 12;  // output positions per register block (6 in the 4-vector blocks)

struct StemGeometry {
  size_t ci, co, OH, OW, KH, KW, sh, sw;
  size_t Hp, Wp;  // the zero-padded image's rows and row length
  size_t plane() const { return Hp * Wp; }
};

struct StemKernels {
  const char* name;
  // Output rows [oh0, oh1) of one image: y[co][oh][ow] = clamp(bias[co] + sum over ci, kh, kw of
  // wt[ci][kh][kw][co] * xpad[ci][oh sh + kh][ow sw + kw]), clamped to [0, cap] when relu (NaN
  // propagates); bias may be null; co is a multiple of kStemLanes.
  void (*forward_rows)(const StemGeometry& g, const float* xpad, const float* wt, const float* bias, bool relu,
                       float cap, float* y, size_t oh0, size_t oh1);
};

const StemKernels& stem_kernels_scalar();
#if defined(CONVKIT_HAVE_X86_KERNELS)
const StemKernels& stem_kernels_avx2();
const StemKernels& stem_kernels_avx512();
#endif

}  // namespace convkit
