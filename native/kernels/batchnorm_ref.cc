// The reference batch norm: two passes in double per channel (mean, then the sum of squared
// deviations), the textbook formulas of batchnorm.h, written to be obviously right. The optimised
// paths are tested against it; it is tested against PyTorch through the golden fixtures.
#include <cmath>

#include "kernels/batchnorm.h"
#include "runtime/error.h"

namespace convkit {

void batch_norm_forward_train_ref(const BatchNormShape& sh, const float* x, const BatchNormTrainArgs& a, float* y,
                                  float* save_mean, float* save_invstd) {
  check_batch_norm_args(a.eps, a.momentum);
  if (sh.n * sh.s <= 1) throw Error(ErrorCode::kShape, "batch_norm_forward_train_ref: need more than 1 value per channel");
  const double m = static_cast<double>(sh.n * sh.s);
  for (size_t c = 0; c < sh.c; ++c) {
    double sum = 0.0;
    for (size_t i = 0; i < sh.n; ++i)
      for (size_t j = 0; j < sh.s; ++j) sum += x[(i * sh.c + c) * sh.s + j];
    const double mean = sum / m;
    double sq = 0.0;
    for (size_t i = 0; i < sh.n; ++i)
      for (size_t j = 0; j < sh.s; ++j) {
        const double d = x[(i * sh.c + c) * sh.s + j] - mean;
        sq += d * d;
      }
    const double var = sq / m;
    const double invstd = 1.0 / std::sqrt(var + a.eps);
    save_mean[c] = static_cast<float>(mean);
    save_invstd[c] = static_cast<float>(invstd);
    if (a.running_mean != nullptr) {
      a.running_mean[c] = static_cast<float>(a.momentum * mean + (1.0 - a.momentum) * a.running_mean[c]);
      a.running_var[c] = static_cast<float>(a.momentum * var * m / (m - 1.0) + (1.0 - a.momentum) * a.running_var[c]);
    }
    const double w = a.weight != nullptr ? a.weight[c] : 1.0;
    const double b = a.bias != nullptr ? a.bias[c] : 0.0;
    for (size_t i = 0; i < sh.n; ++i)
      for (size_t j = 0; j < sh.s; ++j) {
        const size_t at = (i * sh.c + c) * sh.s + j;
        y[at] = static_cast<float>((x[at] - mean) * invstd * w + b);
      }
  }
}

void batch_norm_forward_eval_ref(const BatchNormShape& sh, const float* x, const float* weight, const float* bias,
                                 const float* running_mean, const float* running_var, double eps, float* y,
                                 float* save_mean, float* save_invstd) {
  check_batch_norm_args(eps, 0.0);
  for (size_t c = 0; c < sh.c; ++c) {
    const double invstd = 1.0 / std::sqrt(static_cast<double>(running_var[c]) + eps);
    const double w = weight != nullptr ? weight[c] : 1.0;
    const double b = bias != nullptr ? bias[c] : 0.0;
    if (save_mean != nullptr) save_mean[c] = running_mean[c];
    if (save_invstd != nullptr) save_invstd[c] = static_cast<float>(invstd);
    for (size_t i = 0; i < sh.n; ++i)
      for (size_t j = 0; j < sh.s; ++j) {
        const size_t at = (i * sh.c + c) * sh.s + j;
        y[at] = static_cast<float>((x[at] - static_cast<double>(running_mean[c])) * invstd * w + b);
      }
  }
}

void batch_norm_backward_ref(const BatchNormShape& sh, const float* x, const float* gy, const float* weight,
                             const float* mean, const float* invstd, bool training, float* gx, float* gweight,
                             float* gbias) {
  const double m = static_cast<double>(sh.n * sh.s);
  for (size_t c = 0; c < sh.c; ++c) {
    const double mu = mean[c], is = invstd[c], w = weight != nullptr ? weight[c] : 1.0;
    double sgy = 0.0, sgyxhat = 0.0;
    for (size_t i = 0; i < sh.n; ++i)
      for (size_t j = 0; j < sh.s; ++j) {
        const size_t at = (i * sh.c + c) * sh.s + j;
        sgy += gy[at];
        sgyxhat += gy[at] * (x[at] - mu) * is;
      }
    if (gbias != nullptr) gbias[c] = static_cast<float>(sgy);
    if (gweight != nullptr) gweight[c] = static_cast<float>(sgyxhat);
    if (gx == nullptr) continue;
    for (size_t i = 0; i < sh.n; ++i)
      for (size_t j = 0; j < sh.s; ++j) {
        const size_t at = (i * sh.c + c) * sh.s + j;
        double g = gy[at];
        if (training) g = g - sgy / m - (x[at] - mu) * is * sgyxhat / m;
        gx[at] = static_cast<float>(w * is * g);
      }
  }
}

}  // namespace convkit
