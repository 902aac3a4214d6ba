#include "kernels/conv_im2col.h"

#include <cstring>

namespace convkit {
namespace {

// Input coordinate along `axis` for output o and tap t; negative or >= in means padding.
inline long in_coord(const ConvParams& p, int axis, size_t o, size_t t) {
  return static_cast<long>(o * p.stride[axis] + t * p.dilation[axis]) - static_cast<long>(p.pad_begin[axis]);
}

}  // namespace

void im2col_fill(const ConvParams& p, const ColRow& r, size_t s0, size_t len, float* dst) {
  const size_t ow_n = p.out[2], oh_n = p.out[1];
  const long W = static_cast<long>(p.in[2]);
  const long H = static_cast<long>(p.in[1]);
  const long D = static_cast<long>(p.in[0]);
  const long sw = static_cast<long>(p.stride[2]);
  size_t ow = s0 % ow_n;
  size_t oh = (s0 / ow_n) % oh_n;
  size_t od = s0 / (ow_n * oh_n);
  while (len > 0) {
    const size_t seg = ow_n - ow < len ? ow_n - ow : len;  // to the end of this output row
    const long id = in_coord(p, 0, od, r.kd), ih = in_coord(p, 1, oh, r.kh);
    if (id < 0 || id >= D || ih < 0 || ih >= H) {
      for (size_t i = 0; i < seg; ++i) dst[i] = 0.0f;  // short rows: a loop beats a memset call
    } else {
      const float* row = r.plane + (static_cast<size_t>(id) * p.in[1] + static_cast<size_t>(ih)) * p.in[2];
      const long iw0 = in_coord(p, 2, ow, r.kw);
      // Valid i: 0 <= iw0 + i * sw < W.
      long lo = iw0 >= 0 ? 0 : (-iw0 + sw - 1) / sw;
      long hi = iw0 >= W ? 0 : (W - 1 - iw0) / sw + 1;
      if (lo > static_cast<long>(seg)) lo = static_cast<long>(seg);
      if (hi > static_cast<long>(seg)) hi = static_cast<long>(seg);
      if (hi < lo) hi = lo;
      for (long i = 0; i < lo; ++i) dst[i] = 0.0f;
      if (sw == 1) {
        const float* src = row + iw0;
        for (long i = lo; i < hi; ++i) dst[i] = src[i];
      } else {
        for (long i = lo; i < hi; ++i) dst[i] = row[iw0 + i * sw];
      }
      for (long i = hi; i < static_cast<long>(seg); ++i) dst[i] = 0.0f;
    }
    dst += seg;
    len -= seg;
    ow = 0;
    if (++oh == oh_n) {
      oh = 0;
      ++od;
    }
  }
}

void col2im_add(const ConvParams& p, float* plane, size_t kd, size_t kh, size_t kw, size_t s0, size_t len,
                const float* src) {
  const size_t ow_n = p.out[2], oh_n = p.out[1];
  const long W = static_cast<long>(p.in[2]);
  const long H = static_cast<long>(p.in[1]);
  const long D = static_cast<long>(p.in[0]);
  const long sw = static_cast<long>(p.stride[2]);
  size_t ow = s0 % ow_n;
  size_t oh = (s0 / ow_n) % oh_n;
  size_t od = s0 / (ow_n * oh_n);
  while (len > 0) {
    const size_t seg = ow_n - ow < len ? ow_n - ow : len;
    const long id = in_coord(p, 0, od, kd), ih = in_coord(p, 1, oh, kh);
    if (id >= 0 && id < D && ih >= 0 && ih < H) {
      float* row = plane + (static_cast<size_t>(id) * p.in[1] + static_cast<size_t>(ih)) * p.in[2];
      const long iw0 = in_coord(p, 2, ow, kw);
      long lo = iw0 >= 0 ? 0 : (-iw0 + sw - 1) / sw;
      long hi = iw0 >= W ? 0 : (W - 1 - iw0) / sw + 1;
      if (hi > static_cast<long>(seg)) hi = static_cast<long>(seg);
      for (long i = lo; i < hi; ++i) row[iw0 + i * sw] += src[i];
    }
    src += seg;
    len -= seg;
    ow = 0;
    if (++oh == oh_n) {
      oh = 0;
      ++od;
    }
  }
}

}  // namespace convkit
