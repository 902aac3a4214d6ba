#include "kernels/conv_crop.h"

#include <cstring>

#include "runtime/threads.h"

namespace convkit {

namespace {

// Whether tap k of axis a reaches the input for some output position.
bool tap_reaches_input(const ConvParams& p, int a, size_t k) {
  const long in = static_cast<long>(p.in[a]), s = static_cast<long>(p.stride[a]);
  const long start = static_cast<long>(k * p.dilation[a]) - static_cast<long>(p.pad_begin[a]);
  for (size_t o = 0; o < p.out[a]; ++o) {
    const long pos = start + static_cast<long>(o) * s;
    if (pos >= 0 && pos < in) return true;
  }
  return false;
}

}  // namespace

bool conv_crop_taps(const ConvParams& p, ConvCrop* crop) {
  ConvParams q = p;
  bool smaller = false;
  for (int a = 0; a < 3; ++a) {
    size_t lo = 0, hi = p.kernel[a];
    while (lo < hi && !tap_reaches_input(p, a, lo)) ++lo;
    while (hi > lo && !tap_reaches_input(p, a, hi - 1)) --hi;
    if (lo == hi) return false;  // no tap reaches the input: leave such odd shapes to the general path
    crop->first[a] = lo;
    if (lo == 0 && hi == p.kernel[a]) continue;
    const long d = static_cast<long>(p.dilation[a]);
    const long pad_begin = static_cast<long>(p.pad_begin[a]) - static_cast<long>(lo) * d;
    const size_t kept = hi - lo;
    // The cropped window of output o starts at o*s - pad_begin; its last kept tap must stay within
    // the padded extent, which sets the end padding.
    const long reach = static_cast<long>(kept - 1) * d + 1;
    const long need = static_cast<long>(p.out[a] - 1) * static_cast<long>(p.stride[a]) + reach;  // padded length used
    long pad_end = need - static_cast<long>(p.in[a]) - pad_begin;
    if (pad_begin < 0) return false;
    if (pad_end < 0) pad_end = 0;
    // The output size must come out the same: floor((in + pb + pe - reach) / s) + 1 == out.
    const long padded = static_cast<long>(p.in[a]) + pad_begin + pad_end;
    if ((padded - reach) / static_cast<long>(p.stride[a]) + 1 != static_cast<long>(p.out[a])) return false;
    q.kernel[a] = kept;
    q.pad_begin[a] = static_cast<size_t>(pad_begin);
    q.pad_end[a] = static_cast<size_t>(pad_end);
    smaller = true;
  }
  if (!smaller) return false;
  crop->cropped = q;
  return true;
}

void conv_crop_weight(const ConvParams& p, const ConvCrop& crop, const float* w, std::vector<float>* out) {
  const ConvParams& q = crop.cropped;
  out->resize(q.w_size());
  const size_t filters = p.out_channels * p.in_per_group();
  const size_t KD = p.kernel[0], KH = p.kernel[1], KW = p.kernel[2];
  const size_t kd = q.kernel[0], kh = q.kernel[1], kw = q.kernel[2];
  float* out_data = out->data();
  // Per filter, across the threads: ResNet-18's 3x3 layers on 1x1 and 2x2 planes (32x32 input) crop
  // up to 2.4 M weights on every call, one or a few taps per filter.
  const long count = static_cast<long>(filters);
#pragma omp parallel for schedule(static) num_threads(num_threads()) if (q.w_size() >= 65536)
  for (long fl = 0; fl < count; ++fl) {
    const size_t f = static_cast<size_t>(fl);
    const float* src = w + f * KD * KH * KW;
    float* dst = out_data + f * kd * kh * kw;
    for (size_t a = 0; a < kd; ++a)
      for (size_t b = 0; b < kh; ++b) {
        const float* row = src + ((crop.first[0] + a) * KH + crop.first[1] + b) * KW + crop.first[2];
        for (size_t c = 0; c < kw; ++c) dst[c] = row[c];
        dst += kw;
      }
  }
}

void conv_uncrop_weight(const ConvParams& p, const ConvCrop& crop, const float* dw_cropped, float* dw) {
  const ConvParams& q = crop.cropped;
  const size_t filters = p.out_channels * p.in_per_group();
  const size_t KD = p.kernel[0], KH = p.kernel[1], KW = p.kernel[2];
  const size_t kd = q.kernel[0], kh = q.kernel[1], kw = q.kernel[2];
  const long count = static_cast<long>(filters);
#pragma omp parallel for schedule(static) num_threads(num_threads()) if (p.w_size() >= 65536)
  for (long fl = 0; fl < count; ++fl) {
    const size_t f = static_cast<size_t>(fl);
    float* base = dw + f * KD * KH * KW;
    const float* src = dw_cropped + f * kd * kh * kw;
    for (size_t t = 0; t < KD * KH * KW; ++t) base[t] = 0.0f;
    for (size_t a = 0; a < kd; ++a)
      for (size_t b = 0; b < kh; ++b) {
        float* row = base + ((crop.first[0] + a) * KH + crop.first[1] + b) * KW + crop.first[2];
        for (size_t c = 0; c < kw; ++c) row[c] = src[c];
        src += kw;
      }
  }
}

}  // namespace convkit
