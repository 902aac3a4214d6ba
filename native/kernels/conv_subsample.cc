#include "kernels/conv_subsample.h"

#include <cstring>

namespace convkit {

bool conv_subsample_applies(const ConvParams& p, ConvParams* dense) {
  bool strided = false;
  for (int a = 0; a < 3; ++a) {
    if (p.kernel[a] != 1 || p.pad_begin[a] != 0 || p.pad_end[a] != 0) return false;
    if (p.stride[a] > 1 && p.out[a] > 1) strided = true;
  }
  if (!strided) return false;
  *dense = p;
  for (int a = 0; a < 3; ++a) {
    dense->in[a] = p.out[a];
    dense->stride[a] = 1;
    dense->dilation[a] = 1;
  }
  return true;
}

namespace {

// Calls fn(src plane, dst plane) for every (image, channel) of the block, in memory order.
template <class Fn>
void for_block_planes(const ConvParams& p, size_t images, size_t channels, size_t block_image_stride,
                      size_t block_channel_stride, Fn fn) {
  const size_t in_s = p.in_spatial();
  for (size_t b = 0; b < images; ++b)
    for (size_t c = 0; c < channels; ++c)
      fn((b * p.in_channels + c) * in_s, b * block_image_stride + c * block_channel_stride);
}

}  // namespace

void conv_subsample_gather(const ConvParams& p, const float* x, size_t images, size_t channels,
                           const SubsampledBlock& block) {
  const size_t sd = p.stride[0], sh = p.stride[1], sw = p.stride[2];
  const size_t H = p.in[1], W = p.in[2];
  const size_t od_n = p.out[0], oh_n = p.out[1], ow_n = p.out[2];
  for_block_planes(p, images, channels, block.image_stride, block.channel_stride, [&](size_t from, size_t to) {
    const float* src = x + from;
    float* __restrict dst = block.data + to;
    for (size_t d = 0; d < od_n; ++d)
      for (size_t h = 0; h < oh_n; ++h) {
        const float* __restrict row = src + (d * sd * H + h * sh) * W;
        if (sw == 2) {
          for (size_t w = 0; w < ow_n; ++w) dst[w] = row[2 * w];
        } else {
          for (size_t w = 0; w < ow_n; ++w) dst[w] = row[w * sw];
        }
        dst += ow_n;
      }
  });
}

void conv_subsample_scatter(const ConvParams& p, const SubsampledBlock& block, size_t images, size_t channels,
                            float* dx) {
  const size_t sd = p.stride[0], sh = p.stride[1], sw = p.stride[2];
  const size_t H = p.in[1], W = p.in[2], plane_hw = H * W;
  const size_t od_n = p.out[0], oh_n = p.out[1], ow_n = p.out[2];
  for_block_planes(p, images, channels, block.image_stride, block.channel_stride, [&](size_t to, size_t from) {
    float* __restrict dst = dx + to;
    const float* __restrict src = block.data + from;
    // Row by row, each written once: the zero rows between read rows, then read rows with zeros
    // between the read columns.
    for (size_t d = 0; d < p.in[0]; ++d) {
      const bool d_read = d % sd == 0 && d / sd < od_n;
      for (size_t h = 0; h < H; ++h) {
        float* __restrict row = dst + d * plane_hw + h * W;
        if (!d_read || h % sh != 0 || h / sh >= oh_n) {
          std::memset(row, 0, W * sizeof(float));
          continue;
        }
        const float* __restrict in = src + ((d / sd) * oh_n + h / sh) * ow_n;
        if (sw == 2) {  // pairs (value, 0): the compiler interleaves whole vectors with zeros
          const size_t pairs = W / 2 < ow_n ? W / 2 : ow_n;
          for (size_t i = 0; i < pairs; ++i) {
            row[2 * i] = in[i];
            row[2 * i + 1] = 0.0f;
          }
          for (size_t w = 2 * pairs; w < W; ++w) row[w] = (w & 1) == 0 && (w >> 1) < ow_n ? in[w >> 1] : 0.0f;
        } else {
          for (size_t w = 0; w < W; ++w) row[w] = w % sw == 0 && w / sw < ow_n ? in[w / sw] : 0.0f;
        }
      }
    }
  });
}

}  // namespace convkit
