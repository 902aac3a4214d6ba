// Batch normalisation over x = [N, C, S] contiguous (S = product of the spatial dims; 1 for [N, C]),
// per channel c over its M = N * S values, PyTorch semantics (torch.nn.functional.batch_norm).
//
// Training forward:
//   mean = sum x / M, var = sum (x - mean)^2 / M (biased), invstd = 1 / sqrt(var + eps)
//   y = (x - mean) * (invstd * w) + b                       (w = 1, b = 0 when null)
//   save_mean[c] = mean, save_invstd[c] = invstd            (for the backward)
//   running_mean = (1 - momentum) running_mean + momentum mean                 (when non-null)
//   running_var  = (1 - momentum) running_var  + momentum var * M / (M - 1)    (unbiased, as PyTorch)
// Statistics are computed in one pass of shifted sums accumulated in double: with K the channel's
// first value, s1 = sum (x - K), s2 = sum (x - K)^2, mean = K + s1 / M, var = (s2 - s1^2 / M) / M.
// The shift keeps the subtraction well conditioned when |mean| >> std, and double accumulation keeps
// the rounding error of the sums near 1e-16 relative; var is clamped at 0. The normalisation
// subtracts the mean before scaling (not x * a + (b - mean * a)), so outputs stay accurate when
// |mean| >> std. M must be > 1 (Error(kShape) otherwise, as PyTorch).
//
// Inference forward: the same with mean = running_mean, invstd = 1 / sqrt(running_var + eps); the
// running stats are not changed. save_mean / save_invstd (nullable) receive them for the backward.
//
// Backward (training = true: the batch statistics depend on x):
//   gbias[c] = sum gy,  gweight[c] = sum gy * (x - mean) * invstd
//   gx = w * invstd * (gy - sum gy / M - (x - mean) * invstd^2 * sum gy (x - mean) / M)
// and with training = false (fixed statistics): gx = gy * w * invstd. gx, gweight and gbias are
// each nullable (not computed). Sums accumulate in double.
//
// The optimised path processes one channel at a time (statistics, then normalisation, while the
// channel is still in cache), an OpenMP team over channels, loops per instruction set in
// batchnorm_impl.inc.
#pragma once

#include <cstddef>

#include "runtime/isa.h"

namespace convkit {

struct BatchNormShape {
  size_t n, c, s;
};

struct BatchNormTrainArgs {
  const float* weight;   // nullable
  const float* bias;     // nullable
  float* running_mean;   // nullable (then running_var must be null too)
  float* running_var;    // nullable
  double eps;
  double momentum;
};

// Throws Error(kArgument) for a negative or non-finite eps or a non-finite momentum.
void check_batch_norm_args(double eps, double momentum);

void batch_norm_forward_train(const BatchNormShape& shape, const float* x, const BatchNormTrainArgs& args, float* y,
                              float* save_mean, float* save_invstd);
void batch_norm_forward_train_with(Isa isa, int threads, const BatchNormShape& shape, const float* x,
                                   const BatchNormTrainArgs& args, float* y, float* save_mean, float* save_invstd);
void batch_norm_forward_train_ref(const BatchNormShape& shape, const float* x, const BatchNormTrainArgs& args,
                                  float* y, float* save_mean, float* save_invstd);

// weight, bias, save_mean, save_invstd nullable.
void batch_norm_forward_eval(const BatchNormShape& shape, const float* x, const float* weight, const float* bias,
                             const float* running_mean, const float* running_var, double eps, float* y,
                             float* save_mean, float* save_invstd);
void batch_norm_forward_eval_with(Isa isa, int threads, const BatchNormShape& shape, const float* x,
                                  const float* weight, const float* bias, const float* running_mean,
                                  const float* running_var, double eps, float* y, float* save_mean,
                                  float* save_invstd);
void batch_norm_forward_eval_ref(const BatchNormShape& shape, const float* x, const float* weight, const float* bias,
                                 const float* running_mean, const float* running_var, double eps, float* y,
                                 float* save_mean, float* save_invstd);

// mean / invstd: what the forward saved. weight nullable (1); gx, gweight, gbias nullable.
void batch_norm_backward(const BatchNormShape& shape, const float* x, const float* gy, const float* weight,
                         const float* mean, const float* invstd, bool training, float* gx, float* gweight,
                         float* gbias);
void batch_norm_backward_with(Isa isa, int threads, const BatchNormShape& shape, const float* x, const float* gy,
                              const float* weight, const float* mean, const float* invstd, bool training, float* gx,
                              float* gweight, float* gbias);
void batch_norm_backward_ref(const BatchNormShape& shape, const float* x, const float* gy, const float* weight,
                             const float* mean, const float* invstd, bool training, float* gx, float* gweight,
                             float* gbias);

const char* batch_norm_kernel_name(Isa isa);

// Internal: the per-channel loops of one instruction set (batchnorm_impl.inc). A channel is n runs
// of s contiguous values, `stride` apart.
struct BatchNormKernels {
  const char* name;
  // s1 = sum (x - shift), s2 = sum (x - shift)^2, in double.
  void (*sums)(const float* x, size_t n, size_t s, size_t stride, float shift, double* s1, double* s2);
  // y = (x - mean) * alpha + beta
  void (*normalize)(const float* x, float* y, size_t n, size_t s, size_t stride, float mean, float alpha, float beta);
  // sgy = sum gy, sgyx = sum gy * (x - mean), in double.
  void (*grad_sums)(const float* x, const float* gy, size_t n, size_t s, size_t stride, float mean, double* sgy,
                    double* sgyx);
  // gx = gy * a + (x - mean) * b + c
  void (*grad_input)(const float* x, const float* gy, float* gx, size_t n, size_t s, size_t stride, float mean,
                     float a, float b, float c);
};

const BatchNormKernels& batch_norm_kernels_scalar();
#if defined(CONVKIT_HAVE_X86_KERNELS)
const BatchNormKernels& batch_norm_kernels_avx2();
const BatchNormKernels& batch_norm_kernels_avx512();
#endif

}  // namespace convkit
