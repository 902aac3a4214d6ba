// Pooling: every path (scalar, AVX2, AVX-512 where the CPU has them) against the reference loops on
// awkward geometries (1-D, 2-D, 3-D; sizes 1..13; kernels 1..4, strides 1..3, dilation 1..3, all legal
// paddings, ceil mode on and off), 1 and 2 threads, with ties, -inf and NaN in the inputs.
//
// Max pooling must match the reference exactly (values bitwise, NaN as NaN, indices equal): it
// only compares and copies. Average pooling sums in a different order (separable vs one window at
// a time, the reference in double), so each element may differ by the float32 error of a sum of
// the window: |y - ref| <= 2 (taps + 2) eps * (sum |x| over the window) / divisor, eps = 2^-24; the
// backward likewise, per input element, with the sum of |gy| / divisor over the windows covering it.
#include <cmath>
#include <cstdint>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "kernels/pool.h"
#include "runtime/error.h"
#include "runtime/isa.h"
#include "tests/harness.h"

namespace convkit::test {
namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();

std::string describe(const PoolGeometry& g) {
  std::ostringstream os;
  os << "planes=" << g.planes << " in=" << g.in[0] << "x" << g.in[1] << "x" << g.in[2] << " k=" << g.kernel[0] << "x"
     << g.kernel[1] << "x" << g.kernel[2] << " s=" << g.stride[0] << "x" << g.stride[1] << "x" << g.stride[2]
     << " p=" << g.padding[0] << "x" << g.padding[1] << "x" << g.padding[2] << " d=" << g.dilation[0] << "x"
     << g.dilation[1] << "x" << g.dilation[2] << " ceil=" << g.ceil_mode;
  return os.str();
}

std::vector<Isa> paths() {
  std::vector<Isa> out;
  for (Isa isa : {Isa::kScalar, Isa::kAvx2, Isa::kAvx512})
    if (isa_supported(isa)) out.push_back(isa);
  return out;
}

bool same_float(float a, float b) { return (a != a && b != b) || a == b; }

// A random legal geometry over `dims` spatial axes (the others are size 1, kernel 1).
bool random_geometry(Rng& rng, int dims, bool dilated, PoolGeometry& g) {
  g = PoolGeometry{};
  g.planes = 1 + rng.below(4);
  g.ceil_mode = rng.below(2) == 1;
  for (int a = 0; a < 3; ++a) {
    const bool pooled = a >= 3 - dims;
    g.in[a] = pooled ? 1 + rng.below(13) : 1;
    g.kernel[a] = pooled ? 1 + rng.below(4) : 1;
    g.stride[a] = pooled ? 1 + rng.below(3) : 1;
    g.dilation[a] = pooled && dilated ? 1 + rng.below(3) : 1;
    g.padding[a] = pooled ? rng.below(g.kernel[a] / 2 + 1) : 0;
  }
  try {
    make_pool_geometry(g, "test");
    return true;
  } catch (const Error&) {
    return false;  // window larger than the padded input
  }
}

// Inputs with many ties (small integers), some -inf rows, and NaN where asked.
std::vector<float> make_input(Rng& rng, size_t n, bool specials) {
  std::vector<float> x(n);
  for (float& v : x) v = static_cast<float>(static_cast<int>(rng.below(7)) - 3);
  if (specials) {
    for (float& v : x) {
      const size_t r = rng.below(40);
      if (r == 0) v = kNaN;
      if (r == 1 || r == 2) v = -kInf;
    }
  }
  return x;
}

// Three h x w planes under a k x k, stride-2 window with `pad` on every side.
PoolGeometry stride2_geometry(size_t h, size_t w, size_t k, size_t pad, bool ceil_mode) {
  PoolGeometry g{};
  g.planes = 3;
  g.in[0] = 1;
  g.in[1] = h;
  g.in[2] = w;
  g.kernel[0] = 1;
  g.kernel[1] = g.kernel[2] = k;
  g.stride[0] = 1;
  g.stride[1] = g.stride[2] = 2;
  g.padding[1] = g.padding[2] = pad;
  g.dilation[0] = g.dilation[1] = g.dilation[2] = 1;
  g.ceil_mode = ceil_mode;
  make_pool_geometry(g, "max_pool2d");
  return g;
}

}  // namespace

CK_TEST(pool_output_size_matches_pytorch) {
  // Values from torch 1.13: max_pool2d on 7x9 with kernel 2, stride 2, padding 1, ceil_mode -> 4x5;
  // 5 with kernel 2, stride 2, padding 1, ceil_mode -> 3 (the last window would start in the padding).
  CK_CHECK(pool_output_size(7, 2, 2, 1, 1, true) == 4, "");
  CK_CHECK(pool_output_size(9, 2, 2, 1, 1, true) == 5, "");
  CK_CHECK(pool_output_size(5, 2, 2, 1, 1, true) == 3, "");
  CK_CHECK(pool_output_size(112, 3, 2, 1, 1, false) == 56, "");
  CK_CHECK(pool_output_size(7, 3, 2, 0, 1, false) == 3, "");
  CK_CHECK(pool_output_size(8, 3, 2, 0, 1, true) == 4, "");
  CK_CHECK(pool_output_size(8, 3, 2, 0, 1, false) == 3, "");
  CK_CHECK(pool_output_size(9, 3, 1, 0, 2, false) == 5, "");
  CK_CHECK(pool_output_size(2, 5, 5, 0, 1, false) == 0, "");
}

CK_TEST(pool_geometry_errors) {
  PoolGeometry g{};
  g.planes = 1;
  for (int a = 0; a < 3; ++a) {
    g.in[a] = a == 0 ? 1 : 7;
    g.kernel[a] = a == 0 ? 1 : 3;
    g.stride[a] = 1;
    g.dilation[a] = 1;
    g.padding[a] = a == 0 ? 0 : 2;
  }
  try {
    make_pool_geometry(g, "max_pool2d");
    CK_CHECK(false, "padding 2 with kernel 3 must be refused");
  } catch (const Error& e) {
    CK_CHECK(e.code() == ErrorCode::kArgument, "code");
    CK_CHECK(std::string(e.what()) ==
                 "max_pool2d: padding should be at most half of kernel size, but got padding=2 and kernel_size=3 along height",
             e.what());
  }
  g.padding[1] = g.padding[2] = 0;
  g.in[1] = g.in[2] = 2;
  g.kernel[1] = g.kernel[2] = 5;
  try {
    make_pool_geometry(g, "max_pool2d");
    CK_CHECK(false, "a window larger than the input must be refused");
  } catch (const Error& e) {
    CK_CHECK(e.code() == ErrorCode::kShape, "code");
    CK_CHECK(std::string(e.what()) ==
                 "max_pool2d: input size 1x2x2 is too small for the window: the output size would be 1x-2x-2",
             e.what());
  }
  // A window made only of padding (kernel 2, dilation 3, padding 1 on an input of 2).
  g.in[1] = 1;
  g.kernel[1] = 1;
  g.in[2] = 2;
  g.kernel[2] = 2;
  g.dilation[2] = 3;
  g.padding[2] = 1;
  try {
    make_pool_geometry(g, "max_pool1d");
    CK_CHECK(false, "a window of padding only must be refused");
  } catch (const Error& e) {
    CK_CHECK(e.code() == ErrorCode::kArgument, "code");
    CK_CHECK(std::string(e.what()) ==
                 "max_pool1d: the window of output 0 along width holds only padding (kernel_size=2, dilation=3, "
                 "padding=1, input size 2)",
             e.what());
  }
  g.kernel[1] = 0;
  try {
    make_pool_geometry(g, "max_pool2d");
    CK_CHECK(false, "kernel 0 must be refused");
  } catch (const Error& e) {
    CK_CHECK(e.code() == ErrorCode::kArgument, e.what());
  }
}

CK_TEST(max_pool_paths_match_reference) {
  Rng rng(11);
  int cases = 0;
  for (int iter = 0; iter < 600; ++iter) {
    const int dims = 1 + iter % 3;
    PoolGeometry g;
    if (!random_geometry(rng, dims, true, g)) continue;
    ++cases;
    const size_t in_n = g.planes * pool_in_plane(g), out_n = g.planes * pool_out_plane(g);
    const std::vector<float> x = make_input(rng, in_n, iter % 2 == 0);
    std::vector<float> y_ref(out_n), y(out_n);
    std::vector<int32_t> i_ref(out_n), idx(out_n);
    max_pool_forward_ref(g, x.data(), y_ref.data(), i_ref.data());
    for (Isa isa : paths()) {
      for (int threads : {1, 2}) {
        for (bool with_indices : {true, false}) {
          std::fill(y.begin(), y.end(), 12345.0f);
          std::fill(idx.begin(), idx.end(), -7);
          max_pool_forward_with(isa, threads, g, x.data(), y.data(), with_indices ? idx.data() : nullptr);
          for (size_t o = 0; o < out_n; ++o) {
            if (!same_float(y[o], y_ref[o]) || (with_indices && idx[o] != i_ref[o])) {
              CK_CHECK(false, isa_name(isa) << " threads=" << threads << " " << describe(g) << " at " << o << ": "
                                            << y[o] << "@" << idx[o] << " vs " << y_ref[o] << "@" << i_ref[o]);
              break;
            }
          }
          if (!with_indices) CK_CHECK(idx[0] == -7, "indices written though not asked for");
        }
      }
    }
  }
  CK_CHECK(cases > 300, "too few legal geometries: " << cases);
}

// The direct 2x2/2 path (see pool.cc), including an odd trailing row and column that floor mode
// drops, ceil-mode shapes that fall back to the general path, and special values (ties, NaN, inf).
CK_TEST(max_pool_2x2_stride_2_matches_reference) {
  Rng rng(5);
  for (size_t h : {2, 3, 7, 28}) {
    for (size_t w : {2, 5, 10, 29}) {
      for (bool ceil_mode : {false, true}) {
        const PoolGeometry g = stride2_geometry(h, w, 2, 0, ceil_mode);
        const size_t in_n = g.planes * pool_in_plane(g), out_n = g.planes * pool_out_plane(g);
        const std::vector<float> x = make_input(rng, in_n, true);
        std::vector<float> y_ref(out_n), y(out_n);
        std::vector<int32_t> i_ref(out_n), idx(out_n);
        max_pool_forward_ref(g, x.data(), y_ref.data(), i_ref.data());
        for (int threads : {1, 2}) {
          max_pool_forward_with(active_isa(), threads, g, x.data(), y.data(), idx.data());
          for (size_t o = 0; o < out_n; ++o) {
            if (!same_float(y[o], y_ref[o]) || idx[o] != i_ref[o]) {
              CK_CHECK(false, describe(g) << " threads=" << threads << " at " << o << ": " << y[o] << "@" << idx[o]
                                          << " vs " << y_ref[o] << "@" << i_ref[o]);
              return;
            }
          }
        }
      }
    }
  }
}

// Stride-2 windows of 2x2 and 3x3 with padding 0 or 1, values only (the AVX-512 path reads whole
// vectors of rows and splits columns into even and odd with permutes): rows shorter than, equal to
// and longer than a vector with tails, floor and ceil mode, NaN, infinities and ties.
CK_TEST(max_pool_stride_2_values_match_reference) {
  Rng rng(21);
  for (size_t k : {2, 3}) {
    for (size_t pad : {0, 1}) {
      if (2 * pad > k) continue;
      for (size_t h : {1, 2, 5, 8}) {
        for (size_t w : {3, 16, 17, 33, 112}) {
          for (bool ceil_mode : {false, true}) {
            if (h + 2 * pad < k) continue;
            const PoolGeometry g = stride2_geometry(h, w, k, pad, ceil_mode);
            const size_t in_n = g.planes * pool_in_plane(g), out_n = g.planes * pool_out_plane(g);
            const std::vector<float> x = make_input(rng, in_n, true);
            std::vector<float> y_ref(out_n), y(out_n);
            std::vector<int32_t> i_ref(out_n);
            max_pool_forward_ref(g, x.data(), y_ref.data(), i_ref.data());
            for (Isa isa : paths()) {
              for (int threads : {1, 2}) {
                std::fill(y.begin(), y.end(), 12345.0f);
                max_pool_forward_with(isa, threads, g, x.data(), y.data(), nullptr);
                for (size_t o = 0; o < out_n; ++o) {
                  if (!same_float(y[o], y_ref[o])) {
                    CK_CHECK(false, isa_name(isa) << " threads=" << threads << " " << describe(g) << " at " << o << ": "
                                                  << y[o] << " vs " << y_ref[o]);
                    return;
                  }
                }
              }
            }
          }
        }
      }
    }
  }
}

CK_TEST(max_pool_backward_scatters_to_argmax) {
  Rng rng(12);
  for (int iter = 0; iter < 200; ++iter) {
    PoolGeometry g;
    if (!random_geometry(rng, 1 + iter % 3, true, g)) continue;
    const size_t in_plane = pool_in_plane(g), out_plane = pool_out_plane(g);
    const std::vector<float> x = make_input(rng, g.planes * in_plane, false);
    std::vector<float> y(g.planes * out_plane), gy(g.planes * out_plane);
    std::vector<int32_t> idx(g.planes * out_plane);
    for (float& v : gy) v = rng.uniform();
    max_pool_forward_ref(g, x.data(), y.data(), idx.data());
    std::vector<float> gx_ref(g.planes * in_plane), gx(g.planes * in_plane, kNaN);
    index_pool_backward_ref(g.planes, in_plane, out_plane, gy.data(), idx.data(), gx_ref.data());
    for (int threads : {1, 2}) {
      std::fill(gx.begin(), gx.end(), kNaN);  // must be fully overwritten
      index_pool_backward_with(threads, g.planes, in_plane, out_plane, gy.data(), idx.data(), gx.data());
      for (size_t i = 0; i < gx.size(); ++i) {
        if (gx[i] != gx_ref[i]) {
          CK_CHECK(false, describe(g) << " threads=" << threads << " at " << i << ": " << gx[i] << " vs " << gx_ref[i]);
          break;
        }
      }
    }
  }
  // An index outside the plane is an error, not a write out of bounds.
  std::vector<float> gy(4, 1.0f), gx(8);
  std::vector<int32_t> idx = {0, 1, 8, 2};
  for (int threads : {1, 2}) {
    try {
      index_pool_backward_with(threads, 2, 4, 2, gy.data(), idx.data(), gx.data());
      CK_CHECK(false, "index 8 in a plane of 4 must be refused");
    } catch (const Error& e) {
      CK_CHECK(e.code() == ErrorCode::kArgument, e.what());
    }
  }
  idx = {0, 1, -1, 2};
  try {
    index_pool_backward(2, 4, 2, gy.data(), idx.data(), gx.data());
    CK_CHECK(false, "index -1 must be refused");
  } catch (const Error& e) {
    CK_CHECK(e.code() == ErrorCode::kArgument, e.what());
  }
}

CK_TEST(avg_pool_paths_match_reference) {
  Rng rng(13);
  const double eps = std::ldexp(1.0, -24);
  int cases = 0;
  for (int iter = 0; iter < 600; ++iter) {
    PoolGeometry g;
    if (!random_geometry(rng, 1 + iter % 3, false, g)) continue;
    ++cases;
    AvgPoolOptions opts{rng.below(2) == 1, rng.below(4) == 0 ? static_cast<int64_t>(1 + rng.below(9)) : 0};
    const size_t in_plane = pool_in_plane(g), out_plane = pool_out_plane(g);
    std::vector<float> x(g.planes * in_plane), gy(g.planes * out_plane);
    for (float& v : x) v = rng.uniform();
    for (float& v : gy) v = rng.uniform();
    std::vector<float> y_ref(gy.size()), y(gy.size()), gx_ref(x.size()), gx(x.size());
    avg_pool_forward_ref(g, opts, x.data(), y_ref.data());
    avg_pool_backward_ref(g, opts, gy.data(), gx_ref.data());
    // Error bounds: taps per window and |values| are at most 4^3 and 1; divisors are >= 1.
    const double taps = static_cast<double>(g.kernel[0] * g.kernel[1] * g.kernel[2]);
    const double bound = 2.0 * (taps + 2.0) * eps * taps;
    for (Isa isa : paths()) {
      for (int threads : {1, 2}) {
        std::fill(y.begin(), y.end(), kNaN);
        std::fill(gx.begin(), gx.end(), kNaN);
        avg_pool_forward_with(isa, threads, g, opts, x.data(), y.data());
        avg_pool_backward_with(isa, threads, g, opts, gy.data(), gx.data());
        for (size_t o = 0; o < y.size(); ++o) {
          if (!(std::fabs(y[o] - y_ref[o]) <= bound)) {
            CK_CHECK(false, isa_name(isa) << " threads=" << threads << " " << describe(g) << " cip="
                                          << opts.count_include_pad << " div=" << opts.divisor_override << " y at "
                                          << o << ": " << y[o] << " vs " << y_ref[o]);
            break;
          }
        }
        for (size_t i = 0; i < gx.size(); ++i) {
          if (!(std::fabs(gx[i] - gx_ref[i]) <= bound)) {
            CK_CHECK(false, isa_name(isa) << " threads=" << threads << " " << describe(g) << " cip="
                                          << opts.count_include_pad << " div=" << opts.divisor_override << " gx at "
                                          << i << ": " << gx[i] << " vs " << gx_ref[i]);
            break;
          }
        }
      }
    }
  }
  CK_CHECK(cases > 300, "too few legal geometries: " << cases);
}

CK_TEST(avg_pool_divisor_rules) {
  // 1-D, in = 5, kernel 3, stride 2, padding 1, ceil mode: windows [-1,2) [1,4) [3,6): the last one is
  // clipped to the padded input [.., 6) -> size 3 with padding counted, 2 inside the input.
  PoolGeometry g{};
  g.planes = 1;
  for (int a = 0; a < 3; ++a) {
    g.in[a] = a == 2 ? 5 : 1;
    g.kernel[a] = a == 2 ? 3 : 1;
    g.stride[a] = a == 2 ? 2 : 1;
    g.padding[a] = a == 2 ? 1 : 0;
    g.dilation[a] = 1;
  }
  g.ceil_mode = true;
  make_pool_geometry(g, "avg_pool1d");
  CK_CHECK(g.out[2] == 3, g.out[2]);
  const float x[5] = {1, 2, 3, 4, 5};
  for (Isa isa : paths()) {
    float y[3];
    avg_pool_forward_with(isa, 1, g, AvgPoolOptions{true, 0}, x, y);
    CK_CHECK(y[0] == 1.0f && y[1] == 3.0f && y[2] == 3.0f, isa_name(isa) << ": " << y[0] << " " << y[1] << " " << y[2]);
    avg_pool_forward_with(isa, 1, g, AvgPoolOptions{false, 0}, x, y);
    CK_CHECK(y[0] == 1.5f && y[1] == 3.0f && y[2] == 4.5f, isa_name(isa) << ": " << y[0] << " " << y[1] << " " << y[2]);
    avg_pool_forward_with(isa, 1, g, AvgPoolOptions{false, 2}, x, y);
    CK_CHECK(y[0] == 1.5f && y[1] == 4.5f && y[2] == 4.5f, isa_name(isa) << ": " << y[0] << " " << y[1] << " " << y[2]);
  }
  g.dilation[2] = 2;
  try {
    float y[3];
    avg_pool_forward(g, AvgPoolOptions{true, 0}, x, y);
    CK_CHECK(false, "dilation 2 must be refused for average pooling");
  } catch (const Error& e) {
    CK_CHECK(e.code() == ErrorCode::kArgument, e.what());
  }
}

CK_TEST(max_pool_large_plane_two_threads) {
  // The benchmark's geometry (3x3/2, padding 1) on a smaller batch: paths agree with the reference.
  PoolGeometry g{};
  g.planes = 6;
  const size_t in[3] = {1, 37, 45}, k[3] = {1, 3, 3}, s[3] = {1, 2, 2}, p[3] = {0, 1, 1};
  for (int a = 0; a < 3; ++a) {
    g.in[a] = in[a];
    g.kernel[a] = k[a];
    g.stride[a] = s[a];
    g.padding[a] = p[a];
    g.dilation[a] = 1;
  }
  g.ceil_mode = false;
  make_pool_geometry(g, "max_pool2d");
  Rng rng(14);
  std::vector<float> x(g.planes * pool_in_plane(g));
  for (float& v : x) v = rng.uniform();
  const size_t out_n = g.planes * pool_out_plane(g);
  std::vector<float> y_ref(out_n), y(out_n);
  std::vector<int32_t> i_ref(out_n), idx(out_n);
  max_pool_forward_ref(g, x.data(), y_ref.data(), i_ref.data());
  for (Isa isa : paths()) {
    max_pool_forward_with(isa, 2, g, x.data(), y.data(), idx.data());
    CK_CHECK(y == y_ref && idx == i_ref, isa_name(isa));
  }
}

CK_TEST(adaptive_pool_windows) {
  // in 5 -> out 3: windows [0,2) [1,4) [3,5) (PyTorch's floor / ceil rule).
  AdaptivePoolGeometry g{1, {1, 1, 5}, {1, 1, 3}};
  const float x[5] = {1, 7, 3, 4, -5};
  float y[3];
  int32_t idx[3];
  adaptive_avg_pool_forward(g, x, y);
  CK_CHECK(y[0] == 4.0f && y[1] == 14.0f / 3.0f && y[2] == -0.5f, y[0] << " " << y[1] << " " << y[2]);
  adaptive_max_pool_forward(g, x, y, idx);
  CK_CHECK(y[0] == 7.0f && y[1] == 7.0f && y[2] == 4.0f, y[0] << " " << y[1] << " " << y[2]);
  CK_CHECK(idx[0] == 1 && idx[1] == 1 && idx[2] == 3, idx[0] << " " << idx[1] << " " << idx[2]);
  const float gy[3] = {2, 3, 4};
  float gx[5];
  adaptive_avg_pool_backward(g, gy, gx);
  CK_CHECK(gx[0] == 1.0f && gx[1] == 2.0f && gx[2] == 1.0f && gx[3] == 3.0f && gx[4] == 2.0f,
           gx[0] << " " << gx[1] << " " << gx[2] << " " << gx[3] << " " << gx[4]);
  // Global pooling of a 2 x 3 plane, NaN propagates through max.
  AdaptivePoolGeometry gl{2, {1, 2, 3}, {1, 1, 1}};
  const float x2[12] = {1, 2, 3, 4, 5, 6, 1, kNaN, 9, 9, 2, kNaN};
  float y2[2];
  int32_t i2[2];
  adaptive_max_pool_forward(gl, x2, y2, i2);
  CK_CHECK(y2[0] == 6.0f && i2[0] == 5 && y2[1] != y2[1] && i2[1] == 5, y2[0] << "@" << i2[0] << " " << y2[1] << "@" << i2[1]);
  adaptive_avg_pool_forward(gl, x2, y2);
  CK_CHECK(y2[0] == 3.5f && y2[1] != y2[1], y2[0] << " " << y2[1]);
  try {
    check_adaptive_pool(AdaptivePoolGeometry{1, {1, 0, 3}, {1, 1, 1}}, "adaptive_avg_pool2d");
    CK_CHECK(false, "a zero input size must be refused");
  } catch (const Error& e) {
    CK_CHECK(e.code() == ErrorCode::kShape, e.what());
  }
}

}  // namespace convkit::test
