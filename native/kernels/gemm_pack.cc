#include "kernels/gemm_pack.h"

#include <cstring>

namespace convkit {

void pack_a_panels(StridedView a, size_t row0, size_t rows, size_t k0, size_t kc, size_t mr, float* dst) {
  for (size_t r0 = 0; r0 < rows; r0 += mr) {
    const size_t rr = rows - r0 < mr ? rows - r0 : mr;
    const float* src = a.p + static_cast<ptrdiff_t>(row0 + r0) * a.rs + static_cast<ptrdiff_t>(k0) * a.cs;
    if (a.rs == 1) {
      // The mr values of one k step are contiguous in the source (a transposed A).
      for (size_t p = 0; p < kc; ++p) {
        const float* s = src + static_cast<ptrdiff_t>(p) * a.cs;
        float* d = dst + p * mr;
        std::memcpy(d, s, rr * sizeof(float));
        for (size_t r = rr; r < mr; ++r) d[r] = 0.0f;
      }
    } else {
      // Rows are contiguous along k (a plain A): read each row in order, write with stride mr.
      for (size_t r = 0; r < rr; ++r) {
        const float* s = src + static_cast<ptrdiff_t>(r) * a.rs;
        float* d = dst + r;
        if (a.cs == 1) {
          for (size_t p = 0; p < kc; ++p) d[p * mr] = s[p];
        } else {
          for (size_t p = 0; p < kc; ++p) d[p * mr] = s[static_cast<ptrdiff_t>(p) * a.cs];
        }
      }
      for (size_t r = rr; r < mr; ++r) {
        for (size_t p = 0; p < kc; ++p) dst[p * mr + r] = 0.0f;
      }
    }
    dst += kc * mr;
  }
}

void pack_b_panels(StridedView b, size_t k0, size_t kc, size_t col0, size_t cols, size_t nr, float* dst) {
  for (size_t j0 = 0; j0 < cols; j0 += nr) {
    const size_t jj = cols - j0 < nr ? cols - j0 : nr;
    const float* src = b.p + static_cast<ptrdiff_t>(k0) * b.rs + static_cast<ptrdiff_t>(col0 + j0) * b.cs;
    if (b.cs == 1) {
      // Rows of B are contiguous along n (a plain B): one copy per k step.
      for (size_t p = 0; p < kc; ++p) {
        const float* s = src + static_cast<ptrdiff_t>(p) * b.rs;
        float* d = dst + p * nr;
        std::memcpy(d, s, jj * sizeof(float));
        for (size_t j = jj; j < nr; ++j) d[j] = 0.0f;
      }
    } else {
      // Columns are contiguous along k (a transposed B): read each column in order.
      for (size_t j = 0; j < jj; ++j) {
        const float* s = src + static_cast<ptrdiff_t>(j) * b.cs;
        float* d = dst + j;
        if (b.rs == 1) {
          for (size_t p = 0; p < kc; ++p) d[p * nr] = s[p];
        } else {
          for (size_t p = 0; p < kc; ++p) d[p * nr] = s[static_cast<ptrdiff_t>(p) * b.rs];
        }
      }
      for (size_t j = jj; j < nr; ++j) {
        for (size_t p = 0; p < kc; ++p) dst[p * nr + j] = 0.0f;
      }
    }
    dst += kc * nr;
  }
}

}  // namespace convkit
