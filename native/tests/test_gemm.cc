// GEMM: every path (scalar, AVX2, AVX-512 where the CPU has them) against compute_gemm_ref on
// awkward shapes, all transposes, alpha/beta (beta = 0 with NaN garbage in C), epilogues, 1 and 2
// threads, leading dimensions with NaN padding that must not be read, and shrunken cache blocks
// so small shapes cross every block boundary.
//
// Tolerance per element: |c - ref| <= 2 (k + 2) eps * (|alpha| sum_p |a_ip b_pj| + |beta c_ij| + |bias|),
// the standard float32 dot-product error bound with a factor of 2 of slack (eps = 2^-24).
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "kernels/gemm.h"
#include "kernels/gemm_pack.h"
#include "kernels/gemm_ukernel.h"
#include "runtime/error.h"
#include "runtime/isa.h"
#include "tests/harness.h"

namespace convkit::test {
namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

struct Case {
  GemmShape shape;
  float alpha = 1.0f, beta = 0.0f;
  BiasMode bias_mode = BiasMode::kNone;
  bool relu = false;
};

std::string describe(const Case& c) {
  std::ostringstream os;
  os << "m=" << c.shape.m << " n=" << c.shape.n << " k=" << c.shape.k << " ta=" << (c.shape.trans_a == Trans::kYes)
     << " tb=" << (c.shape.trans_b == Trans::kYes) << " lda=" << c.shape.lda << " ldb=" << c.shape.ldb
     << " ldc=" << c.shape.ldc << " alpha=" << c.alpha << " beta=" << c.beta
     << " bias=" << static_cast<int>(c.bias_mode) << " relu=" << c.relu;
  return os.str();
}

// Operands with NaN in the padding columns (ld > row length) so reading them would show.
struct Operands {
  std::vector<float> a, b, c0, bias;
};

Operands make_operands(const Case& c, Rng& rng) {
  const GemmShape& s = c.shape;
  const size_t a_rows = s.trans_a == Trans::kNo ? s.m : s.k, a_cols = s.trans_a == Trans::kNo ? s.k : s.m;
  const size_t b_rows = s.trans_b == Trans::kNo ? s.k : s.n, b_cols = s.trans_b == Trans::kNo ? s.n : s.k;
  Operands o;
  o.a.assign(a_rows * s.lda + 1, kNaN);
  o.b.assign(b_rows * s.ldb + 1, kNaN);
  o.c0.assign(s.m * s.ldc + 1, kNaN);
  for (size_t i = 0; i < a_rows; ++i)
    for (size_t j = 0; j < a_cols; ++j) o.a[i * s.lda + j] = rng.uniform();
  for (size_t i = 0; i < b_rows; ++i)
    for (size_t j = 0; j < b_cols; ++j) o.b[i * s.ldb + j] = rng.uniform();
  if (c.beta != 0.0f) {  // with beta == 0, C keeps its NaN garbage: it must not be read
    for (size_t i = 0; i < s.m; ++i)
      for (size_t j = 0; j < s.n; ++j) o.c0[i * s.ldc + j] = rng.uniform();
  }
  const size_t nb = c.bias_mode == BiasMode::kPerRow ? s.m : (c.bias_mode == BiasMode::kPerCol ? s.n : 0);
  for (size_t i = 0; i < nb; ++i) o.bias.push_back(rng.uniform());
  return o;
}

GemmEpilogue epilogue_of(const Case& c, const Operands& o) {
  GemmEpilogue ep;
  ep.bias_mode = c.bias_mode;
  ep.bias = o.bias.empty() ? nullptr : o.bias.data();
  ep.activation = c.relu ? Activation::kRelu : Activation::kNone;
  return ep;
}

// Error bound per element (see the file comment).
std::vector<double> error_bounds(const Case& c, const Operands& o) {
  const GemmShape& s = c.shape;
  std::vector<double> bound(s.m * s.n);
  const double eps = std::ldexp(1.0, -24);
  for (size_t i = 0; i < s.m; ++i) {
    for (size_t j = 0; j < s.n; ++j) {
      double sum = 0.0;
      for (size_t p = 0; p < s.k; ++p) {
        const float av = s.trans_a == Trans::kNo ? o.a[i * s.lda + p] : o.a[p * s.lda + i];
        const float bv = s.trans_b == Trans::kNo ? o.b[p * s.ldb + j] : o.b[j * s.ldb + p];
        sum += std::fabs(static_cast<double>(av) * bv);
      }
      double mag = std::fabs(c.alpha) * sum;
      if (c.beta != 0.0f) mag += std::fabs(c.beta * o.c0[i * s.ldc + j]);
      if (c.bias_mode == BiasMode::kPerRow) mag += std::fabs(o.bias[i]);
      if (c.bias_mode == BiasMode::kPerCol) mag += std::fabs(o.bias[j]);
      bound[i * s.n + j] = 2.0 * (static_cast<double>(s.k) + 2.0) * eps * mag + 1e-30;
    }
  }
  return bound;
}

// Runs one case on `isa` with `threads` and compares against the reference. Returns false on the
// first mismatch (after reporting it).
bool check_case(Context& ck_ctx, const Case& c, const Operands& o, const std::vector<float>& ref,
                const std::vector<double>& bound, Isa isa, int threads) {
  std::vector<float> out = o.c0;
  compute_gemm_with(isa, threads, c.shape, c.alpha, o.a.data(), o.b.data(), c.beta, out.data(), epilogue_of(c, o));
  const GemmShape& s = c.shape;
  for (size_t i = 0; i < s.m; ++i) {
    for (size_t j = 0; j < s.ldc; ++j) {
      const size_t idx = i * s.ldc + j;
      if (j >= s.n) {  // padding of C must be untouched (NaN stays NaN)
        if (!std::isnan(out[idx])) {
          CK_CHECK(false, isa_name(isa) << " t=" << threads << " " << describe(c) << ": wrote C padding at (" << i
                                        << "," << j << ")");
          return false;
        }
        continue;
      }
      const double diff = std::fabs(static_cast<double>(out[idx]) - ref[idx]);
      if (!(diff <= bound[i * s.n + j])) {
        CK_CHECK(false, isa_name(isa) << " t=" << threads << " " << describe(c) << ": C(" << i << "," << j
                                      << ") = " << out[idx] << ", reference " << ref[idx] << ", bound "
                                      << bound[i * s.n + j]);
        return false;
      }
    }
  }
  return true;
}

std::vector<Isa> supported_isas() {
  std::vector<Isa> isas;
  for (Isa isa : {Isa::kScalar, Isa::kAvx2, Isa::kAvx512}) {
    if (isa_supported(isa)) isas.push_back(isa);
  }
  return isas;
}

struct AlphaBeta {
  float alpha, beta;
};
constexpr AlphaBeta kAlphaBeta[] = {{1.0f, 0.0f}, {1.0f, 1.0f}, {-1.5f, 0.25f}, {0.5f, 0.0f}, {2.0f, -1.0f}};

Case make_case(size_t m, size_t n, size_t k, bool ta, bool tb, size_t pad, size_t variant) {
  Case c;
  c.shape.trans_a = ta ? Trans::kYes : Trans::kNo;
  c.shape.trans_b = tb ? Trans::kYes : Trans::kNo;
  c.shape.m = m;
  c.shape.n = n;
  c.shape.k = k;
  c.shape.lda = (ta ? m : k) + pad;
  c.shape.ldb = (tb ? k : n) + pad;
  c.shape.ldc = n + pad;
  const AlphaBeta ab = kAlphaBeta[variant % 5];
  c.alpha = ab.alpha;
  c.beta = ab.beta;
  c.bias_mode = static_cast<BiasMode>((variant / 5) % 3);
  c.relu = (variant / 15) % 2 == 1;
  return c;
}

// Compares every supported path at 1 and 2 threads on one case.
void run_case(Context& ck_ctx, const Case& c, uint64_t seed) {
  Rng rng(seed);
  const Operands o = make_operands(c, rng);
  std::vector<float> ref = o.c0;
  compute_gemm_ref(c.shape, c.alpha, o.a.data(), o.b.data(), c.beta, ref.data(), epilogue_of(c, o));
  const std::vector<double> bound = error_bounds(c, o);
  for (Isa isa : supported_isas()) {
    for (int threads : {1, 2}) {
      if (!check_case(ck_ctx, c, o, ref, bound, isa, threads)) return;
    }
  }
}

struct TuningGuard {
  TuningGuard() { gemm_set_parallel_threshold_for_testing(0.0); }  // every call uses all threads
  ~TuningGuard() { gemm_reset_tuning_for_testing(); }
};

}  // namespace

CK_TEST(gemm_every_small_shape_all_transposes) {
  TuningGuard guard;
  size_t variant = 0;
  for (size_t m = 1; m <= 33; ++m) {
    for (size_t n = 1; n <= 33; ++n) {
      for (size_t k = 1; k <= 33; ++k) {
        for (int t = 0; t < 4; ++t) {
          run_case(ck_ctx, make_case(m, n, k, t & 1, t & 2, (m + n + k) % 3, variant), variant);
          ++variant;
          if (ck_ctx.failures() >= 10) return;
        }
      }
    }
  }
}

CK_TEST(gemm_sampled_shapes_34_to_300) {
  TuningGuard guard;
  Rng pick(2024);
  auto awkward = [&pick]() {
    size_t v;
    do v = 34 + pick.below(267); while (v % 8 == 0);  // not a multiple of any tile or block size
    return v;
  };
  for (size_t i = 0; i < 120; ++i) {
    const size_t m = awkward(), n = awkward(), k = awkward();
    run_case(ck_ctx, make_case(m, n, k, i & 1, i & 2, i % 5 == 0 ? 7 : 0, i), 1000 + i);
    if (ck_ctx.failures() >= 10) return;
  }
}

CK_TEST(gemm_shrunken_blocks_cross_every_boundary) {
  TuningGuard guard;
  Rng pick(7);
  for (size_t i = 0; i < 60; ++i) {
    GemmBlocking blocking;
    blocking.kc = 5 + pick.below(40);
    blocking.mc = 1 + pick.below(40);
    blocking.nc = 1 + pick.below(70);
    gemm_set_blocking_for_testing(blocking);
    const size_t m = 1 + pick.below(150), n = 1 + pick.below(150), k = 1 + pick.below(150);
    run_case(ck_ctx, make_case(m, n, k, i & 1, i & 2, i % 3, i), 5000 + i);
    if (ck_ctx.failures() >= 10) return;
  }
}

CK_TEST(gemm_deep_k_and_tall_m_with_default_blocks) {
  TuningGuard guard;
  run_case(ck_ctx, make_case(37, 45, 1000, false, false, 0, 16), 1);  // k crosses KC twice
  run_case(ck_ctx, make_case(1700, 20, 50, true, false, 0, 7), 2);    // m crosses MC
  run_case(ck_ctx, make_case(20, 1400, 40, false, true, 3, 22), 3);   // n crosses NC * threads
}

CK_TEST(gemm_narrow_output_swapped_orientation) {
  TuningGuard guard;
  run_case(ck_ctx, make_case(512, 49, 120, false, false, 0, 25), 11);  // conv-like m=512, n=49
  run_case(ck_ctx, make_case(300, 1, 64, true, true, 2, 17), 12);      // matrix-vector
  run_case(ck_ctx, make_case(4200, 3, 40, false, false, 0, 23), 13);   // m crosses the swap chunk
}

// A few rows against a transposed B (a fully connected layer on a small batch) takes the dot-product
// path: columns in tasks of 64 (n = 200 crosses three), k with a vector tail, B past the size that
// splits the columns over two threads, rows in groups of 4 up to 16, every epilogue.
CK_TEST(gemm_few_rows_transposed_b) {
  TuningGuard guard;
  size_t variant = 0;
  for (size_t m : {1, 2, 3, 4, 5, 9, 16}) {
    run_case(ck_ctx, make_case(m, 200, 1283, false, true, m % 2 == 0 ? 3 : 0, variant), 7000 + variant);
    ++variant;
    run_case(ck_ctx, make_case(m, 70, 33, false, true, 0, variant), 7000 + variant);
    ++variant;
    if (ck_ctx.failures() >= 10) return;
  }
}

// ... and every row's outputs are the same bit for bit whatever the other rows (a batch of images
// classifies each image as it would alone).
CK_TEST(gemm_few_rows_each_row_as_alone) {
  Rng rng(77);
  const size_t m = 11, n = 150, k = 700;
  std::vector<float> a(m * k), b(n * k);
  for (float& v : a) v = rng.uniform();
  for (float& v : b) v = rng.uniform();
  GemmShape s;
  s.trans_b = Trans::kYes;
  s.n = n;
  s.k = k;
  s.lda = s.ldb = k;
  s.ldc = n;
  for (Isa isa : supported_isas()) {
    s.m = m;
    std::vector<float> all(m * n);
    compute_gemm_with(isa, 2, s, 1.0f, a.data(), b.data(), 0.0f, all.data(), GemmEpilogue{});
    s.m = 1;
    for (size_t i = 0; i < m; ++i) {
      std::vector<float> one(n);
      compute_gemm_with(isa, 1, s, 1.0f, a.data() + i * k, b.data(), 0.0f, one.data(), GemmEpilogue{});
      for (size_t j = 0; j < n; ++j) {
        if (one[j] != all[i * n + j]) {
          CK_CHECK(false, isa_name(isa) << ": row " << i << " column " << j << " alone " << one[j] << ", in the batch "
                                        << all[i * n + j]);
          return;
        }
      }
    }
  }
}

CK_TEST(gemm_alpha_zero_and_k_zero_do_not_read_operands) {
  for (Isa isa : supported_isas()) {
    GemmShape s;
    s.m = 3;
    s.n = 5;
    s.k = 4;
    s.lda = 4;
    s.ldb = 5;
    s.ldc = 5;
    std::vector<float> a(12, kNaN), b(20, kNaN), c(15, 2.0f);
    compute_gemm_with(isa, 1, s, 0.0f, a.data(), b.data(), 0.5f, c.data());
    for (float v : c) CK_CHECK(v == 1.0f, isa_name(isa) << ": alpha=0 gave " << v);
    s.k = 0;
    compute_gemm_with(isa, 1, s, 1.0f, nullptr, nullptr, 0.0f, c.data());
    for (float v : c) CK_CHECK(v == 0.0f, isa_name(isa) << ": k=0 beta=0 gave " << v);
    std::vector<float> bias = {1.0f, -2.0f, 3.0f};
    GemmEpilogue ep;
    ep.bias_mode = BiasMode::kPerRow;
    ep.bias = bias.data();
    ep.activation = Activation::kRelu;
    compute_gemm_with(isa, 1, s, 1.0f, nullptr, nullptr, 0.0f, c.data(), ep);
    CK_CHECK(c[0] == 1.0f && c[5] == 0.0f && c[14] == 3.0f, isa_name(isa) << ": k=0 epilogue");
  }
}

CK_TEST(gemm_relu_keeps_nan) {
  // PyTorch's relu(NaN) is NaN; the fused epilogue must not turn a NaN product into 0.
  for (Isa isa : supported_isas()) {
    for (size_t n : {16, 32, 5}) {
      GemmShape s;
      s.m = 2;
      s.n = n;
      s.k = 3;
      s.lda = 3;
      s.ldb = n;
      s.ldc = n;
      std::vector<float> a = {1, 2, 3, 4, 5, 6}, b(3 * n, -1.0f), c(2 * n, 0.0f);
      b[0] = kNaN;
      GemmEpilogue ep;
      ep.activation = Activation::kRelu;
      compute_gemm_with(isa, 1, s, 1.0f, a.data(), b.data(), 0.0f, c.data(), ep);
      CK_CHECK(std::isnan(c[0]) && std::isnan(c[n]), isa_name(isa) << " n=" << n << ": NaN lost by ReLU");
      CK_CHECK(c[1] == 0.0f, isa_name(isa) << " n=" << n << ": negative not clamped");
    }
  }
}

CK_TEST(gemm_rejects_bad_leading_dimensions) {
  GemmShape s;
  s.m = 4;
  s.n = 4;
  s.k = 4;
  s.lda = 3;
  s.ldb = 4;
  s.ldc = 4;
  std::vector<float> buf(64, 0.0f);
  bool threw = false;
  try {
    compute_gemm(s, 1.0f, buf.data(), buf.data(), 0.0f, buf.data());
  } catch (const Error& e) {
    threw = e.code() == ErrorCode::kArgument && std::string(e.what()).find("lda = 3") != std::string::npos;
  }
  CK_CHECK(threw, "lda < k was not rejected with a clear message");
}

CK_TEST(gemm_unsupported_isa_is_an_error) {
  Isa missing = Isa::kScalar;
  for (Isa isa : {Isa::kAvx512, Isa::kAvx2}) {
    if (!isa_supported(isa)) missing = isa;
  }
  if (missing == Isa::kScalar) {
    ck_ctx.skip("this CPU supports every path");
    return;
  }
  bool threw = false;
  try {
    GemmShape s;
    compute_gemm_with(missing, 1, s, 1.0f, nullptr, nullptr, 0.0f, nullptr);
  } catch (const Error& e) {
    threw = e.code() == ErrorCode::kUnsupportedCpu;
  }
  CK_CHECK(threw, "forcing " << isa_name(missing) << " did not raise kUnsupportedCpu");
}

CK_TEST(gemm_pack_layouts) {
  // pack_a: panels of [p][r]; pack_b: panels of [p][j]; zero padding past the edge.
  Rng rng(3);
  const size_t rows = 7, cols = 5;
  std::vector<float> m(rows * cols);
  for (float& v : m) v = rng.uniform();
  const StridedView plain{m.data(), static_cast<ptrdiff_t>(cols), 1};
  const StridedView transposed{m.data(), 1, static_cast<ptrdiff_t>(cols)};  // cols x rows view
  std::vector<float> out(64 * 8, -7.0f);
  pack_a_panels(plain, 1, 6, 1, 3, 4, out.data());  // rows 1..6, k 1..3, mr 4 -> 2 panels
  for (size_t panel = 0; panel < 2; ++panel)
    for (size_t p = 0; p < 3; ++p)
      for (size_t r = 0; r < 4; ++r) {
        const size_t row = 1 + panel * 4 + r;
        const float want = row < 7 ? m[row * cols + 1 + p] : 0.0f;
        CK_CHECK(out[panel * 12 + p * 4 + r] == want, "pack_a panel " << panel << " p " << p << " r " << r);
      }
  pack_b_panels(transposed, 0, 5, 2, 5, 4, out.data());  // view rows (k) 0..4, cols 2..6, nr 4
  for (size_t panel = 0; panel < 2; ++panel)
    for (size_t p = 0; p < 5; ++p)
      for (size_t j = 0; j < 4; ++j) {
        const size_t col = 2 + panel * 4 + j;
        const float want = col < 7 ? m[col * cols + p] : 0.0f;
        CK_CHECK(out[panel * 20 + p * 4 + j] == want, "pack_b panel " << panel << " p " << p << " j " << j);
      }
}

}  // namespace convkit::test

namespace convkit::test {

// The SIMD packing routines of each path produce exactly the portable layout (zero padding included).
CK_TEST(gemm_simd_packing_matches_portable_packing) {
  std::vector<const GemmUkernel*> kernels = {&gemm_ukernel_scalar()};
#if defined(CONVKIT_HAVE_X86_KERNELS)
  if (isa_supported(Isa::kAvx2)) kernels.push_back(&gemm_ukernel_avx2());
  if (isa_supported(Isa::kAvx512)) kernels.push_back(&gemm_ukernel_avx512());
#endif
  Rng rng(99);
  const size_t ld = 83;
  std::vector<float> src(ld * ld);
  for (float& v : src) v = rng.uniform();
  for (const GemmUkernel* uk : kernels) {
    for (size_t rows = 1; rows <= 2 * uk->nr + 3; rows += 1) {
      for (size_t kc : {1, 7, 15, 16, 17, 31, 40}) {
        for (int layout = 0; layout < 2; ++layout) {
          const StridedView view = layout == 0 ? StridedView{src.data() + 3, static_cast<ptrdiff_t>(ld), 1}
                                               : StridedView{src.data() + 3, 1, static_cast<ptrdiff_t>(ld)};
          const size_t a_size = (rows + uk->mr) * kc, b_size = (rows + uk->nr) * kc;
          std::vector<float> want(a_size + b_size, -1.0f), got(a_size + b_size, -1.0f);
          pack_a_panels(view, 2, rows, 5, kc, uk->mr, want.data());
          if (uk->pack_a != nullptr) uk->pack_a(view, 2, rows, 5, kc, got.data());
          else pack_a_panels(view, 2, rows, 5, kc, uk->mr, got.data());
          // B: view as k x cols; reuse `rows` as the column count.
          const StridedView bview{view.p, view.cs, view.rs};
          pack_b_panels(bview, 5, kc, 2, rows, uk->nr, want.data() + a_size);
          if (uk->pack_b != nullptr) uk->pack_b(bview, 5, kc, 2, rows, got.data() + a_size);
          else pack_b_panels(bview, 5, kc, 2, rows, uk->nr, got.data() + a_size);
          for (size_t i = 0; i < want.size(); ++i) {
            if (want[i] != got[i]) {
              CK_CHECK(false, uk->name << " layout " << layout << " rows/cols " << rows << " kc " << kc << ": "
                                        << (i < a_size ? "pack_a" : "pack_b") << " differs at " << i);
              return;
            }
          }
        }
      }
    }
  }
}

}  // namespace convkit::test
