// The SGD update against its double-precision reference, every option, sizes around the thread
// chunk, at 1 and 2 threads. Tolerance: 2 ulp of the values (float32 multiply-adds where the reference
// rounds after each PyTorch op).
#include <cmath>
#include <cstdint>
#include <vector>

#include "kernels/optim.h"
#include "runtime/threads.h"
#include "tests/harness.h"

namespace convkit::test {
namespace {

float uniform(uint64_t* s) {
  *s = *s * 6364136223846793005ull + 1442695040888963407ull;
  return static_cast<float>((*s >> 40) & 0xffffff) / 16777216.0f * 2.0f - 1.0f;
}

}  // namespace

CK_TEST(sgd_step_matches_reference) {
  const int before = num_threads();
  uint64_t seed = 7;
  for (int threads : {1, 2}) {
    set_num_threads(threads);
    for (size_t n : {size_t{0}, size_t{1}, size_t{17}, size_t{300001}}) {
      for (int variant = 0; variant < 6; ++variant) {
        SgdOptions o;
        o.lr = 0.05f;
        o.momentum = variant == 0 ? 0.0f : 0.9f;
        o.dampening = variant == 3 ? 0.25f : 0.0f;
        o.weight_decay = variant >= 2 ? 1e-3f : 0.0f;
        o.nesterov = variant == 4;
        o.maximize = variant == 5;
        std::vector<float> p(n), g(n), buf(n);
        for (size_t i = 0; i < n; ++i) {
          p[i] = uniform(&seed);
          g[i] = uniform(&seed);
          buf[i] = uniform(&seed);
        }
        std::vector<float> p_ref = p, buf_ref = buf;
        for (int step = 0; step < 3; ++step) {
          const bool fresh = step == 0;
          sgd_step(o, p.data(), g.data(), buf.data(), fresh, n);
          sgd_step_ref(o, p_ref.data(), g.data(), buf_ref.data(), fresh, n);
        }
        for (size_t i = 0; i < n; ++i) {
          const float tol_p = 2.0f * std::ldexp(1.0f, -23) * (std::fabs(p_ref[i]) + 1.0f);
          const float tol_b = 2.0f * std::ldexp(1.0f, -23) * (std::fabs(buf_ref[i]) + 1.0f);
          if (!(std::fabs(p[i] - p_ref[i]) <= tol_p) || !(std::fabs(buf[i] - buf_ref[i]) <= tol_b)) {
            CK_CHECK(false, "sgd variant " << variant << " n=" << n << " threads=" << threads << " i=" << i << ": p "
                                           << p[i] << " vs " << p_ref[i] << ", buf " << buf[i] << " vs "
                                           << buf_ref[i]);
            set_num_threads(before);
            return;
          }
        }
      }
    }
  }
  set_num_threads(before);
}

}  // namespace convkit::test
