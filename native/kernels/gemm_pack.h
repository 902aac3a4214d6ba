// Packing of GEMM operands into the panel layouts the micro-kernels read (see gemm_ukernel.h).
// Operands are strided views, so one routine serves A, B, their transposes and the swapped
// orientation the driver uses for narrow outputs.
#pragma once

#include <cstddef>

namespace convkit {

// Element (r, c) of a matrix is p[r * rs + c * cs].
struct StridedView {
  const float* p;
  ptrdiff_t rs;
  ptrdiff_t cs;
};

// Packs rows [row0, row0 + rows) x columns [k0, k0 + kc) of `a` into ceil(rows / mr) panels, each
// kc x mr floats laid out [p][r] (the mr values of one k step together), rows past the end zero.
void pack_a_panels(StridedView a, size_t row0, size_t rows, size_t k0, size_t kc, size_t mr, float* dst);

// Packs rows [k0, k0 + kc) x columns [col0, col0 + cols) of `b` into ceil(cols / nr) panels, each
// kc x nr floats laid out [p][j], columns past the end zero.
void pack_b_panels(StridedView b, size_t k0, size_t kc, size_t col0, size_t cols, size_t nr, float* dst);

}  // namespace convkit
