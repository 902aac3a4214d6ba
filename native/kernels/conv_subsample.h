// Strided 1x1 convolutions (ResNet's downsampling shortcuts: 1x1, stride 2, no padding) read one
// input position in stride^2 and nothing around it. Gathering those positions into a dense block
// turns the layer into a 1x1 stride-1 convolution, a plain GEMM on the gathered planes. The GEMM
// loops (conv_gemm.cc) gather and scatter one batch chunk at a time into per-thread scratch, so the
// dense copy of the input never goes to memory:
//
//   forward          y  = conv1x1(gather(x))                 per chunk of images
//   backward-data    dx = scatter(conv1x1_backward_data(dy)) per image, zero where no output reads x
//   backward-weight  dw = conv1x1_backward_weight(gather(x), dy)
//
// The implicit-im2col packer could read the strided positions itself, but it visits a different
// channel plane for every packed row: on ResNet-18's 28x28x128 downsample at batch 32 that packing
// took 40% of the forward (3.1-3.5 ms against 2.3 with a separate gather).
#pragma once

#include <cstddef>

#include "kernels/conv.h"

namespace convkit {

// True (and *dense filled: same batch, channels and groups, in = out, stride 1) when every axis has
// a 1-tap kernel and no padding, and some axis has a stride above 1.
bool conv_subsample_applies(const ConvParams& p, ConvParams* dense);

// A block of images and channels in a dense [image][channel][out spatial] buffer of any strides.
struct SubsampledBlock {
  float* data;
  size_t image_stride;    // floats between images
  size_t channel_stride;  // floats between channel planes (at least p.out_spatial())
};

// For `images` images x `channels` channels: block = x at the positions the strided 1x1 kernel
// reads. `x` points at the first channel of the first image (images are p.in_channels planes apart).
// Runs on the calling thread.
void conv_subsample_gather(const ConvParams& p, const float* x, size_t images, size_t channels,
                           const SubsampledBlock& block);

// The inverse: those images' and channels' whole planes of dx = the block placed back at the read
// positions, zero elsewhere. Runs on the calling thread.
void conv_subsample_scatter(const ConvParams& p, const SubsampledBlock& block, size_t images, size_t channels,
                            float* dx);

}  // namespace convkit
