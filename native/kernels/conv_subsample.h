// Strided 1x1 convolutions (ResNet's downsampling shortcuts: 1x1, stride 2, no padding) read one
// input position in stride^2 and nothing around it. Gathering those positions into a dense input
// first turns the layer into a 1x1 stride-1 convolution, a plain GEMM on the gathered planes; the
// implicit-im2col path would instead pack a strided gather for every GEMM panel.
//
//   forward          y  = conv1x1(gather(x))
//   backward-data    dx = scatter(conv1x1_backward_data(dy))   (zero where no output reads x)
//   backward-weight  dw = conv1x1_backward_weight(gather(x), dy)
#pragma once

#include <cstddef>

#include "kernels/conv.h"

namespace convkit {

// True (and *dense filled: same batch, channels and groups, in = out, stride 1) when every axis has
// a 1-tap kernel and no padding, and some axis has a stride above 1.
bool conv_subsample_applies(const ConvParams& p, ConvParams* dense);

// xs [batch][in_channels][out spatial] = x at the positions the strided 1x1 kernel reads.
void conv_subsample_gather(const ConvParams& p, const float* x, float* xs);

// dx [batch][in_channels][in spatial] = xs placed back at those positions, zero elsewhere.
void conv_subsample_scatter(const ConvParams& p, const float* xs, float* dx);

}  // namespace convkit
