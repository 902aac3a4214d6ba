// Direct-loop convolution references: every output as the sum its definition gives (conv.h), in
// double precision. Slow and obviously right; the optimised paths are tested against these.
#include <vector>

#include "kernels/conv.h"

namespace convkit {
namespace {

// Input index along one axis for output o and tap t, or -1 when it falls in the padding.
long in_index(const ConvParams& p, int axis, size_t o, size_t t) {
  const long i = static_cast<long>(o * p.stride[axis] + t * p.dilation[axis]) - static_cast<long>(p.pad_begin[axis]);
  return i >= 0 && i < static_cast<long>(p.in[axis]) ? i : -1;
}

// Calls fn(x_offset_in_plane, y_offset_in_plane, tap) for every valid (output, tap) pair of one plane.
template <class Fn>
void for_each_pair(const ConvParams& p, Fn fn) {
  for (size_t od = 0; od < p.out[0]; ++od)
    for (size_t oh = 0; oh < p.out[1]; ++oh)
      for (size_t ow = 0; ow < p.out[2]; ++ow)
        for (size_t kd = 0; kd < p.kernel[0]; ++kd)
          for (size_t kh = 0; kh < p.kernel[1]; ++kh)
            for (size_t kw = 0; kw < p.kernel[2]; ++kw) {
              const long id = in_index(p, 0, od, kd), ih = in_index(p, 1, oh, kh), iw = in_index(p, 2, ow, kw);
              if (id < 0 || ih < 0 || iw < 0) continue;
              const size_t xo = (static_cast<size_t>(id) * p.in[1] + static_cast<size_t>(ih)) * p.in[2] + static_cast<size_t>(iw);
              const size_t yo = (od * p.out[1] + oh) * p.out[2] + ow;
              const size_t t = (kd * p.kernel[1] + kh) * p.kernel[2] + kw;
              fn(xo, yo, t);
            }
}

}  // namespace

void conv_forward_ref(const ConvParams& p, const float* x, const float* w, const float* bias, float* y, Activation act) {
  validate_conv(p);
  const size_t cig = p.in_per_group(), cog = p.out_per_group(), taps = p.kernel_taps();
  std::vector<double> acc(p.out_spatial());
  for (size_t n = 0; n < p.batch; ++n)
    for (size_t co = 0; co < p.out_channels; ++co) {
      const size_t g = co / cog;
      for (double& a : acc) a = bias != nullptr ? bias[co] : 0.0;
      for (size_t c = 0; c < cig; ++c) {
        const float* xp = x + (n * p.in_channels + g * cig + c) * p.in_spatial();
        const float* wp = w + (co * cig + c) * taps;
        for_each_pair(p, [&](size_t xo, size_t yo, size_t t) { acc[yo] += static_cast<double>(xp[xo]) * wp[t]; });
      }
      float* yp = y + (n * p.out_channels + co) * p.out_spatial();
      for (size_t i = 0; i < acc.size(); ++i) {
        const float v = static_cast<float>(acc[i]);
        yp[i] = apply_relu(v, act != Activation::kNone, activation_cap(act));
      }
    }
}

void conv_backward_data_ref(const ConvParams& p, const float* dy, const float* w, float* dx) {
  validate_conv(p);
  const size_t cig = p.in_per_group(), cog = p.out_per_group(), taps = p.kernel_taps();
  std::vector<double> acc(p.in_spatial());
  for (size_t n = 0; n < p.batch; ++n)
    for (size_t ci = 0; ci < p.in_channels; ++ci) {
      const size_t g = ci / cig;
      for (double& a : acc) a = 0.0;
      for (size_t c = 0; c < cog; ++c) {
        const size_t co = g * cog + c;
        const float* dyp = dy + (n * p.out_channels + co) * p.out_spatial();
        const float* wp = w + (co * cig + (ci - g * cig)) * taps;
        for_each_pair(p, [&](size_t xo, size_t yo, size_t t) { acc[xo] += static_cast<double>(dyp[yo]) * wp[t]; });
      }
      float* dxp = dx + (n * p.in_channels + ci) * p.in_spatial();
      for (size_t i = 0; i < acc.size(); ++i) dxp[i] = static_cast<float>(acc[i]);
    }
}

void conv_backward_weight_ref(const ConvParams& p, const float* x, const float* dy, float* dw, float* dbias) {
  validate_conv(p);
  const size_t cig = p.in_per_group(), cog = p.out_per_group(), taps = p.kernel_taps();
  std::vector<double> acc(taps);
  for (size_t co = 0; co < p.out_channels; ++co) {
    const size_t g = co / cog;
    for (size_t c = 0; c < cig; ++c) {
      for (double& a : acc) a = 0.0;
      for (size_t n = 0; n < p.batch; ++n) {
        const float* xp = x + (n * p.in_channels + g * cig + c) * p.in_spatial();
        const float* dyp = dy + (n * p.out_channels + co) * p.out_spatial();
        for_each_pair(p, [&](size_t xo, size_t yo, size_t t) { acc[t] += static_cast<double>(xp[xo]) * dyp[yo]; });
      }
      for (size_t t = 0; t < taps; ++t) dw[(co * cig + c) * taps + t] = static_cast<float>(acc[t]);
    }
    if (dbias != nullptr) {
      double s = 0.0;
      for (size_t n = 0; n < p.batch; ++n) {
        const float* dyp = dy + (n * p.out_channels + co) * p.out_spatial();
        for (size_t i = 0; i < p.out_spatial(); ++i) s += dyp[i];
      }
      dbias[co] = static_cast<float>(s);
    }
  }
}

}  // namespace convkit
