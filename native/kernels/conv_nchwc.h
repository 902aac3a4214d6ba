// Inference convolutions on channel-blocked activations (NCHW16c), as onnxruntime's MLAS and
// oneDNN keep them: a tensor of C channels is stored as [N][C/16][H][W][16], channels padded with
// zeros to a multiple of 16, so that the 16 channels of one pixel are one 512-bit vector. A
// pointwise or depthwise layer then reads and writes whole vectors with no transposes, and a
// chain of such layers (MobileNetV2's inverted residual blocks) never leaves the layout.
//
//   nchwc_conv_forward       y = act(conv(x, w) + bias [+ residual]), groups 1, any kernel, stride
//                            and padding; x blocked (in_block 16) or plain NCHW (in_block 1, for a
//                            chain's first layer: the 3-channel stem reads the image directly)
//   nchwc_depthwise_forward  y = act(depthwise(x, w) + bias), x and y blocked
//   nchwc_inverted_residual_forward   MobileNetV2's inverted residual block (1x1 expansion,
//                            depthwise, 1x1 projection [+ x]) in one pass per band of rows
//   nchwc_from_nchw / nchwc_to_nchw   the reorders at the ends of a chain
//
// Weights are packed once by the caller (lib/inference/blocked/):
//   conv:      [K/16][C/in_block][KH][KW][in_block][16]  (output channel innermost; zero where
//              either channel is padding)
//   depthwise: [C/16][KH][KW][16]
// bias (and residual) are padded to the blocked channel count. Padded output channels come out
// as act(0) = 0, so the padding stays zero through a chain.
#pragma once

#include <cstddef>

#include "kernels/gemm.h"
#include "runtime/isa.h"

namespace convkit {

constexpr size_t kNchwcBlock = 16;

struct NchwcConvShape {
  size_t batch = 0;
  size_t in_channels = 0;   // stored input channels: a multiple of 16 when in_block is 16
  size_t in_block = 16;     // 16: x is blocked; 1: x is plain NCHW
  size_t H = 0, W = 0;
  size_t out_channels = 0;  // a multiple of 16
  size_t OH = 0, OW = 0;
  size_t KH = 1, KW = 1;
  size_t sh = 1, sw = 1;
  size_t pt = 0, pl = 0;    // padding before (top, left); after is implied by OH, OW
};

// Throws Error(kArgument / kShape) unless the shape is consistent (blocked counts, output size
// within what the padding allows).
void validate_nchwc(const NchwcConvShape& g, bool depthwise);

// x: batch x in_channels x H x W (blocked or plain); w packed as above; bias: out_channels;
// residual: null or the shape of y; y: batch x out_channels x OH x OW, blocked.
void nchwc_conv_forward(const NchwcConvShape& g, const float* x, const float* w, const float* bias,
                        const float* residual, float* y, Activation act);

// Depthwise (groups == channels, multiplier 1): in_channels == out_channels, in_block 16.
void nchwc_depthwise_forward(const NchwcConvShape& g, const float* x, const float* w, const float* bias, float* y,
                             Activation act);

// An inverted residual block: y = project(act(depthwise(act(expand(x))))) [+ x], every layer's
// bias and activation fused. Each task makes a band of output rows at a time: it expands the input
// rows the band's depthwise taps reach (keeping those the previous band already expanded), runs the
// depthwise layer on them and projects its output into y. The expanded and depthwise activations
// (6x the input's channels in MobileNetV2) live only in per-thread band buffers that stay in the L2
// cache, instead of going through memory between three layers.
struct NchwcBlockShape {
  size_t batch = 0;
  size_t in_channels = 0;   // blocked (multiples of 16), as are hidden and out_channels
  size_t hidden = 0;        // the expansion's outputs; in_channels without an expansion
  size_t out_channels = 0;
  size_t H = 0, W = 0;      // the input (and the depthwise layer's input)
  size_t OH = 0, OW = 0;    // the depthwise layer's output (and the block's)
  size_t KH = 3, KW = 3;    // the depthwise kernel, stride and padding before
  size_t sh = 1, sw = 1;
  size_t pt = 1, pl = 1;
  bool expand = true;
  bool residual = false;    // adds x: needs in_channels == out_channels and an unchanged size
};

// Weights packed as for nchwc_conv_forward (expand, project: in_block 16) and
// nchwc_depthwise_forward; biases padded to the blocked channel counts.
struct NchwcBlockWeights {
  const float* expand_w = nullptr;  // null without an expansion
  const float* expand_b = nullptr;
  const float* dw_w = nullptr;
  const float* dw_b = nullptr;
  const float* project_w = nullptr;
  const float* project_b = nullptr;
  Activation expand_act = Activation::kNone, dw_act = Activation::kNone, project_act = Activation::kNone;
};

// Throws Error(kArgument / kShape) unless the block's shape is consistent.
void validate_nchwc_block(const NchwcBlockShape& s);

// x: batch x in_channels x H x W, y: batch x out_channels x OH x OW, both blocked.
void nchwc_inverted_residual_forward(const NchwcBlockShape& s, const NchwcBlockWeights& w, const float* x, float* y);

// Input rows a band of `band` output rows holds expanded, and the floats of one task's band
// buffers.
size_t nchwc_block_rows_held(const NchwcBlockShape& s, size_t band);
size_t nchwc_block_scratch(const NchwcBlockShape& s, size_t band);

// x: batch x channels x spatial (NCHW) -> y: batch x ceil16(channels) x spatial x 16, zero-padded.
void nchwc_from_nchw(const float* x, size_t batch, size_t channels, size_t spatial, float* y);
// The inverse: y keeps the first `channels` channels.
void nchwc_to_nchw(const float* x, size_t batch, size_t channels, size_t spatial, float* y);

// Per instruction set (conv_nchwc_impl.inc, compiled by conv_nchwc_{scalar,avx2,avx512}.cc).
struct NchwcKernels {
  const char* name;
  // Positions [gp0, gp0 + count) of the batch (flattened over image, oh, ow) for output blocks
  // [kb0, kb0 + nb), nb <= max_blocks.
  void (*conv_positions)(const NchwcConvShape& g, const float* x, const float* w, const float* bias,
                         const float* residual, float* y, bool relu, float cap, size_t kb0, size_t nb, size_t gp0,
                         size_t count);
  // Output rows [oh0, oh1) of plane block cb of image n.
  void (*depthwise_rows)(const NchwcConvShape& g, const float* x, const float* w, const float* bias, float* y,
                         bool relu, float cap, size_t n, size_t cb, size_t oh0, size_t oh1);
  // Output rows [oh0, oh1) of image n of an inverted residual block, `band` rows at a time, in
  // `scratch` (nchwc_block_scratch floats).
  void (*inverted_residual_rows)(const NchwcBlockShape& s, const NchwcBlockWeights& w, const float* x, float* y,
                                 size_t n, size_t oh0, size_t oh1, size_t band, float* scratch);
  size_t max_blocks;  // output blocks one conv tile covers at most (the register tile's height)
};

const NchwcKernels& nchwc_kernels_scalar();
#if defined(CONVKIT_HAVE_X86_KERNELS)
const NchwcKernels& nchwc_kernels_avx2();
const NchwcKernels& nchwc_kernels_avx512();
#endif

}  // namespace convkit
