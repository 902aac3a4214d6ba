// Strided convolutions with few input channels (see conv_stem.h): the weights are repacked with the
// output channels innermost, each image is zero-padded once into a per-thread buffer, and the
// threads split the batch (or, with fewer images than threads, the rows of each image).
#include <cstring>

#include "kernels/conv.h"
#include "kernels/conv_direct.h"
#include "kernels/conv_stem.h"
#include "runtime/isa.h"
#include "runtime/parallel_errors.h"
#include "runtime/threads.h"
#include "runtime/workspace.h"

namespace convkit {
namespace {

const StemKernels& stem_kernels_for(Isa isa) {
  switch (isa) {
#if defined(CONVKIT_HAVE_X86_KERNELS)
    case Isa::kAvx512: return stem_kernels_avx512();
    case Isa::kAvx2: return stem_kernels_avx2();
#endif
    default: return stem_kernels_scalar();
  }
}

StemGeometry stem_geometry_of(const ConvParams& p) {
  StemGeometry g;
  g.ci = p.in_channels;
  g.co = p.out_channels;
  g.OH = p.out[1];
  g.OW = p.out[2];
  g.KH = p.kernel[1];
  g.KW = p.kernel[2];
  g.sh = p.stride[1];
  g.sw = p.stride[2];
  // Every block computes kStemPositions outputs, the last one partly past the row's end.
  const size_t blocks = (g.OW + kStemPositions - 1) / kStemPositions;
  g.Hp = (g.OH - 1) * g.sh + g.KH;
  g.Wp = (blocks * kStemPositions - 1) * g.sw + g.KW;
  return g;
}

// The ci planes of one image zero-padded into xpad (ci x Hp x Wp).
void pad_image(const ConvParams& p, const StemGeometry& g, const float* x, float* xpad) {
  conv_pad_planes(x, g.ci, p.in[1], p.in[2], p.pad_begin[1], p.pad_begin[2], g.Hp, g.Wp, xpad);
}

}  // namespace

bool conv_stem_applicable(const ConvParams& p) {
  if (conv_algo() != ConvAlgo::kAuto) return false;
  if (p.groups != 1 || p.in[0] != 1 || p.kernel[0] != 1) return false;
  if (p.dilation[1] != 1 || p.dilation[2] != 1) return false;
  if (p.stride[1] == 1 && p.stride[2] == 1) return false;  // stride 1: the direct loops or the GEMM
  return p.in_channels <= 4 && p.out_channels % kStemLanes == 0 && p.out_channels <= 256;
}

void conv_stem_forward(const ConvParams& p, const float* x, const float* w, const float* bias, float* y,
                       Activation act) {
  const StemKernels& k = stem_kernels_for(active_isa());
  const StemGeometry g = stem_geometry_of(p);
  const size_t taps = g.KH * g.KW, in_image = g.ci * p.in[1] * p.in[2], out_image = g.co * g.OH * g.OW;
  // wt[ci][kh][kw][co]: one tap's output channels are contiguous vectors.
  float* wt = workspace_floats(WorkspaceSlot::kConvWeights, g.ci * taps * g.co);
  for (size_t co = 0; co < g.co; ++co)
    for (size_t c = 0; c < g.ci; ++c)
      for (size_t t = 0; t < taps; ++t) wt[(c * taps + t) * g.co + co] = w[(co * g.ci + c) * taps + t];
  const bool relu = act != Activation::kNone;
  const float cap = activation_cap(act);
  const int threads = num_threads();
  const bool by_image = p.batch >= static_cast<size_t>(threads);
  ParallelErrors errors("conv (stem)");
  if (by_image) {
#pragma omp parallel num_threads(threads)
    errors.run([&] {
      size_t n0, n1;
      team_share(p.batch, &n0, &n1);
      if (n0 == n1) return;
      float* xpad = workspace_floats(WorkspaceSlot::kConvPadded, g.ci * g.plane());
      for (size_t n = n0; n < n1; ++n) {
        pad_image(p, g, x + n * in_image, xpad);
        k.forward_rows(g, xpad, wt, bias, relu, cap, y + n * out_image, 0, g.OH);
      }
    });
  } else {
    float* xpad = workspace_floats(WorkspaceSlot::kConvPadded, g.ci * g.plane());
    for (size_t n = 0; n < p.batch; ++n) {
      pad_image(p, g, x + n * in_image, xpad);
#pragma omp parallel num_threads(threads)
      errors.run([&] {
        size_t r0, r1;
        team_share(g.OH, &r0, &r1);
        if (r0 < r1) k.forward_rows(g, xpad, wt, bias, relu, cap, y + n * out_image, r0, r1);
      });
    }
  }
  errors.rethrow();
}

}  // namespace convkit
