// Moving between an image and its im2col matrix, one row segment at a time. Row k of the im2col
// matrix of one group is (ci, kd, kh, kw); its columns are output positions. These helpers serve the
// implicit-im2col GEMM panels (conv_gemm.cc), the explicit column tiles of the backward passes, and
// col2im.
#pragma once

#include <cstddef>

#include "kernels/conv.h"

namespace convkit {

// One im2col row: channel plane `plane` (in_spatial floats) and tap (kd, kh, kw).
struct ColRow {
  const float* plane;
  size_t kd, kh, kw;
};

// dst[i] = im2col value of row `r` at output positions s0 + i, i < len (positions of one image).
void im2col_fill(const ConvParams& p, const ColRow& r, size_t s0, size_t len, float* dst);

// The inverse scatter: plane[input position of (r, s0 + i)] += src[i] for i < len (padding skipped).
void col2im_add(const ConvParams& p, float* plane, size_t kd, size_t kh, size_t kw, size_t s0, size_t len,
                const float* src);

// Decodes row k of a group's im2col matrix into (channel within the group, kd, kh, kw).
inline void decode_col_row(const ConvParams& p, size_t k, size_t* c, size_t* kd, size_t* kh, size_t* kw) {
  const size_t taps = p.kernel_taps();
  *c = k / taps;
  size_t t = k - *c * taps;
  *kw = t % p.kernel[2];
  t /= p.kernel[2];
  *kh = t % p.kernel[1];
  *kd = t / p.kernel[1];
}

}  // namespace convkit
