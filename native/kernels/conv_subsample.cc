#include "kernels/conv_subsample.h"

#include <cstring>

#include "runtime/threads.h"

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

// Calls fn(i) for every (image, channel) plane i, split across threads.
template <class Fn>
void for_planes(const ConvParams& p, Fn fn) {
  const long planes = static_cast<long>(p.batch * p.in_channels);
#pragma omp parallel for schedule(static) num_threads(num_threads()) if (planes > 1)
  for (long i = 0; i < planes; ++i) fn(static_cast<size_t>(i));
}

}  // namespace

void conv_subsample_gather(const ConvParams& p, const float* x, float* xs) {
  const size_t in_s = p.in_spatial(), out_s = p.out_spatial();
  const size_t sd = p.stride[0], sh = p.stride[1], sw = p.stride[2];
  const size_t H = p.in[1], W = p.in[2];
  for_planes(p, [&](size_t plane) {
    const float* src = x + plane * in_s;
    float* dst = xs + plane * out_s;
    for (size_t d = 0; d < p.out[0]; ++d)
      for (size_t h = 0; h < p.out[1]; ++h) {
        const float* row = src + (d * sd * H + h * sh) * W;
        for (size_t w = 0; w < p.out[2]; ++w) *dst++ = row[w * sw];
      }
  });
}

void conv_subsample_scatter(const ConvParams& p, const float* xs, float* dx) {
  const size_t in_s = p.in_spatial(), out_s = p.out_spatial();
  const size_t sd = p.stride[0], sh = p.stride[1], sw = p.stride[2];
  const size_t H = p.in[1], W = p.in[2];
  for_planes(p, [&](size_t plane) {
    float* dst = dx + plane * in_s;
    const float* src = xs + plane * out_s;
    std::memset(dst, 0, in_s * sizeof(float));
    for (size_t d = 0; d < p.out[0]; ++d)
      for (size_t h = 0; h < p.out[1]; ++h) {
        float* row = dst + (d * sd * H + h * sh) * W;
        for (size_t w = 0; w < p.out[2]; ++w) row[w * sw] = *src++;
      }
  });
}

}  // namespace convkit
