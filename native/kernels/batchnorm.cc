// Batch-norm driver: argument checks, an OpenMP team over channels, and per channel the statistics
// and the normalisation back to back (a channel of 32 x 56 x 56 floats is 400 KB: it is read from
// memory once and re-read from L2), with the loops of the active instruction set.
#include <cmath>
#include <exception>
#include <mutex>
#include <string>

#include "kernels/batchnorm.h"
#include "runtime/error.h"
#include "runtime/threads.h"

#if defined(_OPENMP)
#include <omp.h>
#endif

namespace convkit {
namespace {

const BatchNormKernels& kernels_for(Isa isa) {
  switch (isa) {
#if defined(CONVKIT_HAVE_X86_KERNELS)
    case Isa::kAvx512: return batch_norm_kernels_avx512();
    case Isa::kAvx2: return batch_norm_kernels_avx2();
#endif
    default: return batch_norm_kernels_scalar();
  }
}

constexpr double kMinElementsPerThread = 32768.0;

int pick_threads(int requested, const BatchNormShape& sh) {
  const double elements = static_cast<double>(sh.n) * static_cast<double>(sh.c) * static_cast<double>(sh.s);
  int t = requested < 1 ? 1 : requested;
  if (static_cast<double>(t) > elements / kMinElementsPerThread) {
    t = elements < kMinElementsPerThread ? 1 : static_cast<int>(elements / kMinElementsPerThread);
  }
  if (sh.c < static_cast<size_t>(t)) t = sh.c == 0 ? 1 : static_cast<int>(sh.c);
  return t < 1 ? 1 : t;
}

// body(c) for every channel, channels split in contiguous ranges over the team; exceptions are
// rethrown on the caller after the join.
template <class Body>
void for_channels(int threads, size_t channels, const Body& body) {
#if defined(_OPENMP)
  if (threads > 1) {
    std::exception_ptr error;
    std::mutex mu;
#pragma omp parallel num_threads(threads)
    {
      const size_t tid = static_cast<size_t>(omp_get_thread_num());
      const size_t nth = static_cast<size_t>(omp_get_num_threads());
      try {
        for (size_t c = channels * tid / nth; c < channels * (tid + 1) / nth; ++c) body(c);
      } catch (...) {
        std::lock_guard<std::mutex> lock(mu);
        if (!error) error = std::current_exception();
      }
    }
    if (error) std::rethrow_exception(error);
    return;
  }
#else
  (void)threads;
#endif
  for (size_t c = 0; c < channels; ++c) body(c);
}

void check_train(const BatchNormShape& sh, const BatchNormTrainArgs& a) {
  check_batch_norm_args(a.eps, a.momentum);
  if (sh.n * sh.s <= 1) {
    throw Error(ErrorCode::kShape, "batch_norm: expected more than 1 value per channel when training, got " +
                                       std::to_string(sh.n * sh.s));
  }
  if ((a.running_mean == nullptr) != (a.running_var == nullptr)) {
    throw Error(ErrorCode::kArgument, "batch_norm: running_mean and running_var must both be given or both be null");
  }
}

}  // namespace

void check_batch_norm_args(double eps, double momentum) {
  if (!(eps >= 0.0) || !std::isfinite(eps)) {
    throw Error(ErrorCode::kArgument, "batch_norm: eps must be a finite number >= 0, got " + std::to_string(eps));
  }
  if (!std::isfinite(momentum)) {
    throw Error(ErrorCode::kArgument, "batch_norm: momentum must be finite, got " + std::to_string(momentum));
  }
}

const char* batch_norm_kernel_name(Isa isa) { return kernels_for(isa).name; }

void batch_norm_forward_train_with(Isa isa, int threads, const BatchNormShape& sh, const float* x,
                                   const BatchNormTrainArgs& a, float* y, float* save_mean, float* save_invstd) {
  check_train(sh, a);
  require_isa(isa);
  const BatchNormKernels& k = kernels_for(isa);
  const size_t stride = sh.c * sh.s;
  const double m = static_cast<double>(sh.n * sh.s);
  for_channels(pick_threads(threads, sh), sh.c, [&](size_t c) {
    const float* xc = x + c * sh.s;
    double s1 = 0.0, s2 = 0.0;
    const float shift = xc[0];
    k.sums(xc, sh.n, sh.s, stride, shift, &s1, &s2);
    const double mean = static_cast<double>(shift) + s1 / m;
    double var = (s2 - s1 * (s1 / m)) / m;
    if (!(var >= 0.0) && var == var) var = 0.0;  // rounding; NaN stays NaN
    const double invstd = 1.0 / std::sqrt(var + a.eps);
    save_mean[c] = static_cast<float>(mean);
    save_invstd[c] = static_cast<float>(invstd);
    if (a.running_mean != nullptr) {
      const double mo = a.momentum;
      a.running_mean[c] = static_cast<float>(mo * mean + (1.0 - mo) * static_cast<double>(a.running_mean[c]));
      a.running_var[c] =
          static_cast<float>(mo * var * m / (m - 1.0) + (1.0 - mo) * static_cast<double>(a.running_var[c]));
    }
    const double w = a.weight != nullptr ? static_cast<double>(a.weight[c]) : 1.0;
    const float b = a.bias != nullptr ? a.bias[c] : 0.0f;
    k.normalize(xc, y + c * sh.s, sh.n, sh.s, stride, static_cast<float>(mean), static_cast<float>(invstd * w), b);
  });
}

void batch_norm_forward_train(const BatchNormShape& sh, const float* x, const BatchNormTrainArgs& a, float* y,
                              float* save_mean, float* save_invstd) {
  batch_norm_forward_train_with(active_isa(), num_threads(), sh, x, a, y, save_mean, save_invstd);
}

void batch_norm_forward_eval_with(Isa isa, int threads, const BatchNormShape& sh, const float* x, const float* weight,
                                  const float* bias, const float* running_mean, const float* running_var, double eps,
                                  float* y, float* save_mean, float* save_invstd) {
  check_batch_norm_args(eps, 0.0);
  require_isa(isa);
  const BatchNormKernels& k = kernels_for(isa);
  const size_t stride = sh.c * sh.s;
  for_channels(pick_threads(threads, sh), sh.c, [&](size_t c) {
    const double invstd = 1.0 / std::sqrt(static_cast<double>(running_var[c]) + eps);
    const double w = weight != nullptr ? static_cast<double>(weight[c]) : 1.0;
    const float b = bias != nullptr ? bias[c] : 0.0f;
    if (save_mean != nullptr) save_mean[c] = running_mean[c];
    if (save_invstd != nullptr) save_invstd[c] = static_cast<float>(invstd);
    k.normalize(x + c * sh.s, y + c * sh.s, sh.n, sh.s, stride, running_mean[c], static_cast<float>(invstd * w), b);
  });
}

void batch_norm_forward_eval(const BatchNormShape& sh, const float* x, const float* weight, const float* bias,
                             const float* running_mean, const float* running_var, double eps, float* y,
                             float* save_mean, float* save_invstd) {
  batch_norm_forward_eval_with(active_isa(), num_threads(), sh, x, weight, bias, running_mean, running_var, eps, y,
                               save_mean, save_invstd);
}

void batch_norm_backward_with(Isa isa, int threads, const BatchNormShape& sh, const float* x, const float* gy,
                              const float* weight, const float* mean, const float* invstd, bool training, float* gx,
                              float* gweight, float* gbias) {
  require_isa(isa);
  const BatchNormKernels& k = kernels_for(isa);
  const size_t stride = sh.c * sh.s;
  const double m = static_cast<double>(sh.n * sh.s);
  for_channels(pick_threads(threads, sh), sh.c, [&](size_t c) {
    const float* xc = x + c * sh.s;
    const float* gc = gy + c * sh.s;
    const double is = static_cast<double>(invstd[c]);
    const double w = weight != nullptr ? static_cast<double>(weight[c]) : 1.0;
    double sgy = 0.0, sgyx = 0.0;
    if (training || gweight != nullptr || gbias != nullptr) k.grad_sums(xc, gc, sh.n, sh.s, stride, mean[c], &sgy, &sgyx);
    if (gbias != nullptr) gbias[c] = static_cast<float>(sgy);
    if (gweight != nullptr) gweight[c] = static_cast<float>(sgyx * is);
    if (gx == nullptr) return;
    // gx = gy * a + (x - mean) * b + c0
    const double a = w * is;
    double b = 0.0, c0 = 0.0;
    if (training && m > 0.0) {
      b = -a * is * is * sgyx / m;
      c0 = -a * sgy / m;
    }
    k.grad_input(xc, gc, gx + c * sh.s, sh.n, sh.s, stride, mean[c], static_cast<float>(a), static_cast<float>(b),
                 static_cast<float>(c0));
  });
}

void batch_norm_backward(const BatchNormShape& sh, const float* x, const float* gy, const float* weight,
                         const float* mean, const float* invstd, bool training, float* gx, float* gweight,
                         float* gbias) {
  batch_norm_backward_with(active_isa(), num_threads(), sh, x, gy, weight, mean, invstd, training, gx, gweight, gbias);
}

}  // namespace convkit
