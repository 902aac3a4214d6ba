// Depthwise convolution (groups == in_channels, output channel co reads input channel co / m for a
// channel multiplier m = out / in): direct loops over one plane per task. The 1-D/2-D forward runs
// a blocked loop per instruction set (conv_depthwise_impl.inc); 3-D and the backward passes loop
// tap by tap along rows of outputs (contiguous for stride 1, so they vectorise). MobileNet's 3x3 depthwise layers do
// 9 multiply-adds per output: an im2col + GEMM would spend more on memory than on arithmetic.
#include <cstring>

#include <vector>

#include "kernels/conv.h"
#include "kernels/conv_depthwise.h"
#include "runtime/threads.h"

namespace convkit {
namespace {

inline long in_coord(const ConvParams& p, int axis, size_t o, size_t t) {
  return static_cast<long>(o * p.stride[axis] + t * p.dilation[axis]) - static_cast<long>(p.pad_begin[axis]);
}

// Calls fn(out_row_offset, in_row_offset, ow_lo, ow_hi, iw0) for every output row and tap whose
// input row exists; the tap reads input column iw0 + ow * stride for ow in [ow_lo, ow_hi).
template <class Fn>
void for_each_row(const ConvParams& p, size_t kd, size_t kh, size_t kw, Fn fn) {
  const long W = static_cast<long>(p.in[2]);
  const long sw = static_cast<long>(p.stride[2]);
  const long iw0 = static_cast<long>(kw * p.dilation[2]) - static_cast<long>(p.pad_begin[2]);
  long lo = iw0 >= 0 ? 0 : (-iw0 + sw - 1) / sw;
  long hi = iw0 >= W ? 0 : (W - 1 - iw0) / sw + 1;
  if (hi > static_cast<long>(p.out[2])) hi = static_cast<long>(p.out[2]);
  if (lo >= hi) return;
  for (size_t od = 0; od < p.out[0]; ++od) {
    const long id = in_coord(p, 0, od, kd);
    if (id < 0 || id >= static_cast<long>(p.in[0])) continue;
    for (size_t oh = 0; oh < p.out[1]; ++oh) {
      const long ih = in_coord(p, 1, oh, kh);
      if (ih < 0 || ih >= static_cast<long>(p.in[1])) continue;
      fn((od * p.out[1] + oh) * p.out[2], (static_cast<size_t>(id) * p.in[1] + static_cast<size_t>(ih)) * p.in[2],
         static_cast<size_t>(lo), static_cast<size_t>(hi), iw0);
    }
  }
}

template <class Fn>
void for_each_tap(const ConvParams& p, Fn fn) {
  for (size_t kd = 0; kd < p.kernel[0]; ++kd)
    for (size_t kh = 0; kh < p.kernel[1]; ++kh)
      for (size_t kw = 0; kw < p.kernel[2]; ++kw) fn(kd, kh, kw, (kd * p.kernel[1] + kh) * p.kernel[2] + kw);
}

int threads_for(size_t work) {
  const int t = num_threads();
  return work < 32768 ? 1 : t;
}

}  // namespace

DepthwisePlane depthwise_plane_of(const ConvParams& p) {
  return DepthwisePlane{p.in[1],       p.in[2],       p.out[1],       p.out[2],       p.kernel[1],    p.kernel[2],
                        p.stride[1],   p.stride[2],   p.dilation[1],  p.dilation[2],  p.pad_begin[1], p.pad_begin[2]};
}

namespace {

const DepthwiseKernels& depthwise_kernels_for(Isa isa) {
  switch (isa) {
#if defined(CONVKIT_HAVE_X86_KERNELS)
    case Isa::kAvx512: return depthwise_kernels_avx512();
    case Isa::kAvx2: return depthwise_kernels_avx2();
#endif
    default: return depthwise_kernels_scalar();
  }
}

// 1-D and 2-D: one plane at a time through the instruction set's blocked loop (conv_depthwise_impl.inc).
void forward_planes(const ConvParams& p, const float* x, const float* w, const float* bias, float* y,
                    Activation act) {
  const DepthwiseKernels& k = depthwise_kernels_for(active_isa());
  const DepthwisePlane g = depthwise_plane_of(p);
  const size_t S = p.out_spatial(), in_s = p.in_spatial(), taps = p.kernel_taps();
  const size_t mult = p.out_channels / p.in_channels;
  const long planes = static_cast<long>(p.batch * p.out_channels);
  const bool relu = act != Activation::kNone;
  const float cap = activation_cap(act);
  const size_t scratch_floats = k.scratch_floats(g);
  // A strided layer does a quarter of the taps per input byte of a stride-1 one: its planes stream
  // from memory (MobileNetV2's 112x112x96 stride-2 layer: 77 MB at batch 16), so the next plane is
  // fetched while this one is computed (there 7.8-11 -> 5.0-5.7 ms; stride-1 layers measured slower).
  const bool prefetch = p.stride[1] > 1 || p.stride[2] > 1;
#pragma omp parallel num_threads(threads_for(p.y_size() * taps))
  {
    std::vector<float> scratch(scratch_floats);
#pragma omp for schedule(static)
    for (long plane = 0; plane < planes; ++plane) {
      const size_t n = static_cast<size_t>(plane) / p.out_channels, co = static_cast<size_t>(plane) % p.out_channels;
      if (prefetch && plane + 1 < planes) {
        const size_t n1 = static_cast<size_t>(plane + 1) / p.out_channels, c1 = static_cast<size_t>(plane + 1) % p.out_channels;
        const char* next = reinterpret_cast<const char*>(x + (n1 * p.in_channels + c1 / mult) * in_s);
        for (size_t b = 0; b < in_s * sizeof(float); b += 64) __builtin_prefetch(next + b, 0, 2);
      }
      k.forward_plane(g, x + (n * p.in_channels + co / mult) * in_s, w + co * taps, bias != nullptr ? bias[co] : 0.0f,
                      relu, cap, y + static_cast<size_t>(plane) * S, scratch.data());
    }
  }
}

// 3-D (video): tap by tap over the output rows.
void forward_volumes(const ConvParams& p, const float* x, const float* w, const float* bias, float* y,
                     Activation act) {
  const size_t S = p.out_spatial(), in_s = p.in_spatial(), taps = p.kernel_taps();
  const size_t mult = p.out_channels / p.in_channels;
  const long planes = static_cast<long>(p.batch * p.out_channels);
  const size_t sw = p.stride[2];
#pragma omp parallel for schedule(static) num_threads(threads_for(p.y_size() * taps))
  for (long plane = 0; plane < planes; ++plane) {
    const size_t n = static_cast<size_t>(plane) / p.out_channels, co = static_cast<size_t>(plane) % p.out_channels;
    const float* xp = x + (n * p.in_channels + co / mult) * in_s;
    const float* wp = w + co * taps;
    float* yp = y + static_cast<size_t>(plane) * S;
    const float b = bias != nullptr ? bias[co] : 0.0f;
    for (size_t i = 0; i < S; ++i) yp[i] = b;
    for_each_tap(p, [&](size_t kd, size_t kh, size_t kw, size_t t) {
      const float wv = wp[t];
      for_each_row(p, kd, kh, kw, [&](size_t yo, size_t xo, size_t lo, size_t hi, long iw0) {
        float* __restrict yr = yp + yo;
        const float* __restrict xr = xp + xo + iw0;
        if (sw == 1) {
          for (size_t ow = lo; ow < hi; ++ow) yr[ow] += wv * xr[ow];
        } else {
          for (size_t ow = lo; ow < hi; ++ow) yr[ow] += wv * xr[ow * sw];
        }
      });
    });
    if (act != Activation::kNone) {
      const float cap = activation_cap(act);
      for (size_t i = 0; i < S; ++i) yp[i] = apply_relu(yp[i], true, cap);
    }
  }
}

}  // namespace

void conv_depthwise_forward(const ConvParams& p, const float* x, const float* w, const float* bias, float* y,
                            Activation act) {
  if (p.in[0] == 1 && p.kernel[0] == 1 && p.out[0] == 1) {
    forward_planes(p, x, w, bias, y, act);
  } else {
    forward_volumes(p, x, w, bias, y, act);
  }
}

void conv_depthwise_backward_data(const ConvParams& p, const float* dy, const float* w, float* dx) {
  const size_t S = p.out_spatial(), in_s = p.in_spatial(), taps = p.kernel_taps();
  const size_t mult = p.out_channels / p.in_channels;
  const long planes = static_cast<long>(p.batch * p.in_channels);
  const size_t sw = p.stride[2];
#pragma omp parallel for schedule(static) num_threads(threads_for(p.y_size() * taps))
  for (long plane = 0; plane < planes; ++plane) {
    const size_t n = static_cast<size_t>(plane) / p.in_channels, c = static_cast<size_t>(plane) % p.in_channels;
    float* xp = dx + static_cast<size_t>(plane) * in_s;
    std::memset(xp, 0, in_s * sizeof(float));
    for (size_t j = 0; j < mult; ++j) {
      const size_t co = c * mult + j;
      const float* yp = dy + (n * p.out_channels + co) * S;
      const float* wp = w + co * taps;
      for_each_tap(p, [&](size_t kd, size_t kh, size_t kw, size_t t) {
        const float wv = wp[t];
        for_each_row(p, kd, kh, kw, [&](size_t yo, size_t xo, size_t lo, size_t hi, long iw0) {
          const float* __restrict yr = yp + yo;
          float* __restrict xr = xp + xo + iw0;
          if (sw == 1) {
            for (size_t ow = lo; ow < hi; ++ow) xr[ow] += wv * yr[ow];
          } else {
            for (size_t ow = lo; ow < hi; ++ow) xr[ow * sw] += wv * yr[ow];
          }
        });
      });
    }
  }
}

void conv_depthwise_backward_weight(const ConvParams& p, const float* x, const float* dy, float* dw, float* dbias) {
  const size_t S = p.out_spatial(), in_s = p.in_spatial(), taps = p.kernel_taps();
  const size_t mult = p.out_channels / p.in_channels;
  const size_t sw = p.stride[2];
#pragma omp parallel for schedule(static) num_threads(threads_for(p.y_size() * taps))
  for (long col = 0; col < static_cast<long>(p.out_channels); ++col) {
    const size_t co = static_cast<size_t>(col);
    for_each_tap(p, [&](size_t kd, size_t kh, size_t kw, size_t t) {
      double acc = 0.0;
      for (size_t n = 0; n < p.batch; ++n) {
        const float* xp = x + (n * p.in_channels + co / mult) * in_s;
        const float* yp = dy + (n * p.out_channels + co) * S;
        for_each_row(p, kd, kh, kw, [&](size_t yo, size_t xo, size_t lo, size_t hi, long iw0) {
          const float* __restrict yr = yp + yo;
          const float* __restrict xr = xp + xo + iw0;
          float part = 0.0f;
          if (sw == 1) {
#pragma omp simd reduction(+ : part)
            for (size_t ow = lo; ow < hi; ++ow) part += xr[ow] * yr[ow];
          } else {
            for (size_t ow = lo; ow < hi; ++ow) part += xr[ow * sw] * yr[ow];
          }
          acc += part;
        });
      }
      dw[co * taps + t] = static_cast<float>(acc);
    });
  }
  if (dbias != nullptr) conv_bias_gradient(p, dy, dbias);
}

}  // namespace convkit
