// The implicit im2col of a convolution as GEMM B panels: the forward GEMM (conv_gemm.cc) asks for
// panels of kc x nr floats, laid out [p][j], for im2col rows [k0, k0 + kc) (ci, kd, kh, kw) and
// columns [col0, col0 + cols) (output positions of `images` consecutive images), and gets them
// packed straight from the input: no column matrix is ever written. One implementation
// (conv_pack_impl.inc) compiled per instruction set; the AVX-512 one copies each row run with
// masked loads and stores.
#pragma once

#include <cstddef>

#include "kernels/conv.h"
#include "kernels/gemm.h"
#include "runtime/isa.h"

namespace convkit {

struct ConvColumnSource {
  const ConvParams* p;
  const float* x;       // first image of the chunk, first channel of the group
  size_t image_stride;  // floats between images (in_channels * in_spatial)
};

using ConvColumnPacker = void (*)(const void* source, size_t k0, size_t kc, size_t col0, size_t cols, size_t nr,
                                  float* dst);

// The packer of a path (a GemmPanelSource::pack taking a ConvColumnSource).
ConvColumnPacker conv_column_packer(Isa isa);

void conv_pack_columns_scalar(const void* source, size_t k0, size_t kc, size_t col0, size_t cols, size_t nr,
                              float* dst);
#if defined(CONVKIT_HAVE_X86_KERNELS)
void conv_pack_columns_avx2(const void* source, size_t k0, size_t kc, size_t col0, size_t cols, size_t nr,
                            float* dst);
void conv_pack_columns_avx512(const void* source, size_t k0, size_t kc, size_t col0, size_t cols, size_t nr,
                              float* dst);
#endif

}  // namespace convkit
