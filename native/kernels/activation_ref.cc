// Reference activations: each formula of activation.h in double precision with libm, rounded once.
// Written to be obviously right; every vectorised path is tested against it, and it is tested
// against PyTorch through the golden fixtures.
#include <cmath>
#include <cstddef>

#include "kernels/activation.h"

namespace convkit {
namespace {

constexpr double kPi = 3.14159265358979323846;

double normal_cdf(double x) { return 0.5 * (1.0 + std::erf(x / std::sqrt(2.0))); }

double forward_one(ActKind kind, double slope, double x) {
  switch (kind) {
    case ActKind::kRelu: return x < 0.0 ? 0.0 : x;
    case ActKind::kLeakyRelu: return x > 0.0 ? x : x * slope;
    case ActKind::kRelu6: return x <= 0.0 ? 0.0 : (x >= 6.0 ? 6.0 : x);
    case ActKind::kSigmoid: return 1.0 / (1.0 + std::exp(-x));
    case ActKind::kTanh: return std::tanh(x);
    case ActKind::kGelu: return x * normal_cdf(x);
    case ActKind::kGeluTanh: {
      const double u = std::sqrt(2.0 / kPi) * (x + 0.044715 * x * x * x);
      return 0.5 * x * (1.0 + std::tanh(u));
    }
  }
  return x;
}

// s is the input x, or the output y for sigmoid and tanh (activation_backward_uses_output).
double backward_one(ActKind kind, double slope, double s, double dy) {
  switch (kind) {
    case ActKind::kRelu: return s <= 0.0 ? 0.0 : dy;
    case ActKind::kLeakyRelu: return s > 0.0 ? dy : dy * slope;
    case ActKind::kRelu6: return s <= 0.0 || s >= 6.0 ? 0.0 : dy;
    case ActKind::kSigmoid: return dy * (1.0 - s) * s;
    case ActKind::kTanh: return dy * (1.0 - s * s);
    case ActKind::kGelu: return dy * (normal_cdf(s) + s * std::exp(-0.5 * s * s) / std::sqrt(2.0 * kPi));
    case ActKind::kGeluTanh: {
      const double k = std::sqrt(2.0 / kPi);
      const double t = std::tanh(k * (s + 0.044715 * s * s * s));
      return dy * (0.5 * (1.0 + t) + 0.5 * s * (1.0 - t * t) * k * (1.0 + 3.0 * 0.044715 * s * s));
    }
  }
  return dy;
}

}  // namespace

void activation_forward_ref(ActKind kind, float param, const float* x, float* y, size_t n) {
  for (size_t i = 0; i < n; ++i) y[i] = static_cast<float>(forward_one(kind, param, x[i]));
}

void activation_backward_ref(ActKind kind, float param, const float* saved, const float* dy, float* dx, size_t n) {
  for (size_t i = 0; i < n; ++i) dx[i] = static_cast<float>(backward_one(kind, param, saved[i], dy[i]));
}

}  // namespace convkit
