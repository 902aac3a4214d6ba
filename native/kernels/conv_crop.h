// Kernel taps that never touch the input. With small feature maps and padding (ResNet's last stage
// on CIFAR-size images: a 3x3 kernel, padding 1, on 1x1 maps) most taps only ever see padding, and
// an implicit GEMM would multiply them by zeros anyway. Cropping the kernel to the taps that reach
// the input gives the same result for less work: a 3x3 on 1x1 becomes a 1x1 (a single GEMM), a
// 3x3/2 on 2x2 becomes a 2x2.
#pragma once

#include <cstddef>
#include <vector>

#include "kernels/conv.h"

namespace convkit {

struct ConvCrop {
  ConvParams cropped;     // same input and output, smaller kernel and padding
  size_t first[3];        // first kept tap per axis
};

// True (and *crop filled) when some taps along some axis never reach the input for any output
// position and the cropped geometry is a valid convolution with the same output size.
bool conv_crop_taps(const ConvParams& p, ConvCrop* crop);

// The kept taps of w ([Co][Ci/g][kd][kh][kw] of p) in the cropped layout.
void conv_crop_weight(const ConvParams& p, const ConvCrop& crop, const float* w, std::vector<float>* out);

// Scatters the cropped weight gradient back into dw (p's layout); dropped taps get 0.
void conv_uncrop_weight(const ConvParams& p, const ConvCrop& crop, const float* dw_cropped, float* dw);

}  // namespace convkit
