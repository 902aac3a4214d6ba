// Reference losses: the definitions of loss.h evaluated in double precision, one position at a
// time, with no fusion and no threads. Obviously right, not fast; every path is tested against it.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "kernels/loss.h"

namespace convkit {
namespace {

double weight_of(const ClassLossOptions& o, int64_t c) { return o.weight != nullptr ? o.weight[c] : 1.0; }

// log sum_c exp(x[b, c, j]), with the max subtracted.
double lse_at(const ClassShape& s, const float* x, size_t b, size_t j) {
  double m = -INFINITY;
  for (size_t c = 0; c < s.classes; ++c) m = std::max(m, static_cast<double>(x[(b * s.classes + c) * s.inner + j]));
  double sum = 0.0;
  for (size_t c = 0; c < s.classes; ++c) sum += std::exp(x[(b * s.classes + c) * s.inner + j] - m);
  return m + std::log(sum);
}

double grad_at(const float* grad, float scale, size_t pos) {
  return grad != nullptr ? static_cast<double>(grad[pos]) * scale : static_cast<double>(scale);
}

// log(1 + exp(z)) without overflow.
double softplus(double z) { return std::log1p(std::exp(-std::fabs(z))) + std::max(z, 0.0); }

}  // namespace

LossSums cross_entropy_forward_ref(const ClassShape& s, const float* logits, const int32_t* target,
                                   const ClassLossOptions& opts, float* losses) {
  validate_class_loss("cross_entropy", s, target, opts);
  const double eps = opts.label_smoothing, C = static_cast<double>(s.classes);
  LossSums sums;
  for (size_t b = 0; b < s.batch; ++b) {
    for (size_t j = 0; j < s.inner; ++j) {
      const size_t pos = b * s.inner + j;
      const int64_t t = target[pos];
      double loss = 0.0;
      if (t != opts.ignore_index) {
        const double lse = lse_at(s, logits, b, j);
        auto nll = [&](size_t c) { return lse - logits[(b * s.classes + c) * s.inner + j]; };
        double smooth = 0.0;
        for (size_t c = 0; c < s.classes; ++c) smooth += weight_of(opts, static_cast<int64_t>(c)) * nll(c);
        loss = (1.0 - eps) * weight_of(opts, t) * nll(static_cast<size_t>(t)) + eps / C * smooth;
        sums.weight += weight_of(opts, t);
      }
      sums.total += loss;
      if (losses != nullptr) losses[pos] = static_cast<float>(loss);
    }
  }
  return sums;
}

void cross_entropy_backward_ref(const ClassShape& s, const float* logits, const int32_t* target,
                                const ClassLossOptions& opts, const float* grad, float scale, float* dlogits) {
  validate_class_loss("cross_entropy", s, target, opts);
  const double eps = opts.label_smoothing, C = static_cast<double>(s.classes);
  double wsum = 0.0;
  for (size_t c = 0; c < s.classes; ++c) wsum += weight_of(opts, static_cast<int64_t>(c));
  for (size_t b = 0; b < s.batch; ++b) {
    for (size_t j = 0; j < s.inner; ++j) {
      const size_t pos = b * s.inner + j;
      const int64_t t = target[pos];
      const double lse = lse_at(s, logits, b, j);
      const double g = grad_at(grad, scale, pos);
      for (size_t c = 0; c < s.classes; ++c) {
        const size_t i = (b * s.classes + c) * s.inner + j;
        double d = 0.0;
        if (t != opts.ignore_index) {
          const double p = std::exp(logits[i] - lse);
          const double wt = weight_of(opts, t);
          d = g * (1.0 - eps) * wt * (p - (static_cast<int64_t>(c) == t ? 1.0 : 0.0));
          if (eps > 0.0) d += g * eps / C * (wsum * p - weight_of(opts, static_cast<int64_t>(c)));
        }
        dlogits[i] = static_cast<float>(d);
      }
    }
  }
}

LossSums cross_entropy_prob_forward_ref(const ClassShape& s, const float* logits, const float* probs,
                                        const ClassLossOptions& opts, float* losses) {
  validate_class_loss("cross_entropy", s, nullptr, opts);
  const double eps = opts.label_smoothing, C = static_cast<double>(s.classes);
  LossSums sums;
  for (size_t b = 0; b < s.batch; ++b) {
    for (size_t j = 0; j < s.inner; ++j) {
      const double lse = lse_at(s, logits, b, j);
      double loss = 0.0;
      for (size_t c = 0; c < s.classes; ++c) {
        const size_t i = (b * s.classes + c) * s.inner + j;
        const double q = (1.0 - eps) * probs[i] + eps / C;
        loss += weight_of(opts, static_cast<int64_t>(c)) * q * (lse - logits[i]);
      }
      sums.total += loss;
      sums.weight += 1.0;
      if (losses != nullptr) losses[b * s.inner + j] = static_cast<float>(loss);
    }
  }
  return sums;
}

void cross_entropy_prob_backward_ref(const ClassShape& s, const float* logits, const float* probs,
                                     const ClassLossOptions& opts, const float* grad, float scale, float* dlogits,
                                     float* dprobs) {
  validate_class_loss("cross_entropy", s, nullptr, opts);
  const double eps = opts.label_smoothing, C = static_cast<double>(s.classes);
  for (size_t b = 0; b < s.batch; ++b) {
    for (size_t j = 0; j < s.inner; ++j) {
      const double lse = lse_at(s, logits, b, j);
      const double g = grad_at(grad, scale, b * s.inner + j);
      double total = 0.0;  // sum_c w_c q_c
      for (size_t c = 0; c < s.classes; ++c) {
        const size_t i = (b * s.classes + c) * s.inner + j;
        total += weight_of(opts, static_cast<int64_t>(c)) * ((1.0 - eps) * probs[i] + eps / C);
      }
      for (size_t c = 0; c < s.classes; ++c) {
        const size_t i = (b * s.classes + c) * s.inner + j;
        const double w = weight_of(opts, static_cast<int64_t>(c));
        const double q = (1.0 - eps) * probs[i] + eps / C;
        if (dlogits != nullptr) dlogits[i] = static_cast<float>(g * (std::exp(logits[i] - lse) * total - w * q));
        if (dprobs != nullptr) dprobs[i] = static_cast<float>(g * (1.0 - eps) * w * (lse - logits[i]));
      }
    }
  }
}

LossSums nll_loss_forward_ref(const ClassShape& s, const float* logp, const int32_t* target,
                              const ClassLossOptions& opts, float* losses) {
  validate_class_loss("nll_loss", s, target, opts);
  LossSums sums;
  for (size_t b = 0; b < s.batch; ++b) {
    for (size_t j = 0; j < s.inner; ++j) {
      const size_t pos = b * s.inner + j;
      const int64_t t = target[pos];
      double loss = 0.0;
      if (t != opts.ignore_index) {
        loss = -weight_of(opts, t) * logp[(b * s.classes + static_cast<size_t>(t)) * s.inner + j];
        sums.weight += weight_of(opts, t);
      }
      sums.total += loss;
      if (losses != nullptr) losses[pos] = static_cast<float>(loss);
    }
  }
  return sums;
}

void nll_loss_backward_ref(const ClassShape& s, const int32_t* target, const ClassLossOptions& opts,
                           const float* grad, float scale, float* dlogp) {
  validate_class_loss("nll_loss", s, target, opts);
  for (size_t b = 0; b < s.batch; ++b) {
    for (size_t c = 0; c < s.classes; ++c) {
      for (size_t j = 0; j < s.inner; ++j) {
        const size_t pos = b * s.inner + j;
        const int64_t t = target[pos];
        const bool hit = t != opts.ignore_index && static_cast<int64_t>(c) == t;
        dlogp[(b * s.classes + c) * s.inner + j] =
            hit ? static_cast<float>(-grad_at(grad, scale, pos) * weight_of(opts, t)) : 0.0f;
      }
    }
  }
}

LossSums pointwise_loss_forward_ref(PointwiseLoss kind, const PointwiseLossOptions& opts, const float* input,
                                    const float* target, size_t n, float* losses) {
  validate_pointwise_loss(kind, opts);
  LossSums sums;
  const double beta = opts.beta;
  for (size_t i = 0; i < n; ++i) {
    const double x = input[i], t = target[i], d = x - t;
    double loss = 0.0;
    switch (kind) {
      case PointwiseLoss::kMse: loss = d * d; break;
      case PointwiseLoss::kSmoothL1: {
        const double z = std::fabs(d);
        loss = z < beta ? 0.5 * z * z / beta : z - 0.5 * beta;
        break;
      }
      case PointwiseLoss::kBceWithLogits: {
        const double pw = opts.pos_weight != nullptr ? opts.pos_weight[i] : 1.0;
        const double w = opts.weight != nullptr ? opts.weight[i] : 1.0;
        loss = w * ((1.0 - t) * x + (1.0 + (pw - 1.0) * t) * softplus(-x));
        break;
      }
    }
    sums.total += loss;
    if (losses != nullptr) losses[i] = static_cast<float>(loss);
  }
  sums.weight = static_cast<double>(n);
  return sums;
}

void pointwise_loss_backward_ref(PointwiseLoss kind, const PointwiseLossOptions& opts, const float* input,
                                 const float* target, size_t n, const float* grad, float scale, float* dinput,
                                 float* dtarget) {
  validate_pointwise_loss(kind, opts);
  const double beta = opts.beta;
  for (size_t i = 0; i < n; ++i) {
    const double x = input[i], t = target[i], d = x - t, g = grad_at(grad, scale, i);
    double dx = 0.0, dt = 0.0;
    switch (kind) {
      case PointwiseLoss::kMse:
        dx = 2.0 * d * g;
        dt = -dx;
        break;
      case PointwiseLoss::kSmoothL1:
        dx = d <= -beta ? -g : (d >= beta ? g : d * g / beta);
        dt = -d <= -beta ? -g : (-d >= beta ? g : -d * g / beta);
        break;
      case PointwiseLoss::kBceWithLogits: {
        const double pw = opts.pos_weight != nullptr ? opts.pos_weight[i] : 1.0;
        const double w = opts.weight != nullptr ? opts.weight[i] : 1.0;
        const double sig = 1.0 / (1.0 + std::exp(-x));
        dx = g * w * ((pw * t + 1.0 - t) * sig - pw * t);
        dt = g * w * (pw * softplus(-x) - softplus(x));
        break;
      }
    }
    if (dinput != nullptr) dinput[i] = static_cast<float>(dx);
    if (dtarget != nullptr) dtarget[i] = static_cast<float>(dt);
  }
}

}  // namespace convkit
