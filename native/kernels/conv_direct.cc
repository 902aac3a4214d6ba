// Direct convolution for layers with few taps per output (see conv_direct.h): images are padded
// into a per-thread buffer and run through the instruction set's loops (conv_direct_impl.inc).
// Forward splits the batch across threads; the weight gradient pads a chunk of images at a time
// and splits the (co, ci) pairs, each thread summing its pairs over the whole chunk, so no partial
// sums need adding. Backward-data needs no loop of its own: a stride-1 layer's input gradient is a
// convolution of dy with the flipped weights (conv_gemm.cc), which lands here when it is small.
#include <cstring>

#include "kernels/conv.h"
#include "kernels/conv_direct.h"
#include "runtime/isa.h"
#include "runtime/parallel_errors.h"
#include "runtime/threads.h"
#include "runtime/workspace.h"

namespace convkit {
namespace {

// Taps per output (ci x kh x kw) up to which the direct loops beat the GEMM's column packing
// (batch 64, 2 threads, GEMM against direct: LeNet-5's 1 -> 6 5x5 0.47 against 0.14 ms, 6 -> 16
// 0.47 against 0.25, its input gradient as a 16 -> 6 convolution with 400 taps 1.44 against 0.47,
// 3 -> 32 3x3 at 32x32 0.66 against 0.46).
constexpr size_t kDirectMaxTaps = 400;
// Floats of padded images the weight gradient holds at once (a test hook may lower it).
constexpr size_t kPaddedChunkFloats = static_cast<size_t>(4) << 20;
size_t g_padded_chunk_floats = kPaddedChunkFloats;

const DirectKernels& direct_kernels_for(Isa isa) {
  switch (isa) {
#if defined(CONVKIT_HAVE_X86_KERNELS)
    case Isa::kAvx512: return direct_kernels_avx512();
    case Isa::kAvx2: return direct_kernels_avx2();
#endif
    default: return direct_kernels_scalar();
  }
}

// The ci planes of one image, zero-padded into xpad (ci x Hp x Wp).
void pad_image(const DirectGeometry& g, const float* x, float* xpad) {
  conv_pad_planes(x, g.ci, g.H, g.W, g.pt, g.pl, g.Hp, g.Wp, xpad);
}

// Threads for `work` multiply-adds: one below ~64K (a parallel region costs more).
int threads_for(size_t work) { return work < 65536 ? 1 : num_threads(); }

}  // namespace

void conv_pad_planes(const float* x, size_t planes, size_t H, size_t W, size_t pt, size_t pl, size_t Hp, size_t Wp,
                     float* xpad) {
  const size_t plane = Hp * Wp;
  const size_t cols = pl >= Wp ? 0 : (W < Wp - pl ? W : Wp - pl);
  for (size_t c = 0; c < planes; ++c) {
    float* dst = xpad + c * plane;
    std::memset(dst, 0, plane * sizeof(float));
    for (size_t h = 0; h < H && h + pt < Hp; ++h)
      std::memcpy(dst + (h + pt) * Wp + pl, x + (c * H + h) * W, cols * sizeof(float));
  }
}

DirectGeometry direct_geometry_of(const ConvParams& p) {
  DirectGeometry g;
  g.ci = p.in_channels;
  g.co = p.out_channels;
  g.H = p.in[1];
  g.W = p.in[2];
  g.OH = p.out[1];
  g.OW = p.out[2];
  g.KH = p.kernel[1];
  g.KW = p.kernel[2];
  g.pt = p.pad_begin[1];
  g.pl = p.pad_begin[2];
  g.vectors = g.OW > kDirectBlock ? 2 : 1;
  const size_t run = g.vectors * kDirectBlock;
  // Stride 1: H + pt <= OH + KH - 1 and W + pl <= OW + KW - 1, so the input fits; every run of
  // outputs reads whole vectors within its row, and the forward loop's blocks of two output rows
  // may read one row past the last.
  g.Hp = g.OH + g.KH;  // + one row of zeros for the last block of two rows
  g.Wp = (g.OW + run - 1) / run * run + g.KW - 1;
  return g;
}

void conv_direct_set_padded_chunk_floats(size_t floats) {
  g_padded_chunk_floats = floats == 0 ? kPaddedChunkFloats : floats;
}

DirectGeometry direct_weight_grad_geometry_of(const ConvParams& p) {
  DirectGeometry g = direct_geometry_of(p);
  g.Hp = g.OH + g.KH - 1;
  g.Wp = g.OW + g.KW - 1;
  return g;
}

bool conv_direct_applicable(const ConvParams& p) {
  if (conv_algo() != ConvAlgo::kAuto) return false;
  if (p.groups != 1 || p.in[0] != 1 || p.kernel[0] != 1) return false;
  for (int a = 1; a < 3; ++a) {
    if (p.stride[a] != 1 || p.dilation[a] != 1) return false;
  }
  if (p.kernel[1] * p.kernel[2] == 1 || p.kernel[2] > kDirectMaxKernelW) return false;
  return p.col_rows() <= kDirectMaxTaps;
}

bool conv_direct_weight_grad_preferred(const ConvParams& p) {
  // Each (co, ci) pair streams its dy and input planes over the batch once per 8 taps: that beats the
  // GEMM's columns for few pairs, or for many taps on small planes (batch 64, 2 threads, GEMM against
  // direct: LeNet-5's 1 -> 6 0.56 against 0.2-0.24 ms, its 6 -> 16 0.54 against 0.43, 8 -> 16 5x5 on
  // 14x14 1.12 against 0.93), not for few taps on large planes (3 -> 32 3x3 on 32x32: 1.1 against 1.9).
  const DirectGeometry g = direct_weight_grad_geometry_of(p);
  return g.co * g.ci <= 32 || (g.KH * g.KW >= 16 && g.flat_len() <= 512);
}

void conv_direct_forward(const ConvParams& p, const float* x, const float* w, const float* bias, float* y,
                         Activation act) {
  const DirectKernels& k = direct_kernels_for(active_isa());
  const DirectGeometry g = direct_geometry_of(p);
  const size_t in_image = g.ci * g.H * g.W, out_image = g.co * g.OH * g.OW;
  const bool relu = act != Activation::kNone;
  const float cap = activation_cap(act);
  const int threads = threads_for(p.batch * out_image * g.taps());
  ParallelErrors errors("conv (direct)");
#pragma omp parallel num_threads(threads)
  errors.run([&] {
    size_t n0, n1;
    team_share(p.batch, &n0, &n1);
    if (n0 == n1) return;
    float* xpad = workspace_floats(WorkspaceSlot::kConvPadded, g.ci * g.plane());
    for (size_t n = n0; n < n1; ++n) {
      pad_image(g, x + n * in_image, xpad);
      k.forward_image(g, xpad, w, bias, relu, cap, y + n * out_image);
    }
  });
  errors.rethrow();
}

void conv_direct_backward_weight(const ConvParams& p, const float* x, const float* dy, float* dw) {
  const DirectKernels& k = direct_kernels_for(active_isa());
  const DirectGeometry g = direct_weight_grad_geometry_of(p);
  const size_t in_image = g.ci * g.H * g.W, out_image = g.co * g.OH * g.OW, taps = g.KH * g.KW;
  const size_t padded_image = g.ci * g.plane(), flat_image = g.co * g.flat_len();
  size_t chunk = g_padded_chunk_floats / (padded_image + flat_image);
  if (chunk < 1) chunk = 1;
  if (chunk > p.batch) chunk = p.batch;
  // The taps read up to a vector past the last plane (multiplied by dy's zero padding).
  float* xpad = workspace_floats(WorkspaceSlot::kConvPadded, chunk * padded_image + kDirectBlock);
  float* dyp = workspace_floats(WorkspaceSlot::kConvGather, chunk * flat_image);
  std::memset(xpad + chunk * padded_image, 0, kDirectBlock * sizeof(float));
  std::memset(dw, 0, p.w_size() * sizeof(float));
  const size_t pairs = g.co * g.ci;
  const int threads = threads_for(p.batch * out_image * g.taps());
  for (size_t n0 = 0; n0 < p.batch; n0 += chunk) {
    const size_t count = p.batch - n0 < chunk ? p.batch - n0 : chunk;
    const float* xc = x + n0 * in_image;
    const float* dyc = dy + n0 * out_image;
#pragma omp parallel num_threads(threads)
    {
      size_t b0, b1;
      team_share(count, &b0, &b1);
      for (size_t b = b0; b < b1; ++b) {
        pad_image(g, xc + b * in_image, xpad + b * padded_image);
        float* dst = dyp + b * flat_image;
        std::memset(dst, 0, flat_image * sizeof(float));
        for (size_t c = 0; c < g.co; ++c)
          for (size_t oh = 0; oh < g.OH; ++oh)
            std::memcpy(dst + c * g.flat_len() + oh * g.Wp, dyc + b * out_image + (c * g.OH + oh) * g.OW,
                        g.OW * sizeof(float));
      }
#pragma omp barrier
      team_share(pairs, &b0, &b1);
      for (size_t pair = b0; pair < b1; ++pair) {
        const size_t co = pair / g.ci, ci = pair % g.ci;
        k.weight_grad_pair(g, count, xpad, dyp, co, ci, dw + pair * taps);
      }
    }
  }
}

}  // namespace convkit
