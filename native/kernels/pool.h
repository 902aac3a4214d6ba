// Max, average and adaptive pooling over up to three spatial dimensions, PyTorch semantics.
//
// Layout: x is [planes, D, H, W] contiguous (planes = N * C, or C for an unbatched input; 1-D and
// 2-D pooling use D = 1 and/or H = 1 with kernel 1, stride 1, padding 0 on those axes), y is
// [planes, OD, OH, OW]. Planes are independent; the kernels run an OpenMP team over them.
//
// Window of output o along an axis (in, k, s, p, d): taps t = 0..k-1 at input position
// o * s - p + t * d; taps outside [0, in) are padding and are never read. Output size, as PyTorch:
//   out = floor((in + 2p - d(k-1) - 1 + (ceil_mode ? s - 1 : 0)) / s) + 1,
//   and with ceil_mode, out -= 1 when (out - 1) * s >= in + p (the last window must start inside
//   the input or the left padding).
// make_pool_geometry() checks k, s, d >= 1, p <= k / 2 (PyTorch's condition), out >= 1, and that no
// window holds only padding (possible with dilation: kernel 2, dilation 3, padding 1 on an input of 2,
// where PyTorch returns -inf with an index outside the input), so every window has at least one tap
// inside the input.
//
// Max pooling: ties pick the first maximum in row-major window order (D, then H, then W); a NaN
// wins over every number and the last NaN of the window wins over earlier ones (PyTorch's
// `val > max || isnan(val)` scan from max = -inf); a window of -inf picks its first valid tap.
// Indices are int32 offsets into the input plane (d * H * W + h * W + w), as PyTorch's int64
// indices; planes must have fewer than 2^31 elements.
//
// Average pooling (dilation 1 only): y = sum over the window's taps inside the input / divisor,
// divisor = divisor_override when non-zero, else the window's size clipped to the padded input
// (count_include_pad) or the number of taps inside the input (!count_include_pad); per axis the
// padded extent is [o*s - p, min(o*s - p + k, in + p)), and the divisor is the product over axes.
//
// Adaptive pooling: window of output o along an axis is [floor(o * in / out), ceil((o+1) * in / out)).
// The average divides the float sum by the window size of each axis in turn (D, H, W), like PyTorch.
//
// The optimised paths (one per instruction set, pool_impl.inc) pool separably, W then H then D, which
// gives exactly the scan order's result for max pooling and sums in a different order for average
// pooling (float32 rounding differs from the reference by a few ulp). Backward of max and adaptive
// max pooling scatters the gradient through the saved indices; backward of average pooling spreads
// each output gradient / divisor over its window.
#pragma once

#include <cstddef>
#include <cstdint>

#include "runtime/isa.h"

namespace convkit {

// Plain aggregate (no default member initialisers): the ISA files take it by reference only.
struct PoolGeometry {
  size_t planes;
  size_t in[3];  // D, H, W
  size_t kernel[3];
  size_t stride[3];
  size_t padding[3];
  size_t dilation[3];
  bool ceil_mode;
  size_t out[3];  // filled by make_pool_geometry
};

struct AvgPoolOptions {
  bool count_include_pad;
  int64_t divisor_override;  // 0: none
};

// PyTorch's output size; may be <= 0 for a window larger than the padded input.
int64_t pool_output_size(int64_t in, int64_t kernel, int64_t stride, int64_t padding, int64_t dilation,
                         bool ceil_mode);

// Checks the geometry (see the file comment) and fills g.out. `op` names the caller in messages.
// Throws Error(kArgument) for a bad kernel, stride, dilation or padding and Error(kShape) when the
// output would be empty or a plane does not fit int32 indices.
void make_pool_geometry(PoolGeometry& g, const char* op);

// Throws Error(kArgument) for a negative divisor override or dilation != 1.
void check_avg_pool(const PoolGeometry& g, const AvgPoolOptions& opts);

size_t pool_in_plane(const PoolGeometry& g);   // D * H * W
size_t pool_out_plane(const PoolGeometry& g);  // OD * OH * OW

// y: planes x out-plane; indices (nullable: not computed) int32, same size as y.
void max_pool_forward(const PoolGeometry& g, const float* x, float* y, int32_t* indices);
void max_pool_forward_with(Isa isa, int threads, const PoolGeometry& g, const float* x, float* y, int32_t* indices);
void max_pool_forward_ref(const PoolGeometry& g, const float* x, float* y, int32_t* indices);

// gx (planes x in_plane) = scatter-add of gy (planes x out_plane) through indices. Throws
// Error(kArgument) when an index lies outside [0, in_plane) (gx is then unspecified). Used for
// max pooling and adaptive max pooling.
void index_pool_backward(size_t planes, size_t in_plane, size_t out_plane, const float* gy, const int32_t* indices,
                         float* gx);
void index_pool_backward_with(int threads, size_t planes, size_t in_plane, size_t out_plane, const float* gy,
                              const int32_t* indices, float* gx);
void index_pool_backward_ref(size_t planes, size_t in_plane, size_t out_plane, const float* gy,
                             const int32_t* indices, float* gx);

void avg_pool_forward(const PoolGeometry& g, const AvgPoolOptions& opts, const float* x, float* y);
void avg_pool_forward_with(Isa isa, int threads, const PoolGeometry& g, const AvgPoolOptions& opts, const float* x,
                           float* y);
void avg_pool_forward_ref(const PoolGeometry& g, const AvgPoolOptions& opts, const float* x, float* y);

// gx is fully written (no need to zero it).
void avg_pool_backward(const PoolGeometry& g, const AvgPoolOptions& opts, const float* gy, float* gx);
void avg_pool_backward_with(Isa isa, int threads, const PoolGeometry& g, const AvgPoolOptions& opts,
                            const float* gy, float* gx);
void avg_pool_backward_ref(const PoolGeometry& g, const AvgPoolOptions& opts, const float* gy, float* gx);

struct AdaptivePoolGeometry {
  size_t planes;
  size_t in[3];
  size_t out[3];
};

// Throws Error(kShape) for a zero input or output size.
void check_adaptive_pool(const AdaptivePoolGeometry& g, const char* op);

// One implementation (obviously right, OpenMP over planes): these are their own reference.
void adaptive_avg_pool_forward(const AdaptivePoolGeometry& g, const float* x, float* y);
void adaptive_avg_pool_backward(const AdaptivePoolGeometry& g, const float* gy, float* gx);
// indices nullable; backward: index_pool_backward.
void adaptive_max_pool_forward(const AdaptivePoolGeometry& g, const float* x, float* y, int32_t* indices);

// Name of the path a given ISA uses, e.g. "pool_separable__avx512".
const char* pool_kernel_name(Isa isa);

// Internal: the per-plane loops each instruction-set file provides (pool_impl.inc).
struct PoolPlaneKernels {
  const char* name;
  size_t (*scratch_bytes)(const PoolGeometry& g);
  void (*max_plane)(const PoolGeometry& g, const float* x, float* y, int32_t* indices, void* scratch);
  void (*avg_plane)(const PoolGeometry& g, const AvgPoolOptions& opts, const float* x, float* y, void* scratch);
  void (*avg_plane_backward)(const PoolGeometry& g, const AvgPoolOptions& opts, const float* gy, float* gx,
                             void* scratch);
};

const PoolPlaneKernels& pool_kernels_scalar();
#if defined(CONVKIT_HAVE_X86_KERNELS)
const PoolPlaneKernels& pool_kernels_avx2();
const PoolPlaneKernels& pool_kernels_avx512();
#endif

}  // namespace convkit
