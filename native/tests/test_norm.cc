// Batch norm and local response norm: every path (scalar, AVX2, AVX-512 where the CPU has them)
// against the double-precision references on awkward shapes (1, 7, 17, 63, 65 ...), 1 and 2 threads.
//
// Batch norm. Data x = offset + scale * u (u uniform in [-1, 1)) with offsets up to 1000 times the
// spread, to exercise the shifted statistics. The optimised path normalises as (x - mean_f) * alpha_f
// + b in float (mean_f, alpha_f: the float roundings of mean and invstd * w), so per element
//   |y - ref| <= 4 eps (|ref| + |b| + |x - mean| |alpha| + |mean| |alpha|),   eps = 2^-24,
// the last term being the rounding of the mean to float. Saved mean / invstd and running stats: 4 eps
// relative (both sides round a double to float; the statistics themselves agree to ~1e-15). The
// backward computes gx = gy a + (x - mean) b + c in float with a, b, c rounded from double:
//   |gx - ref| <= 8 eps (|gy a| + |x - mean| |b| + |c| + |mean| |b|) + 1e-6 |ref|.
// Weight and bias gradients are double sums rounded once: 4 eps relative + 1e-7.
//
// Local response norm: float sums of at most `size` squares and d^beta to ~2 ulp:
//   |y - ref| <= 8 (size + 4) eps |ref|; gx: 16 (size + 4) eps (|gy / p| + scale |x| sum |gy x / (p d)|)
// per element (the magnitudes of its two terms).
#include <cmath>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "kernels/batchnorm.h"
#include "kernels/lrn.h"
#include "runtime/error.h"
#include "runtime/isa.h"
#include "tests/harness.h"

namespace convkit::test {
namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
const double kEps = std::ldexp(1.0, -24);

std::vector<Isa> paths() {
  std::vector<Isa> out;
  for (Isa isa : {Isa::kScalar, Isa::kAvx2, Isa::kAvx512})
    if (isa_supported(isa)) out.push_back(isa);
  return out;
}

struct BnCase {
  BatchNormShape sh;
  double offset, scale;
};

std::string describe(const BnCase& c) {
  std::ostringstream os;
  os << "n=" << c.sh.n << " c=" << c.sh.c << " s=" << c.sh.s << " offset=" << c.offset << " scale=" << c.scale;
  return os.str();
}

bool close_rel(double v, double ref, double rel, double abs) { return std::fabs(v - ref) <= rel * std::fabs(ref) + abs; }

}  // namespace

CK_TEST(batch_norm_paths_match_reference) {
  Rng rng(21);
  const BnCase cases[] = {
      {{2, 3, 1}, 0, 1},      {{7, 5, 1}, 0.5, 2},     {{1, 4, 17}, 0, 1},     {{3, 2, 63}, 1000, 1},
      {{2, 7, 65}, -3, 0.01}, {{5, 1, 49}, 0, 1},      {{4, 17, 7}, 20, 0.5},  {{2, 3, 130}, 0, 3},
      {{9, 2, 16}, 100, 1},   {{1, 65, 33}, 0, 1},
  };
  for (const BnCase& bc : cases) {
    const BatchNormShape sh = bc.sh;
    const size_t total = sh.n * sh.c * sh.s;
    std::vector<float> x(total), gy(total), w(sh.c), b(sh.c), rm0(sh.c), rv0(sh.c);
    for (float& v : x) v = static_cast<float>(bc.offset + bc.scale * rng.uniform());
    for (float& v : gy) v = rng.uniform();
    for (size_t c = 0; c < sh.c; ++c) {
      w[c] = 0.5f + rng.uniform();
      b[c] = rng.uniform();
      rm0[c] = rng.uniform();
      rv0[c] = 1.5f + rng.uniform();
    }
    for (bool affine : {true, false}) {
      // Reference, training.
      std::vector<float> y_ref(total), m_ref(sh.c), is_ref(sh.c), rm_ref = rm0, rv_ref = rv0;
      BatchNormTrainArgs ref_args{affine ? w.data() : nullptr, affine ? b.data() : nullptr, rm_ref.data(),
                                  rv_ref.data(), 1e-5, 0.1};
      batch_norm_forward_train_ref(sh, x.data(), ref_args, y_ref.data(), m_ref.data(), is_ref.data());
      std::vector<float> gx_ref(total), gw_ref(sh.c), gb_ref(sh.c);
      batch_norm_backward_ref(sh, x.data(), gy.data(), affine ? w.data() : nullptr, m_ref.data(), is_ref.data(), true,
                              gx_ref.data(), gw_ref.data(), gb_ref.data());
      // Reference, inference.
      std::vector<float> ye_ref(total), me_ref(sh.c), ise_ref(sh.c), gxe_ref(total), gwe_ref(sh.c), gbe_ref(sh.c);
      batch_norm_forward_eval_ref(sh, x.data(), affine ? w.data() : nullptr, affine ? b.data() : nullptr, rm0.data(),
                                  rv0.data(), 1e-5, ye_ref.data(), me_ref.data(), ise_ref.data());
      batch_norm_backward_ref(sh, x.data(), gy.data(), affine ? w.data() : nullptr, me_ref.data(), ise_ref.data(),
                              false, gxe_ref.data(), gwe_ref.data(), gbe_ref.data());

      for (Isa isa : paths()) {
        for (int threads : {1, 2}) {
          const std::string what = std::string(isa_name(isa)) + " threads=" + std::to_string(threads) + " " +
                                   describe(bc) + (affine ? " affine" : " plain");
          std::vector<float> y(total, kNaN), m(sh.c, kNaN), is(sh.c, kNaN), rm = rm0, rv = rv0;
          BatchNormTrainArgs args{affine ? w.data() : nullptr, affine ? b.data() : nullptr, rm.data(), rv.data(), 1e-5,
                                  0.1};
          batch_norm_forward_train_with(isa, threads, sh, x.data(), args, y.data(), m.data(), is.data());
          int bad = 0;
          for (size_t c = 0; c < sh.c && bad == 0; ++c) {
            if (!close_rel(m[c], m_ref[c], 4 * kEps, 1e-30) || !close_rel(is[c], is_ref[c], 4 * kEps, 0) ||
                !close_rel(rm[c], rm_ref[c], 4 * kEps, 1e-30) || !close_rel(rv[c], rv_ref[c], 4 * kEps, 0)) {
              CK_CHECK(false, what << " stats of channel " << c << ": mean " << m[c] << " vs " << m_ref[c] << ", invstd "
                                   << is[c] << " vs " << is_ref[c] << ", running " << rm[c] << "/" << rv[c] << " vs "
                                   << rm_ref[c] << "/" << rv_ref[c]);
              ++bad;
            }
          }
          for (size_t i = 0; i < total && bad == 0; ++i) {
            const size_t c = (i / sh.s) % sh.c;
            const double alpha = static_cast<double>(is_ref[c]) * (affine ? w[c] : 1.0);
            const double bound = 4 * kEps *
                                 (std::fabs(y_ref[i]) + (affine ? std::fabs(b[c]) : 0.0) +
                                  std::fabs(x[i] - m_ref[c]) * std::fabs(alpha) + std::fabs(m_ref[c] * alpha));
            if (!(std::fabs(y[i] - y_ref[i]) <= bound)) {
              CK_CHECK(false, what << " train y at " << i << ": " << y[i] << " vs " << y_ref[i] << " (bound " << bound << ")");
              ++bad;
            }
          }
          // Eval forward.
          std::vector<float> ye(total, kNaN), me(sh.c), ise(sh.c);
          batch_norm_forward_eval_with(isa, threads, sh, x.data(), affine ? w.data() : nullptr,
                                       affine ? b.data() : nullptr, rm0.data(), rv0.data(), 1e-5, ye.data(), me.data(),
                                       ise.data());
          for (size_t i = 0; i < total && bad == 0; ++i) {
            const size_t c = (i / sh.s) % sh.c;
            const double alpha = static_cast<double>(ise_ref[c]) * (affine ? w[c] : 1.0);
            const double bound = 4 * kEps *
                                 (std::fabs(ye_ref[i]) + (affine ? std::fabs(b[c]) : 0.0) +
                                  std::fabs(x[i] - rm0[c]) * std::fabs(alpha));
            if (!(std::fabs(ye[i] - ye_ref[i]) <= bound)) {
              CK_CHECK(false, what << " eval y at " << i << ": " << ye[i] << " vs " << ye_ref[i]);
              ++bad;
            }
          }
          // Backward, both modes.
          for (bool training : {true, false}) {
            const std::vector<float>& mean = training ? m_ref : me_ref;
            const std::vector<float>& invstd = training ? is_ref : ise_ref;
            const std::vector<float>& gxr = training ? gx_ref : gxe_ref;
            const std::vector<float>& gwr = training ? gw_ref : gwe_ref;
            const std::vector<float>& gbr = training ? gb_ref : gbe_ref;
            std::vector<float> gx(total, kNaN), gw(sh.c, kNaN), gb(sh.c, kNaN);
            batch_norm_backward_with(isa, threads, sh, x.data(), gy.data(), affine ? w.data() : nullptr, mean.data(),
                                     invstd.data(), training, gx.data(), gw.data(), gb.data());
            const double mm = static_cast<double>(sh.n * sh.s);
            for (size_t c = 0; c < sh.c && bad == 0; ++c) {
              if (!close_rel(gw[c], gwr[c], 4 * kEps, 1e-7 * mm) || !close_rel(gb[c], gbr[c], 4 * kEps, 1e-7 * mm)) {
                CK_CHECK(false, what << " training=" << training << " channel " << c << ": gw " << gw[c] << " vs " << gwr[c]
                                     << ", gb " << gb[c] << " vs " << gbr[c]);
                ++bad;
              }
            }
            for (size_t i = 0; i < total && bad == 0; ++i) {
              const size_t c = (i / sh.s) % sh.c;
              const double is_c = invstd[c], w_c = affine ? w[c] : 1.0;
              const double a = std::fabs(w_c * is_c);
              const double bb = training ? a * is_c * is_c * std::fabs(gwr[c] / is_c) / mm : 0.0;
              const double cc = training ? std::fabs(a * gbr[c] / mm) : 0.0;
              const double bound = 8 * kEps *
                                       (std::fabs(gy[i] * a) + std::fabs(x[i] - mean[c]) * bb + cc +
                                        std::fabs(mean[c]) * bb) +
                                   1e-6 * std::fabs(gxr[i]);
              if (!(std::fabs(gx[i] - gxr[i]) <= bound)) {
                CK_CHECK(false, what << " training=" << training << " gx at " << i << ": " << gx[i] << " vs " << gxr[i]
                                     << " (bound " << bound << ")");
                ++bad;
              }
            }
            // Only some gradients asked for: the others are left alone.
            std::vector<float> gb2(sh.c, kNaN);
            batch_norm_backward_with(isa, threads, sh, x.data(), gy.data(), affine ? w.data() : nullptr, mean.data(),
                                     invstd.data(), training, nullptr, nullptr, gb2.data());
            for (size_t c = 0; c < sh.c; ++c) CK_CHECK(gb2[c] == gb[c], what << " gbias alone differs at " << c);
          }
        }
      }
    }
  }
}

CK_TEST(batch_norm_checks) {
  std::vector<float> x(3, 1.0f), y(3), m(3), is(3);
  BatchNormTrainArgs args{nullptr, nullptr, nullptr, nullptr, 1e-5, 0.1};
  try {
    batch_norm_forward_train(BatchNormShape{1, 3, 1}, x.data(), args, y.data(), m.data(), is.data());
    CK_CHECK(false, "one value per channel must be refused in training");
  } catch (const Error& e) {
    CK_CHECK(e.code() == ErrorCode::kShape, e.what());
    CK_CHECK(std::string(e.what()) == "batch_norm: expected more than 1 value per channel when training, got 1", e.what());
  }
  args.eps = -1.0;
  try {
    batch_norm_forward_train(BatchNormShape{3, 1, 1}, x.data(), args, y.data(), m.data(), is.data());
    CK_CHECK(false, "a negative eps must be refused");
  } catch (const Error& e) {
    CK_CHECK(e.code() == ErrorCode::kArgument, e.what());
  }
  // A constant channel: variance 0, output b (no NaN from rounding).
  std::vector<float> c7(7, 0.1f), y7(7), m1(1), is1(1);
  args.eps = 1e-5;
  batch_norm_forward_train(BatchNormShape{7, 1, 1}, c7.data(), args, y7.data(), m1.data(), is1.data());
  for (float v : y7) CK_CHECK(v == 0.0f, v);
}

CK_TEST(lrn_paths_match_reference) {
  Rng rng(31);
  struct Case {
    LrnShape sh;
    LrnParams p;
  };
  const Case cases[] = {
      {{2, 7, 9}, {5, 1e-4, 0.75, 1.0}},  {{1, 5, 17}, {4, 0.5, 0.75, 2.0}}, {{3, 1, 65}, {3, 1.0, 0.5, 1.0}},
      {{2, 6, 1}, {2, 0.3, 1.0, 1.5}},    {{1, 9, 130}, {1, 0.2, 0.6, 1.0}}, {{2, 3, 63}, {7, 2.0, 0.75, 0.5}},
      {{1, 16, 70}, {6, 0.1, 0.3, 1.0}},
  };
  for (const Case& cs : cases) {
    const size_t total = cs.sh.n * cs.sh.c * cs.sh.s;
    std::vector<float> x(total), gy(total), y_ref(total), gx_ref(total);
    for (float& v : x) v = 2.0f * rng.uniform();
    for (float& v : gy) v = rng.uniform();
    lrn_forward_ref(cs.sh, cs.p, x.data(), y_ref.data());
    lrn_backward_ref(cs.sh, cs.p, x.data(), gy.data(), gx_ref.data());
    const double fwd_rel = 8.0 * (static_cast<double>(cs.p.size) + 4.0) * kEps;
    for (Isa isa : paths()) {
      for (int threads : {1, 2}) {
        std::vector<float> y(total, kNaN), gx(total, kNaN);
        lrn_forward_with(isa, threads, cs.sh, cs.p, x.data(), y.data());
        lrn_backward_with(isa, threads, cs.sh, cs.p, x.data(), gy.data(), gx.data());
        const std::string what = std::string(isa_name(isa)) + " threads=" + std::to_string(threads) + " n=" +
                                 std::to_string(cs.sh.n) + " c=" + std::to_string(cs.sh.c) + " s=" +
                                 std::to_string(cs.sh.s) + " size=" + std::to_string(cs.p.size);
        for (size_t i = 0; i < total; ++i) {
          if (!(std::fabs(y[i] - y_ref[i]) <= fwd_rel * std::fabs(y_ref[i]) + 1e-30)) {
            CK_CHECK(false, what << " y at " << i << ": " << y[i] << " vs " << y_ref[i]);
            break;
          }
        }
        // The two terms of gx in magnitude, from d recomputed in double.
        auto divisor = [&](size_t n, size_t c, size_t sp) {
          double sum = 0.0;
          for (long cc = static_cast<long>(c) - static_cast<long>(cs.p.size / 2);
               cc <= static_cast<long>(c) + static_cast<long>((cs.p.size - 1) / 2); ++cc) {
            if (cc < 0 || cc >= static_cast<long>(cs.sh.c)) continue;
            const double v = x[(n * cs.sh.c + static_cast<size_t>(cc)) * cs.sh.s + sp];
            sum += v * v;
          }
          return sum / static_cast<double>(cs.p.size) * cs.p.alpha + cs.p.k;
        };
        for (size_t i = 0; i < total; ++i) {
          const size_t sp = i % cs.sh.s, c = (i / cs.sh.s) % cs.sh.c, n = i / (cs.sh.s * cs.sh.c);
          const double term1 = std::fabs(gy[i]) / std::pow(divisor(n, c, sp), cs.p.beta);
          double sum_t = 0.0;
          for (long cc = static_cast<long>(c) - static_cast<long>((cs.p.size - 1) / 2);
               cc <= static_cast<long>(c) + static_cast<long>(cs.p.size / 2); ++cc) {
            if (cc < 0 || cc >= static_cast<long>(cs.sh.c)) continue;
            const size_t j = (n * cs.sh.c + static_cast<size_t>(cc)) * cs.sh.s + sp;
            const double d = divisor(n, static_cast<size_t>(cc), sp);
            sum_t += std::fabs(gy[j] * x[j]) / (std::pow(d, cs.p.beta) * d);
          }
          const double term2 = 2.0 * cs.p.alpha * cs.p.beta / static_cast<double>(cs.p.size) * std::fabs(x[i]) * sum_t;
          const double bound = 16.0 * (static_cast<double>(cs.p.size) + 4.0) * kEps * (term1 + term2);
          if (!(std::fabs(gx[i] - gx_ref[i]) <= bound)) {
            CK_CHECK(false, what << " gx at " << i << ": " << gx[i] << " vs " << gx_ref[i] << " (bound " << bound << ")");
            break;
          }
        }
      }
    }
  }
  try {
    float v = 1.0f;
    lrn_forward(LrnShape{1, 1, 1}, LrnParams{0, 1e-4, 0.75, 1.0}, &v, &v);
    CK_CHECK(false, "size 0 must be refused");
  } catch (const Error& e) {
    CK_CHECK(e.code() == ErrorCode::kArgument, e.what());
  }
}

}  // namespace convkit::test
