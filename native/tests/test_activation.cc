// The activation family: the vectorised math against double-precision libm, every path (scalar,
// AVX2, AVX-512 where the CPU has them) of the activations, softmax and losses against the
// double-precision references on awkward sizes (0, 1, 7, 17, 63, 65, ...), at 1 and 2 threads with
// the parallel threshold off (so small shapes cross thread boundaries), special values (NaN, +-inf,
// +-0, +-30, +-100, subnormals), and the argument errors.
//
// Tolerances (per element, |got - ref| <= atol + rtol |ref|): a few ulp of the values involved; the
// measured worst cases use at most 40% of each bound:
//   relu, leaky relu, relu6 (forward and backward): exact
//   sigmoid, tanh: atol 1e-7, rtol 4e-7 (2-3 ulp); their backward: atol 1e-7, rtol 1e-6
//   gelu (erf), gelu (tanh): atol 2e-7, rtol 1e-5 (the relative part only matters in the far
//   negative tail, where gelu(x) < 1e-20); their backward: atol 4e-7, rtol 1e-5
//   softmax: atol 1e-7, rtol 2e-6; log-softmax: atol 4e-6 (a few ulp of |x| <= 100, the range
//   tested), rtol 2e-6; backward: atol 2e-6, rtol 2e-5 (float32 sums of up to 130 terms)
//   losses: rtol 2e-6 of the loss scale (see check_close_scaled)
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "kernels/activation.h"
#include "kernels/activation_kernels.h"
#include "kernels/activation_math.inc"
#include "kernels/loss.h"
#include "kernels/softmax.h"
#include "runtime/error.h"
#include "runtime/isa.h"
#include "tests/harness.h"

namespace convkit::test {
namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kInfF = std::numeric_limits<float>::infinity();

std::vector<Isa> supported_isas() {
  std::vector<Isa> isas;
  for (Isa isa : {Isa::kScalar, Isa::kAvx2, Isa::kAvx512}) {
    if (isa_supported(isa)) isas.push_back(isa);
  }
  return isas;
}

struct ThresholdGuard {
  ThresholdGuard() { activation_set_parallel_threshold_for_testing(0); }
  ~ThresholdGuard() { activation_reset_tuning_for_testing(); }
};

struct Tol {
  double atol, rtol;
};

bool same_or_close(float got, float ref, Tol tol) {
  if (std::isnan(ref) || std::isnan(got)) return std::isnan(ref) && std::isnan(got);
  if (std::isinf(ref) || std::isinf(got)) return got == ref;
  return std::fabs(static_cast<double>(got) - ref) <= tol.atol + tol.rtol * std::fabs(static_cast<double>(ref));
}

// Checks every element; reports the first few mismatches with their index and input.
bool check_arrays(Context& ck_ctx, const std::vector<float>& got, const std::vector<float>& ref, Tol tol,
                  const std::string& what, const std::vector<float>* input = nullptr) {
  int bad = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    if (!same_or_close(got[i], ref[i], tol)) {
      CK_CHECK(false, what << " [" << i << "] got " << got[i] << " want " << ref[i]
                           << (input != nullptr ? " at x = " + std::to_string((*input)[i]) : std::string()));
      if (++bad >= 3) break;
    }
  }
  return bad == 0;
}

std::string isa_str(Isa isa, int threads) { return std::string(isa_name(isa)) + "/t" + std::to_string(threads); }

// ---------------------------------------------------------------------------------------------
// The math functions (baseline compilation) against libm.

struct MathCase {
  const char* name;
  float (*fn)(float);
  double (*ref)(double);
  float lo, hi;
  double max_ulp;  // ulps of the float32 reference
  double atol;     // or this absolute error
};

double ulp_of(float v) {
  const float a = std::fabs(v);
  return static_cast<double>(std::nextafter(a, kInfF)) - a;
}

double ref_erfc(double a) { return std::erfc(a); }
double ref_cdf(double x) { return 0.5 * std::erfc(-x / std::sqrt(2.0)); }

}  // namespace

CK_TEST(activation_math_accuracy_against_libm) {
  const MathCase cases[] = {
      {"exp", [](float x) { return ck_exp(x); }, [](double x) { return std::exp(x); }, -87.3f, 88.7f, 1.0, 0.0},
      {"exp_subnormal", [](float x) { return ck_exp(x); }, [](double x) { return std::exp(x); }, -103.0f, -87.4f, 0.0,
       2e-45},
      {"log", [](float x) { return ck_log(x); }, [](double x) { return std::log(x); }, 1e-30f, 100.0f, 1.0, 0.0},
      {"log_near_1", [](float x) { return ck_log(x); }, [](double x) { return std::log(x); }, 0.5f, 2.0f, 1.0, 0.0},
      {"tanh", [](float x) { return ck_tanh(x); }, [](double x) { return std::tanh(x); }, -12.0f, 12.0f, 2.0, 0.0},
      {"erf", [](float x) { return ck_erf(x); }, [](double x) { return std::erf(x); }, -6.0f, 6.0f, 4.0, 0.0},
      {"erfc", [](float x) { return ck_erfc_pos(x); }, ref_erfc, 0.0f, 4.0f, 0.0, 0.0},
      {"normal_cdf", [](float x) { return ck_normal_cdf(x); }, ref_cdf, -12.0f, 8.0f, 0.0, 0.0},
      {"log1p", [](float x) { return ck_log1p_pos(x); }, [](double x) { return std::log1p(x); }, 0.0f, 3.0f, 3.0,
       0.0},
  };
  constexpr size_t kPoints = 200001;
  for (const MathCase& c : cases) {
    double worst = 0.0;
    float worst_x = 0.0f;
    for (size_t i = 0; i < kPoints; ++i) {
      const float x = static_cast<float>(c.lo + (static_cast<double>(c.hi) - c.lo) * i / (kPoints - 1));
      const double ref = c.ref(x);
      const double err = std::fabs(static_cast<double>(c.fn(x)) - ref);
      double allowed;
      if (std::strcmp(c.name, "erfc") == 0) {
        allowed = 2e-6 * ref;  // relative, see activation_math.inc
      } else if (std::strcmp(c.name, "normal_cdf") == 0) {
        allowed = 1e-5 * ref + 1e-7;
      } else {
        allowed = c.max_ulp * ulp_of(static_cast<float>(ref)) + c.atol;
      }
      if (err / allowed > worst) {
        worst = err / allowed;
        worst_x = x;
      }
    }
    CK_CHECK(worst <= 1.0, c.name << ": error " << worst << " x the bound at x = " << worst_x);
  }
  // Special values.
  CK_CHECK(std::isnan(ck_exp(kNaN)) && std::isnan(ck_log(kNaN)) && std::isnan(ck_tanh(kNaN)) &&
               std::isnan(ck_erf(kNaN)) && std::isnan(ck_normal_cdf(kNaN)) && std::isnan(ck_sigmoid(kNaN)),
           "NaN must give NaN");
  CK_CHECK(ck_exp(kInfF) == kInfF && ck_exp(-kInfF) == 0.0f && ck_exp(89.0f) == kInfF && ck_exp(-104.0f) == 0.0f,
           "exp limits");
  CK_CHECK(ck_log(0.0f) == -kInfF && std::isnan(ck_log(-1.0f)) && ck_log(kInfF) == kInfF, "log limits");
  CK_CHECK(ck_tanh(kInfF) == 1.0f && ck_tanh(-kInfF) == -1.0f && ck_erf(kInfF) == 1.0f && ck_erf(-kInfF) == -1.0f,
           "tanh / erf limits");
  CK_CHECK(ck_normal_cdf(-kInfF) == 0.0f && ck_normal_cdf(kInfF) == 1.0f, "normal_cdf limits");
  CK_CHECK(ck_sigmoid(-kInfF) == 0.0f && ck_sigmoid(kInfF) == 1.0f && ck_sigmoid(0.0f) == 0.5f, "sigmoid limits");
  CK_CHECK(ck_log1p_pos(1e-30f) == 1e-30f, "log1p of a tiny value");
}

namespace {

// Inputs: random values in [-scale, scale] with special values sprinkled in.
std::vector<float> make_input(size_t n, float scale, uint64_t seed, bool specials = true) {
  Rng rng(seed);
  std::vector<float> x(n);
  for (size_t i = 0; i < n; ++i) x[i] = rng.uniform() * scale;
  if (specials) {
    const float sp[] = {kNaN, kInfF, -kInfF, 0.0f, -0.0f, 30.0f, -30.0f, 100.0f, -100.0f, 1e-40f, -1e-40f, 6.0f, 88.0f,
                        -88.0f};
    for (size_t i = 0; i < n; i += 7) x[i] = sp[(i / 7) % (sizeof sp / sizeof sp[0])];
  }
  return x;
}

Tol forward_tol(ActKind k) {
  switch (k) {
    case ActKind::kRelu:
    case ActKind::kLeakyRelu:
    case ActKind::kRelu6: return {0.0, 0.0};
    case ActKind::kSigmoid:
    case ActKind::kTanh: return {1e-7, 4e-7};
    default: return {2e-7, 1e-5};
  }
}

Tol backward_tol(ActKind k) {
  switch (k) {
    case ActKind::kRelu:
    case ActKind::kLeakyRelu:
    case ActKind::kRelu6: return {0.0, 0.0};
    case ActKind::kSigmoid:
    case ActKind::kTanh: return {1e-7, 1e-6};
    default: return {4e-7, 1e-5};
  }
}

constexpr ActKind kAllKinds[] = {ActKind::kRelu,    ActKind::kLeakyRelu, ActKind::kRelu6,   ActKind::kSigmoid,
                                 ActKind::kTanh,    ActKind::kGelu,      ActKind::kGeluTanh};

}  // namespace

CK_TEST(activation_paths_match_reference_on_awkward_sizes) {
  ThresholdGuard guard;
  const size_t sizes[] = {0, 1, 7, 17, 63, 65, 1000, 4099};
  for (ActKind kind : kAllKinds) {
    const float param = kind == ActKind::kLeakyRelu ? 0.2f : 0.0f;
    for (size_t n : sizes) {
      const std::vector<float> x = make_input(n, 8.0f, 100 + n);
      const std::vector<float> dy = make_input(n, 1.0f, 200 + n, false);
      std::vector<float> y_ref(n), dx_ref(n);
      activation_forward_ref(kind, param, x.data(), y_ref.data(), n);
      const std::vector<float>& saved = activation_backward_uses_output(kind) ? y_ref : x;
      activation_backward_ref(kind, param, saved.data(), dy.data(), dx_ref.data(), n);
      for (Isa isa : supported_isas()) {
        for (int threads : {1, 2}) {
          std::vector<float> y(n, -7.0f), dx(n, -7.0f);
          activation_forward_with(isa, threads, kind, param, x.data(), y.data(), n);
          activation_backward_with(isa, threads, kind, param, saved.data(), dy.data(), dx.data(), n);
          const std::string what = std::string(activation_name(kind)) + " n=" + std::to_string(n) + " " +
                                   isa_str(isa, threads);
          if (!check_arrays(ck_ctx, y, y_ref, forward_tol(kind), what + " forward", &x)) return;
          if (!check_arrays(ck_ctx, dx, dx_ref, backward_tol(kind), what + " backward", &x)) return;
        }
      }
    }
  }
}

CK_TEST(activation_dense_sweep_every_path) {
  // Every float step of 2^-10 over [-20, 20] (and the tails of gelu out to -40): the smooth
  // activations where the polynomial pieces meet.
  std::vector<float> x;
  for (double v = -40.0; v <= 20.0; v += 1.0 / 1024) x.push_back(static_cast<float>(v));
  const std::vector<float> dy(x.size(), 1.0f);
  for (ActKind kind : {ActKind::kSigmoid, ActKind::kTanh, ActKind::kGelu, ActKind::kGeluTanh}) {
    std::vector<float> y_ref(x.size()), dx_ref(x.size());
    activation_forward_ref(kind, 0.0f, x.data(), y_ref.data(), x.size());
    const std::vector<float>& saved = activation_backward_uses_output(kind) ? y_ref : x;
    activation_backward_ref(kind, 0.0f, saved.data(), dy.data(), dx_ref.data(), x.size());
    for (Isa isa : supported_isas()) {
      std::vector<float> y(x.size()), dx(x.size());
      activation_forward_with(isa, 1, kind, 0.0f, x.data(), y.data(), x.size());
      activation_backward_with(isa, 1, kind, 0.0f, saved.data(), dy.data(), dx.data(), x.size());
      const std::string what = std::string(activation_name(kind)) + " sweep " + isa_name(isa);
      check_arrays(ck_ctx, y, y_ref, forward_tol(kind), what + " forward", &x);
      check_arrays(ck_ctx, dx, dx_ref, backward_tol(kind), what + " backward", &x);
    }
  }
}

CK_TEST(activation_nan_and_kinks_follow_pytorch) {
  // PyTorch 1.13: relu(NaN) = NaN and relu'(NaN) = 1; leaky'(NaN) = slope; relu6'(NaN) = 1;
  // relu'(0) = relu6'(0) = relu6'(6) = 0; gelu(-inf) = NaN (-inf * 0), gelu(inf) = inf.
  const std::vector<float> x = {kNaN, 0.0f, -0.0f, 6.0f, -kInfF, kInfF};
  const std::vector<float> ones(x.size(), 1.0f);
  for (Isa isa : supported_isas()) {
    std::vector<float> y(x.size()), dx(x.size());
    activation_forward_with(isa, 1, ActKind::kRelu, 0.0f, x.data(), y.data(), x.size());
    CK_CHECK(std::isnan(y[0]) && y[1] == 0.0f && y[4] == 0.0f && y[5] == kInfF, isa_name(isa) << " relu");
    activation_backward_with(isa, 1, ActKind::kRelu, 0.0f, x.data(), ones.data(), dx.data(), x.size());
    CK_CHECK(dx[0] == 1.0f && dx[1] == 0.0f && dx[2] == 0.0f && dx[3] == 1.0f, isa_name(isa) << " relu'");
    activation_backward_with(isa, 1, ActKind::kLeakyRelu, 0.01f, x.data(), ones.data(), dx.data(), x.size());
    CK_CHECK(dx[0] == 0.01f && dx[1] == 0.01f && dx[3] == 1.0f, isa_name(isa) << " leaky'");
    activation_forward_with(isa, 1, ActKind::kRelu6, 0.0f, x.data(), y.data(), x.size());
    CK_CHECK(std::isnan(y[0]) && y[3] == 6.0f && y[4] == 0.0f && y[5] == 6.0f, isa_name(isa) << " relu6");
    activation_backward_with(isa, 1, ActKind::kRelu6, 0.0f, x.data(), ones.data(), dx.data(), x.size());
    CK_CHECK(dx[0] == 1.0f && dx[1] == 0.0f && dx[3] == 0.0f && dx[5] == 0.0f, isa_name(isa) << " relu6'");
    activation_forward_with(isa, 1, ActKind::kGelu, 0.0f, x.data(), y.data(), x.size());
    CK_CHECK(std::isnan(y[0]) && std::isnan(y[4]) && y[5] == kInfF && y[1] == 0.0f, isa_name(isa) << " gelu");
    activation_forward_with(isa, 1, ActKind::kGeluTanh, 0.0f, x.data(), y.data(), x.size());
    CK_CHECK(std::isnan(y[0]) && std::isnan(y[4]) && y[5] == kInfF, isa_name(isa) << " gelu tanh");
    for (ActKind k : {ActKind::kSigmoid, ActKind::kTanh}) {
      activation_forward_with(isa, 1, k, 0.0f, x.data(), y.data(), x.size());
      CK_CHECK(std::isnan(y[0]), isa_name(isa) << " " << activation_name(k) << "(NaN)");
    }
  }
}

CK_TEST(activation_large_tensor_two_threads_default_threshold) {
  const size_t n = 300001;
  const std::vector<float> x = make_input(n, 5.0f, 7);
  std::vector<float> ref(n), got(n);
  activation_forward_ref(ActKind::kGelu, 0.0f, x.data(), ref.data(), n);
  for (Isa isa : supported_isas()) {
    activation_forward_with(isa, 2, ActKind::kGelu, 0.0f, x.data(), got.data(), n);
    check_arrays(ck_ctx, got, ref, forward_tol(ActKind::kGelu), std::string("gelu 300001 ") + isa_name(isa), &x);
  }
}

// ---------------------------------------------------------------------------------------------
// Softmax

CK_TEST(softmax_paths_match_reference) {
  ThresholdGuard guard;
  const SoftmaxShape shapes[] = {{1, 1, 1},  {3, 7, 1},  {2, 5, 12}, {2, 17, 65}, {4, 63, 3},  {1, 1000, 1},
                                 {3, 130, 70}, {5, 1, 9}, {0, 4, 4},  {2, 0, 3},   {1, 65, 129}, {2, 33, 1}};
  for (const SoftmaxShape& s : shapes) {
    const size_t total = s.outer * s.n * s.inner;
    for (float scale : {3.0f, 100.0f}) {
      const std::vector<float> x = make_input(total, scale, 300 + total, false);
      const std::vector<float> dy = make_input(total, 1.0f, 400 + total, false);
      for (SoftmaxKind kind : {SoftmaxKind::kSoftmax, SoftmaxKind::kLogSoftmax}) {
        const bool soft = kind == SoftmaxKind::kSoftmax;
        std::vector<float> y_ref(total), dx_ref(total);
        softmax_forward_ref(kind, s, x.data(), y_ref.data());
        softmax_backward_ref(kind, s, y_ref.data(), dy.data(), dx_ref.data());
        for (Isa isa : supported_isas()) {
          for (int threads : {1, 2}) {
            std::vector<float> y(total, -7.0f), dx(total, -7.0f);
            softmax_forward_with(isa, threads, kind, s, x.data(), y.data());
            softmax_backward_with(isa, threads, kind, s, y_ref.data(), dy.data(), dx.data());
            const std::string what = std::string(soft ? "softmax" : "log_softmax") + " [" + std::to_string(s.outer) +
                                     "," + std::to_string(s.n) + "," + std::to_string(s.inner) + "] scale " +
                                     std::to_string(scale) + " " + isa_str(isa, threads);
            const Tol fwd = soft ? Tol{1e-7, 2e-6} : Tol{4e-6, 2e-6};
            if (!check_arrays(ck_ctx, y, y_ref, fwd, what + " forward")) return;
            if (!check_arrays(ck_ctx, dx, dx_ref, {2e-6, 2e-5}, what + " backward")) return;
          }
        }
      }
    }
  }
}

CK_TEST(softmax_non_finite_slices_become_nan) {
  // Slices (rows of [4, 3]): a NaN, a +inf, all -inf, and a finite one that must stay finite.
  const std::vector<float> x = {1.0f, kNaN, 2.0f, kInfF, 1.0f, 2.0f, -kInfF, -kInfF, -kInfF, 1.0f, 2.0f, 3.0f};
  for (Isa isa : supported_isas()) {
    for (SoftmaxKind kind : {SoftmaxKind::kSoftmax, SoftmaxKind::kLogSoftmax}) {
      std::vector<float> y(12), ref(12);
      softmax_forward_with(isa, 1, kind, {4, 3, 1}, x.data(), y.data());
      softmax_forward_ref(kind, {4, 3, 1}, x.data(), ref.data());
      for (size_t i = 0; i < 9; ++i) CK_CHECK(std::isnan(y[i]), isa_name(isa) << " element " << i << " = " << y[i]);
      for (size_t i = 9; i < 12; ++i) CK_CHECK(std::isfinite(y[i]), isa_name(isa) << " element " << i);
      for (size_t i = 0; i < 12; ++i) CK_CHECK(std::isnan(y[i]) == std::isnan(ref[i]), "reference agrees at " << i);
      // The same slices along a strided dimension ([1, 3, 4]: columns).
      std::vector<float> xt(12), yt(12);
      for (size_t r = 0; r < 4; ++r)
        for (size_t c = 0; c < 3; ++c) xt[c * 4 + r] = x[r * 3 + c];
      softmax_forward_with(isa, 1, kind, {1, 3, 4}, xt.data(), yt.data());
      for (size_t r = 0; r < 4; ++r)
        for (size_t c = 0; c < 3; ++c) CK_CHECK(std::isnan(yt[c * 4 + r]) == (r < 3), "strided " << r << "," << c);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Losses

namespace {

// |got - ref| <= rtol * scale for every element, scale = max(1, max |ref|).
void check_close_scaled(Context& ck_ctx, const std::vector<float>& got, const std::vector<float>& ref, double rtol,
                        const std::string& what) {
  double scale = 1.0;
  for (float v : ref) scale = std::max(scale, static_cast<double>(std::fabs(v)));
  check_arrays(ck_ctx, got, ref, {rtol * scale, 0.0}, what);
}

void check_sums(Context& ck_ctx, const LossSums& got, const LossSums& ref, const std::string& what) {
  CK_CHECK(std::fabs(got.total - ref.total) <= 2e-6 * std::max(1.0, std::fabs(ref.total)),
           what << " total " << got.total << " want " << ref.total);
  CK_CHECK(std::fabs(got.weight - ref.weight) <= 1e-9 * std::max(1.0, std::fabs(ref.weight)),
           what << " weight " << got.weight << " want " << ref.weight);
}

struct ClassCase {
  ClassShape shape;
  bool weighted;
  float smoothing;
  bool ignore;  // some targets set to ignore_index
  bool per_position_grad;
};

std::string describe(const ClassCase& c) {
  return "[" + std::to_string(c.shape.batch) + "," + std::to_string(c.shape.classes) + "," +
         std::to_string(c.shape.inner) + "] w=" + std::to_string(c.weighted) + " eps=" + std::to_string(c.smoothing) +
         " ignore=" + std::to_string(c.ignore) + " grad=" + std::to_string(c.per_position_grad);
}

const ClassCase kClassCases[] = {
    {{3, 7, 1}, false, 0.0f, false, false},   {{3, 7, 1}, true, 0.0f, true, true},
    {{5, 17, 1}, true, 0.1f, true, false},    {{2, 5, 12}, false, 0.0f, false, true},
    {{2, 5, 12}, true, 0.25f, true, true},     {{4, 3, 65}, true, 0.1f, true, false},
    {{1, 1000, 1}, false, 0.05f, false, true}, {{6, 33, 1}, true, 1.0f, true, true},
    {{2, 65, 3}, false, 0.3f, true, false},    {{0, 4, 1}, true, 0.1f, false, false},
};

}  // namespace

CK_TEST(loss_class_paths_match_reference) {
  ThresholdGuard guard;
  for (const ClassCase& c : kClassCases) {
    const ClassShape& s = c.shape;
    const size_t P = s.batch * s.inner, total = P * s.classes;
    Rng rng(17 + total);
    const std::vector<float> x = make_input(total, 30.0f, 500 + total, false);
    std::vector<float> probs(total);
    for (size_t b = 0; b < s.batch; ++b) {
      for (size_t j = 0; j < s.inner; ++j) {
        double sum = 0.0;
        for (size_t k = 0; k < s.classes; ++k) sum += probs[(b * s.classes + k) * s.inner + j] = rng.uniform() + 1.0f;
        for (size_t k = 0; k < s.classes; ++k) probs[(b * s.classes + k) * s.inner + j] /= static_cast<float>(sum);
      }
    }
    std::vector<int32_t> target(P);
    for (size_t i = 0; i < P; ++i) target[i] = static_cast<int32_t>(rng.below(s.classes));
    ClassLossOptions opts;
    opts.ignore_index = 2;  // an in-range value: those targets are skipped, not used
    if (c.ignore) {
      for (size_t i = 0; i < P; i += 3) target[i] = 2;
    } else {
      opts.ignore_index = -100;
    }
    std::vector<float> weight(s.classes);
    for (float& w : weight) w = rng.uniform() + 1.5f;
    if (c.weighted) opts.weight = weight.data();
    opts.label_smoothing = c.smoothing;
    const std::vector<float> grad = make_input(P, 1.0f, 600 + P, false);
    const float* g = c.per_position_grad ? grad.data() : nullptr;
    const float scale = 0.75f;

    std::vector<float> loss_ref(P), dx_ref(total), dq_ref(total), nll_ref(P), dnll_ref(total);
    const LossSums ce_ref = cross_entropy_forward_ref(s, x.data(), target.data(), opts, loss_ref.data());
    cross_entropy_backward_ref(s, x.data(), target.data(), opts, g, scale, dx_ref.data());
    std::vector<float> ploss_ref(P), pdx_ref(total);
    const LossSums pce_ref = cross_entropy_prob_forward_ref(s, x.data(), probs.data(), opts, ploss_ref.data());
    cross_entropy_prob_backward_ref(s, x.data(), probs.data(), opts, g, scale, pdx_ref.data(), dq_ref.data());
    const LossSums nll_sums_ref = nll_loss_forward_ref(s, x.data(), target.data(), opts, nll_ref.data());
    nll_loss_backward_ref(s, target.data(), opts, g, scale, dnll_ref.data());

    for (Isa isa : supported_isas()) {
      for (int threads : {1, 2}) {
        const LossPath path{isa, threads};
        const std::string what = describe(c) + " " + isa_str(isa, threads);
        std::vector<float> stats(2 * P), loss(P, -7.0f), dx(total, -7.0f), dq(total, -7.0f);
        check_sums(ck_ctx, cross_entropy_forward_with(path, s, x.data(), target.data(), opts, stats.data(), loss.data()),
                   ce_ref, what + " ce");
        check_close_scaled(ck_ctx, loss, loss_ref, 2e-6, what + " ce losses");
        cross_entropy_backward_with(path, s, x.data(), target.data(), opts, stats.data(), g, scale, dx.data());
        check_close_scaled(ck_ctx, dx, dx_ref, 2e-6, what + " ce dx");

        check_sums(ck_ctx,
                   cross_entropy_prob_forward_with(path, s, x.data(), probs.data(), opts, stats.data(), loss.data()),
                   pce_ref, what + " prob ce");
        check_close_scaled(ck_ctx, loss, ploss_ref, 2e-6, what + " prob ce losses");
        cross_entropy_prob_backward_with(path, s, x.data(), probs.data(), opts, stats.data(), g, scale, dx.data(),
                                         dq.data());
        check_close_scaled(ck_ctx, dx, pdx_ref, 2e-6, what + " prob ce dx");
        check_close_scaled(ck_ctx, dq, dq_ref, 2e-6, what + " prob ce dprobs");

        check_sums(ck_ctx, nll_loss_forward_with(path, s, x.data(), target.data(), opts, loss.data()), nll_sums_ref,
                   what + " nll");
        check_close_scaled(ck_ctx, loss, nll_ref, 2e-6, what + " nll losses");
        nll_loss_backward_with(path, s, target.data(), opts, g, scale, dx.data());
        check_close_scaled(ck_ctx, dx, dnll_ref, 1e-6, what + " nll dx");
        if (ck_ctx.failures() > 0) return;
      }
    }
  }
}

CK_TEST(loss_pointwise_paths_match_reference) {
  ThresholdGuard guard;
  for (size_t n : {size_t{0}, size_t{1}, size_t{7}, size_t{65}, size_t{1025}, size_t{5000}}) {
    const std::vector<float> x = make_input(n, 40.0f, 700 + n, false);
    std::vector<float> t = make_input(n, 3.0f, 800 + n, false);
    std::vector<float> unit(n), w(n), pw(n);
    Rng rng(900 + n);
    for (size_t i = 0; i < n; ++i) {
      unit[i] = 0.5f + 0.5f * rng.uniform();
      w[i] = 1.0f + rng.uniform();
      pw[i] = 2.0f + rng.uniform();
    }
    if (n > 3) t[3] = x[3];  // d = 0: the smooth L1 kink
    const std::vector<float> grad = make_input(n, 1.0f, 950 + n, false);
    struct Variant {
      PointwiseLoss kind;
      float beta;
      bool weighted;
    };
    const Variant variants[] = {{PointwiseLoss::kMse, 1.0f, false},          {PointwiseLoss::kSmoothL1, 1.0f, false},
                                {PointwiseLoss::kSmoothL1, 0.0f, false},     {PointwiseLoss::kSmoothL1, 2.5f, false},
                                {PointwiseLoss::kBceWithLogits, 1.0f, false}, {PointwiseLoss::kBceWithLogits, 1.0f, true}};
    for (const Variant& v : variants) {
      PointwiseLossOptions opts;
      opts.beta = v.beta;
      if (v.weighted) {
        opts.weight = w.data();
        opts.pos_weight = pw.data();
      }
      const std::vector<float>& target = v.kind == PointwiseLoss::kBceWithLogits ? unit : t;
      std::vector<float> loss_ref(n), dx_ref(n), dt_ref(n);
      const LossSums ref = pointwise_loss_forward_ref(v.kind, opts, x.data(), target.data(), n, loss_ref.data());
      pointwise_loss_backward_ref(v.kind, opts, x.data(), target.data(), n, grad.data(), 0.5f, dx_ref.data(),
                                  dt_ref.data());
      for (Isa isa : supported_isas()) {
        for (int threads : {1, 2}) {
          const std::string what = "pointwise " + std::to_string(static_cast<int>(v.kind)) + " beta " +
                                   std::to_string(v.beta) + " w " + std::to_string(v.weighted) + " n " +
                                   std::to_string(n) + " " + isa_str(isa, threads);
          std::vector<float> loss(n, -7.0f), dx(n, -7.0f), dt(n, -7.0f);
          check_sums(ck_ctx, pointwise_loss_forward_with({isa, threads}, v.kind, opts, x.data(), target.data(), n,
                                                         loss.data()),
                     ref, what);
          check_arrays(ck_ctx, loss, loss_ref, {1e-6, 1e-6}, what + " losses");
          pointwise_loss_backward_with({isa, threads}, v.kind, opts, x.data(), target.data(), n, grad.data(), 0.5f,
                                       dx.data(), dt.data());
          check_arrays(ck_ctx, dx, dx_ref, {1e-6, 1e-6}, what + " dinput");
          check_arrays(ck_ctx, dt, dt_ref, {1e-6, 1e-6}, what + " dtarget");
          // Only one gradient asked for: the other array is not touched.
          std::vector<float> only(n, -7.0f);
          pointwise_loss_backward_with({isa, threads}, v.kind, opts, x.data(), target.data(), n, grad.data(), 0.5f,
                                       nullptr, only.data());
          check_arrays(ck_ctx, only, dt_ref, {1e-6, 1e-6}, what + " dtarget alone");
          if (ck_ctx.failures() > 0) return;
        }
      }
    }
  }
}

CK_TEST(loss_stable_for_large_logits) {
  // BCE with logits of +-100 and cross entropy with logits 1000 apart: finite, and equal to the
  // closed forms.
  const std::vector<float> x = {100.0f, -100.0f, 0.0f};
  const std::vector<float> t = {0.0f, 1.0f, 1.0f};
  std::vector<float> loss(3);
  pointwise_loss_forward(PointwiseLoss::kBceWithLogits, {}, x.data(), t.data(), 3, loss.data());
  CK_CHECK(loss[0] == 100.0f && loss[1] == 100.0f && std::fabs(loss[2] - std::log(2.0f)) < 1e-7f,
           "bce " << loss[0] << " " << loss[1] << " " << loss[2]);
  const std::vector<float> logits = {1000.0f, 0.0f, -1000.0f};
  const std::vector<int32_t> target = {2};
  std::vector<float> stats(2), ce(1);
  cross_entropy_forward({1, 3, 1}, logits.data(), target.data(), {}, stats.data(), ce.data());
  CK_CHECK(ce[0] == 2000.0f, "cross entropy " << ce[0]);
}

CK_TEST(loss_errors_name_the_problem) {
  const std::vector<float> x(6, 0.0f);
  std::vector<float> stats(4), out(6);
  const std::vector<int32_t> bad = {1, 3};
  try {
    cross_entropy_forward({2, 3, 1}, x.data(), bad.data(), {}, stats.data(), nullptr);
    CK_CHECK(false, "no error for an out-of-range target");
  } catch (const Error& e) {
    CK_CHECK(e.code() == ErrorCode::kArgument, "code");
    CK_CHECK(std::string(e.what()) ==
                 "cross_entropy: class index 3 at position 1 is out of range for 3 classes (ignore_index is -100)",
             e.what());
  }
  const std::vector<int32_t> negative = {-1, 0};
  try {
    nll_loss_forward({2, 3, 1}, x.data(), negative.data(), {}, nullptr);
    CK_CHECK(false, "no error for a negative target");
  } catch (const Error& e) {
    CK_CHECK(std::string(e.what()).find("nll_loss: class index -1 at position 0") == 0, e.what());
  }
  ClassLossOptions smoothing;
  smoothing.label_smoothing = 1.5f;
  const std::vector<int32_t> ok = {0, 1};
  try {
    cross_entropy_forward({2, 3, 1}, x.data(), ok.data(), smoothing, stats.data(), nullptr);
    CK_CHECK(false, "no error for label_smoothing 1.5");
  } catch (const Error& e) {
    CK_CHECK(std::string(e.what()).find("label_smoothing must be in [0, 1]") != std::string::npos, e.what());
  }
  PointwiseLossOptions beta;
  beta.beta = -1.0f;
  try {
    pointwise_loss_forward(PointwiseLoss::kSmoothL1, beta, x.data(), x.data(), 6, out.data());
    CK_CHECK(false, "no error for beta -1");
  } catch (const Error& e) {
    CK_CHECK(std::string(e.what()).find("beta must be a finite number >= 0") != std::string::npos, e.what());
  }
  try {
    activation_forward(static_cast<ActKind>(9), 0.0f, x.data(), out.data(), 6);
    CK_CHECK(false, "no error for an unknown activation");
  } catch (const Error& e) {
    CK_CHECK(e.code() == ErrorCode::kArgument, e.what());
  }
}

}  // namespace convkit::test
