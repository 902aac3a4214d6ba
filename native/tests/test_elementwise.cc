// Elementwise arithmetic: every operation against the one-element-at-a-time reference (computed in
// double, rounded once: for float32 inputs that is the correctly rounded float32 result), bit for
// bit, on awkward lengths at 1 and 2 threads with the parallel threshold off, special values
// included (NaN, +-inf, +-0, subnormals, overflow, 0/0, x/0), and in place.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

#include "kernels/activation_kernels.h"
#include "kernels/elementwise.h"
#include "runtime/error.h"
#include "tests/harness.h"

namespace convkit::test {
namespace {

bool same_bits(float u, float v) {
  if (std::isnan(u) || std::isnan(v)) return std::isnan(u) && std::isnan(v);
  uint32_t a, b;
  std::memcpy(&a, &u, 4);
  std::memcpy(&b, &v, 4);
  return a == b;
}

std::vector<float> values(size_t n, uint64_t seed) {
  const float specials[] = {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity(),
                            -std::numeric_limits<float>::infinity(), 0.0f, -0.0f, 1e-40f, -3e-39f, 3e38f, -3e38f,
                            1.0f};
  Rng rng(seed);
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = i % 13 == 5 ? specials[(i / 13) % 10] : rng.uniform() * 100.0f;
  return v;
}

// The parallel threshold off (small arrays cross thread boundaries), restored on every exit.
struct ThresholdGuard {
  ThresholdGuard() { activation_set_parallel_threshold_for_testing(0); }
  ~ThresholdGuard() { activation_reset_tuning_for_testing(); }
};

}  // namespace

CK_TEST(binary_ops_match_reference_bit_for_bit) {
  ThresholdGuard guard;
  for (int o = 0; o < kBinaryOpCount; ++o) {
    const BinaryOp op = static_cast<BinaryOp>(o);
    for (size_t n : {0, 1, 7, 17, 64, 1000, 4099}) {
      const auto a = values(n, 11 + n), b = values(n, 29 + 3 * n);
      std::vector<float> want(n);
      binary_forward_ref(op, a.data(), b.data(), want.data(), n);
      for (int threads : {1, 2}) {
        std::vector<float> got(n, 12345.0f);
        binary_forward_with(threads, op, a.data(), b.data(), got.data(), n);
        for (size_t i = 0; i < n; ++i) {
          CK_CHECK(same_bits(got[i], want[i]), "op " << o << " n " << n << " t" << threads << " at " << i << ": "
                                                     << a[i] << " op " << b[i] << " gave " << got[i] << ", want "
                                                     << want[i]);
          if (ck_ctx.failed()) break;
        }
        std::vector<float> in_place = a;  // y aliases a
        binary_forward_with(threads, op, in_place.data(), b.data(), in_place.data(), n);
        for (size_t i = 0; i < n && !ck_ctx.failed(); ++i) {
          CK_CHECK(same_bits(in_place[i], want[i]), "in place, op " << o << " n " << n << " at " << i);
        }
      }
    }
  }
}

CK_TEST(binary_rejects_unknown_op) {
  float a = 1.0f, y = 0.0f;
  bool threw = false;
  try {
    binary_forward(static_cast<BinaryOp>(7), &a, &a, &y, 1);
  } catch (const Error& e) {
    threw = e.code() == ErrorCode::kArgument;
  }
  CK_CHECK(threw, "an unknown op must throw an argument error");
}

}  // namespace convkit::test
