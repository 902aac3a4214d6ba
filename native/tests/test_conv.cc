// Convolution: forward, backward-data and backward-weight of every implementation (implicit-im2col
// GEMM with image batching, pointwise GEMM, flipped-kernel backward, col2im backward, depthwise
// direct) against the direct-loop reference, on 1-D, 2-D and 3-D shapes with odd sizes, strides,
// asymmetric padding, dilation, groups and channel multipliers, on every supported path at 1 and 2
// threads. Tolerance per element: 4 (terms + 2) eps * (sum of |products|), terms = the number of
// products summed, eps = 2^-24 (float32 accumulation in a different order).
#include <cmath>
#include <vector>

#include "kernels/conv.h"
#include "runtime/error.h"
#include "runtime/isa.h"
#include "runtime/threads.h"
#include "tests/harness.h"

namespace convkit::test {
namespace {

struct ConvCase {
  ConvParams p;
  bool bias = true;
  Activation act = Activation::kNone;
};

ConvParams make(size_t n, size_t ci, size_t co, size_t groups, std::vector<size_t> in, std::vector<size_t> k,
                std::vector<size_t> stride, std::vector<size_t> pb, std::vector<size_t> pe, std::vector<size_t> dil) {
  ConvParams p;
  p.batch = n;
  p.in_channels = ci;
  p.out_channels = co;
  p.groups = groups;
  const size_t lead = 3 - in.size();
  for (size_t a = 0; a < in.size(); ++a) {
    p.in[lead + a] = in[a];
    p.kernel[lead + a] = k[a];
    p.stride[lead + a] = stride[a];
    p.pad_begin[lead + a] = pb[a];
    p.pad_end[lead + a] = pe[a];
    p.dilation[lead + a] = dil[a];
  }
  for (int a = 0; a < 3; ++a) {
    p.out[a] = (p.in[a] + p.pad_begin[a] + p.pad_end[a] - p.dilation[a] * (p.kernel[a] - 1) - 1) / p.stride[a] + 1;
  }
  return p;
}

std::vector<float> random_vec(size_t n, Rng& rng) {
  std::vector<float> v(n);
  for (float& x : v) x = rng.uniform();
  return v;
}

std::vector<float> abs_vec(const std::vector<float>& v) {
  std::vector<float> a(v.size());
  for (size_t i = 0; i < v.size(); ++i) a[i] = std::fabs(v[i]);
  return a;
}

bool compare(Context& ck_ctx, const char* what, const std::vector<float>& got, const std::vector<float>& want,
             const std::vector<float>& mag, double terms, const std::string& label) {
  const double eps = std::ldexp(1.0, -24);
  for (size_t i = 0; i < want.size(); ++i) {
    const double bound = 4.0 * (terms + 2.0) * eps * mag[i] + 1e-30;
    if (!(std::fabs(static_cast<double>(got[i]) - want[i]) <= bound)) {
      CK_CHECK(false, label << " " << what << "[" << i << "] = " << got[i] << ", reference " << want[i] << ", bound "
                            << bound);
      return false;
    }
  }
  return true;
}

std::string label_of(const ConvParams& p) {
  std::ostringstream os;
  os << "n" << p.batch << " c" << p.in_channels << "->" << p.out_channels << " g" << p.groups << " in";
  for (size_t v : p.in) os << "," << v;
  os << " k";
  for (size_t v : p.kernel) os << "," << v;
  os << " s";
  for (size_t v : p.stride) os << "," << v;
  os << " pb";
  for (size_t v : p.pad_begin) os << "," << v;
  os << " pe";
  for (size_t v : p.pad_end) os << "," << v;
  os << " d";
  for (size_t v : p.dilation) os << "," << v;
  return os.str();
}

void run_conv_case(Context& ck_ctx, const ConvCase& c, uint64_t seed) {
  const ConvParams& p = c.p;
  Rng rng(seed);
  const auto x = random_vec(p.x_size(), rng), w = random_vec(p.w_size(), rng), dy = random_vec(p.y_size(), rng);
  const auto bias = random_vec(p.out_channels, rng);
  const float* b = c.bias ? bias.data() : nullptr;
  std::vector<float> y_ref(p.y_size()), dx_ref(p.x_size()), dw_ref(p.w_size()), db_ref(p.out_channels);
  std::vector<float> y_mag(p.y_size()), dx_mag(p.x_size()), dw_mag(p.w_size()), db_mag(p.out_channels);
  conv_forward_ref(p, x.data(), w.data(), b, y_ref.data(), c.act);
  conv_backward_data_ref(p, dy.data(), w.data(), dx_ref.data());
  conv_backward_weight_ref(p, x.data(), dy.data(), dw_ref.data(), db_ref.data());
  const auto ax = abs_vec(x), aw = abs_vec(w), ady = abs_vec(dy), ab = abs_vec(bias);
  conv_forward_ref(p, ax.data(), aw.data(), c.bias ? ab.data() : nullptr, y_mag.data(), Activation::kNone);
  conv_backward_data_ref(p, ady.data(), aw.data(), dx_mag.data());
  conv_backward_weight_ref(p, ax.data(), ady.data(), dw_mag.data(), db_mag.data());
  const double k_terms = static_cast<double>(p.col_rows());
  const double dx_terms = static_cast<double>(p.out_per_group() * p.kernel_taps());
  const double dw_terms = static_cast<double>(p.batch * p.out_spatial());
  const Isa before_isa = active_isa();
  const int before_threads = num_threads();
  for (Isa isa : {Isa::kScalar, Isa::kAvx2, Isa::kAvx512}) {
    if (!isa_supported(isa)) continue;
    set_isa(isa);
    for (int threads : {1, 2}) {
      set_num_threads(threads);
      const std::string label = std::string(isa_name(isa)) + " t" + std::to_string(threads) + " " + label_of(p);
      std::vector<float> y(p.y_size(), NAN), dx(p.x_size(), NAN), dw(p.w_size(), NAN), db(p.out_channels, NAN);
      conv_forward(p, x.data(), w.data(), b, y.data(), c.act);
      conv_backward_data(p, dy.data(), w.data(), dx.data());
      conv_backward_weight(p, x.data(), dy.data(), dw.data(), db.data());
      const bool ok = compare(ck_ctx, "y", y, y_ref, y_mag, k_terms, label) &&
                      compare(ck_ctx, "dx", dx, dx_ref, dx_mag, dx_terms, label) &&
                      compare(ck_ctx, "dw", dw, dw_ref, dw_mag, dw_terms, label) &&
                      compare(ck_ctx, "dbias", db, db_ref, db_mag, dw_terms, label);
      if (!ok) {
        set_isa(before_isa);
        set_num_threads(before_threads);
        return;
      }
    }
  }
  set_isa(before_isa);
  set_num_threads(before_threads);
}

}  // namespace

CK_TEST(conv2d_matches_reference_on_awkward_shapes) {
  const std::vector<ConvCase> cases = {
      {make(2, 3, 5, 1, {7, 9}, {3, 3}, {1, 1}, {1, 1}, {1, 1}, {1, 1})},                // same-padded 3x3
      {make(3, 4, 6, 1, {11, 10}, {3, 3}, {2, 2}, {1, 1}, {1, 1}, {1, 1}), true, Activation::kRelu},   // stride 2 + relu
      {make(2, 3, 4, 1, {13, 12}, {7, 7}, {2, 2}, {3, 3}, {3, 3}, {1, 1})},              // ResNet stem shape
      {make(1, 3, 8, 1, {23, 23}, {11, 11}, {4, 4}, {2, 2}, {2, 2}, {1, 1}), false},     // AlexNet conv1 shape
      {make(2, 4, 4, 2, {9, 8}, {3, 3}, {1, 1}, {2, 2}, {2, 2}, {2, 2})},                // groups 2, dilation 2
      {make(2, 6, 6, 6, {9, 7}, {3, 3}, {1, 1}, {1, 1}, {1, 1}, {1, 1})},                // depthwise
      {make(2, 4, 8, 4, {8, 9}, {3, 3}, {2, 2}, {1, 1}, {1, 1}, {1, 1})},                // depthwise x2 multiplier, stride 2
      {make(2, 4, 4, 4, {9, 11}, {3, 3}, {2, 3}, {3, 4}, {2, 1}, {2, 1})},              // depthwise, padding > stride, dilation
      {make(1, 3, 3, 3, {2, 3}, {3, 3}, {2, 2}, {4, 5}, {4, 5}, {1, 1}), true, Activation::kRelu6},  // depthwise, padding wider than input
      {make(2, 3, 3, 3, {6, 9}, {3, 5}, {2, 1}, {1, 2}, {2, 3}, {1, 2}), true, Activation::kRelu},   // depthwise, short rows read in place
      {make(3, 8, 5, 1, {6, 7}, {1, 1}, {1, 1}, {0, 0}, {0, 0}, {1, 1})},                // pointwise
      {make(5, 4, 12, 1, {3, 5}, {1, 1}, {1, 1}, {0, 0}, {0, 0}, {1, 1}), true, Activation::kRelu6},  // widening pointwise, images batched
      {make(3, 4, 10, 2, {4, 4}, {1, 1}, {1, 1}, {0, 0}, {0, 0}, {1, 1})},               // the same with groups
      {make(2, 8, 6, 2, {9, 9}, {1, 1}, {2, 2}, {0, 0}, {0, 0}, {1, 1})},                // 1x1 stride 2 downsample, groups
      {make(3, 6, 5, 1, {8, 10}, {1, 1}, {1, 3}, {0, 0}, {0, 0}, {1, 1}), true, Activation::kRelu},  // 1x1, one axis strided
      {make(6, 4, 12, 1, {7, 6}, {1, 1}, {2, 2}, {0, 0}, {0, 0}, {1, 1}), true, Activation::kRelu6},  // widening 1x1/2, images batched
      {make(2, 3, 4, 1, {8, 7}, {2, 4}, {1, 1}, {0, 1}, {1, 2}, {1, 1})},                // even kernel, asymmetric 'same'
      {make(2, 3, 4, 1, {10, 9}, {3, 2}, {3, 2}, {2, 0}, {0, 1}, {1, 2})},               // mixed strides/dilations
      {make(40, 5, 7, 1, {3, 4}, {3, 3}, {1, 1}, {1, 1}, {1, 1}, {1, 1})},               // tiny images: batched GEMM
      {make(33, 16, 12, 1, {5, 5}, {3, 3}, {1, 1}, {1, 1}, {1, 1}, {1, 1}), true, Activation::kRelu6}, // batch chunks + relu6
      {make(7, 6, 9, 1, {5, 5}, {5, 5}, {1, 1}, {0, 0}, {0, 0}, {1, 1}), true, Activation::kRelu},   // kernel = input: dense
      {make(5, 16, 20, 1, {3, 2}, {3, 2}, {2, 3}, {0, 0}, {0, 0}, {1, 1})},              // dense, non-square, strided
      {make(3, 3, 16, 1, {10, 9}, {5, 5}, {1, 1}, {2, 2}, {2, 2}, {1, 1})},              // stride 1, cig < cog: col2im
      {make(4, 12, 10, 1, {1, 1}, {3, 3}, {1, 1}, {1, 1}, {1, 1}, {1, 1}), true, Activation::kRelu6},  // 3x3 on 1x1: cropped to 1x1
      {make(3, 8, 6, 2, {2, 2}, {3, 3}, {2, 2}, {1, 1}, {1, 1}, {1, 1}), true},          // 3x3/2 on 2x2: cropped to 2x2
      {make(2, 5, 4, 1, {2, 3}, {5, 3}, {1, 1}, {3, 1}, {3, 1}, {1, 1})},                // rows cropped, columns kept
      {make(2, 4, 4, 1, {1, 6}, {3, 3}, {1, 2}, {1, 2}, {1, 2}, {1, 2})},                // cropped with dilation
  };
  // Under kAuto the small stride-1 shapes run the direct loops; kGemm keeps the GEMM paths covered.
  for (ConvAlgo algo : {ConvAlgo::kAuto, ConvAlgo::kGemm}) {
    conv_set_algo(algo);
    uint64_t seed = 1;
    for (const ConvCase& c : cases) {
      run_conv_case(ck_ctx, c, seed++);
      if (ck_ctx.failed()) break;
    }
    conv_set_algo(ConvAlgo::kAuto);
    if (ck_ctx.failed()) return;
  }
}

CK_TEST(conv_stem_matches_reference) {
  const std::vector<ConvCase> cases = {
      {make(2, 3, 64, 1, {30, 27}, {7, 7}, {2, 2}, {3, 3}, {3, 3}, {1, 1}), true, Activation::kRelu},   // ResNet's stem
      {make(3, 3, 32, 1, {17, 20}, {3, 3}, {2, 2}, {1, 1}, {1, 1}, {1, 1}), true, Activation::kRelu6},  // MobileNet's first layer
      {make(1, 1, 16, 1, {9, 40}, {5, 3}, {3, 2}, {2, 0}, {1, 1}, {1, 1})},                            // uneven strides, asymmetric
      {make(2, 4, 48, 1, {11, 11}, {4, 4}, {2, 2}, {0, 0}, {0, 0}, {1, 1}), true},                     // one vector of channels left
      {make(2, 3, 80, 1, {19, 23}, {5, 5}, {3, 3}, {2, 2}, {2, 2}, {1, 1}), true, Activation::kRelu},  // 4 + 1 vectors, stride 3
      {make(1, 2, 128, 1, {15, 40}, {3, 3}, {2, 2}, {1, 1}, {1, 1}, {1, 1}), true},                    // two 4-vector groups
  };
  uint64_t seed = 700;
  for (const ConvCase& c : cases) {
    CK_CHECK(conv_stem_applicable(c.p), "not a stem shape: " << label_of(c.p));
    run_conv_case(ck_ctx, c, seed++);
    if (ck_ctx.failed()) break;
  }
}

CK_TEST(conv_direct_matches_reference) {
  const std::vector<ConvCase> cases = {
      {make(5, 1, 6, 1, {28, 28}, {5, 5}, {1, 1}, {2, 2}, {2, 2}, {1, 1}), true, Activation::kRelu},  // LeNet-5 C1
      {make(4, 6, 16, 1, {14, 14}, {5, 5}, {1, 1}, {0, 0}, {0, 0}, {1, 1}), true},                      // LeNet-5 C3
      {make(3, 3, 7, 1, {9, 40}, {3, 3}, {1, 1}, {1, 1}, {1, 1}, {1, 1}), true, Activation::kRelu6},    // rows of two vectors + tail
      {make(2, 2, 5, 1, {6, 70}, {7, 7}, {1, 1}, {3, 0}, {3, 2}, {1, 1})},                               // widest kernel, asymmetric
      {make(3, 4, 2, 1, {5, 4}, {2, 3}, {1, 1}, {1, 0}, {0, 2}, {1, 1}), true},                         // even kernel, 'same'
      {make(2, 1, 3, 1, {1, 33}, {1, 5}, {1, 1}, {0, 2}, {0, 2}, {1, 1})},                              // conv1d
  };
  // Padded-image chunks of one image (or one of LeNet's), so the weight gradient sums several chunks.
  conv_direct_set_padded_chunk_floats(1500);
  uint64_t seed = 500;
  for (const ConvCase& c : cases) {
    CK_CHECK(conv_direct_applicable(c.p), "not a direct shape: " << label_of(c.p));
    run_conv_case(ck_ctx, c, seed++);
    if (ck_ctx.failed()) break;
  }
  conv_direct_set_padded_chunk_floats(0);
}

CK_TEST(conv1d_and_conv3d_match_reference) {
  const std::vector<ConvCase> cases = {
      {make(3, 5, 7, 1, {17}, {3}, {1}, {1}, {1}, {1})},            // text CNN over embeddings
      {make(2, 6, 4, 2, {20}, {5}, {2}, {2}, {3}, {2})},            // 1-D groups, dilation, asymmetric
      {make(2, 4, 4, 4, {15}, {3}, {1}, {1}, {1}, {1})},            // 1-D depthwise
      {make(2, 3, 4, 1, {5, 7, 6}, {3, 3, 3}, {1, 1, 1}, {1, 1, 1}, {1, 1, 1}, {1, 1, 1})},  // video 3x3x3
      {make(1, 2, 3, 1, {6, 9, 8}, {2, 3, 3}, {2, 2, 1}, {0, 1, 1}, {1, 1, 1}, {1, 1, 2})},  // 3-D stride/dilation
      {make(2, 4, 4, 4, {4, 5, 5}, {3, 3, 3}, {1, 2, 2}, {1, 1, 1}, {1, 1, 1}, {1, 1, 1})},  // 3-D depthwise
      {make(3, 5, 6, 1, {11}, {1}, {3}, {0}, {0}, {1})},            // 1-D 1x1 stride 3 (gathered)
      {make(2, 4, 7, 1, {5, 7, 6}, {1, 1, 1}, {2, 2, 2}, {0, 0, 0}, {0, 0, 0}, {1, 1, 1})},  // 3-D 1x1 stride 2
  };
  uint64_t seed = 100;
  for (const ConvCase& c : cases) {
    run_conv_case(ck_ctx, c, seed++);
    if (ck_ctx.failed()) return;
  }
}

CK_TEST(conv_winograd_matches_reference) {
  // Forced for small channel counts so the reference stays cheap; odd sizes leave partial tiles.
  conv_set_algo(ConvAlgo::kWinograd);
  const std::vector<ConvCase> cases = {
      {make(2, 5, 7, 1, {7, 9}, {3, 3}, {1, 1}, {1, 1}, {1, 1}, {1, 1})},
      {make(3, 13, 17, 1, {6, 5}, {3, 3}, {1, 1}, {1, 1}, {1, 1}, {1, 1}), true, Activation::kRelu6},
      {make(1, 4, 3, 1, {8, 8}, {3, 3}, {1, 1}, {0, 0}, {0, 0}, {1, 1}), false},
      {make(2, 3, 4, 1, {5, 6}, {3, 3}, {1, 1}, {2, 0}, {1, 2}, {1, 1})},   // asymmetric padding
      {make(40, 6, 5, 1, {3, 3}, {3, 3}, {1, 1}, {1, 1}, {1, 1}, {1, 1})},  // many tiny images, blocks span images
      {make(2, 4, 5, 1, {6, 37}, {3, 3}, {1, 1}, {1, 1}, {0, 2}, {1, 1}), true, Activation::kRelu},  // long odd rows: vectors + tails
      {make(1, 3, 4, 1, {5, 70}, {3, 3}, {1, 1}, {1, 1}, {1, 1}, {1, 1})},  // a tile row split across panels
      {make(2, 37, 29, 1, {5, 6}, {3, 3}, {1, 1}, {1, 1}, {1, 1}, {1, 1})},  // weight staging past 32 input channels, partial panel
      {make(3, 9, 20, 1, {4, 4}, {3, 3}, {1, 1}, {1, 1}, {1, 1}, {1, 1}), true, Activation::kRelu},  // 4x4 outputs (ResNet's last stage at 128 px)
  };
  uint64_t seed = 300;
  for (const ConvCase& c : cases) {
    run_conv_case(ck_ctx, c, seed++);
    if (ck_ctx.failed()) break;
  }
  conv_set_algo(ConvAlgo::kAuto);
}

CK_TEST(conv_relu6_epilogue_clamps_every_path) {
  // Inputs scaled by 8 so outputs fall below 0 and above 6; the fused ReLU6 must equal clamping
  // the unfused output (the same sums, so exactly), NaN included, on every path and instruction set.
  const std::vector<ConvParams> shapes = {
      make(2, 6, 6, 6, {9, 7}, {3, 3}, {1, 1}, {1, 1}, {1, 1}, {1, 1}),      // depthwise
      make(3, 8, 24, 1, {6, 7}, {1, 1}, {1, 1}, {0, 0}, {0, 0}, {1, 1}),     // pointwise GEMM
      make(2, 40, 64, 1, {7, 7}, {1, 1}, {1, 1}, {0, 0}, {0, 0}, {1, 1}),    // pointwise, swapped GEMM (7x7 maps)
      make(2, 5, 7, 1, {9, 9}, {3, 3}, {2, 2}, {1, 1}, {1, 1}, {1, 1}),      // im2col GEMM
      make(7, 6, 9, 1, {5, 5}, {5, 5}, {1, 1}, {0, 0}, {0, 0}, {1, 1}),      // dense
      make(2, 40, 24, 1, {12, 12}, {3, 3}, {1, 1}, {1, 1}, {1, 1}, {1, 1}),  // Winograd when allowed
  };
  const Isa before_isa = active_isa();
  uint64_t seed = 600;
  for (const ConvParams& p : shapes) {
    Rng rng(seed++);
    auto x = random_vec(p.x_size(), rng);
    const auto w = random_vec(p.w_size(), rng), bias = random_vec(p.out_channels, rng);
    for (float& v : x) v *= 8.0f;
    x[p.x_size() / 2] = NAN;
    for (Isa isa : {Isa::kScalar, Isa::kAvx2, Isa::kAvx512}) {
      if (!isa_supported(isa)) continue;
      set_isa(isa);
      std::vector<float> plain(p.y_size()), fused(p.y_size());
      conv_forward(p, x.data(), w.data(), bias.data(), plain.data(), Activation::kNone);
      conv_forward(p, x.data(), w.data(), bias.data(), fused.data(), Activation::kRelu6);
      size_t below = 0, above = 0, nans = 0, bad = 0;
      for (size_t i = 0; i < plain.size(); ++i) {
        const float v = plain[i];
        below += v < 0.0f;
        above += v > 6.0f;
        if (v != v) {
          nans++;
          bad += fused[i] == fused[i];
        } else {
          bad += fused[i] != (v < 0.0f ? 0.0f : v > 6.0f ? 6.0f : v);
        }
      }
      CK_CHECK(bad == 0 && below > 0 && above > 0 && nans > 0,
               isa_name(isa) << " " << label_of(p) << ": " << bad << " wrong, " << below << " < 0, " << above
                             << " > 6, " << nans << " NaN");
    }
  }
  set_isa(before_isa);
}

CK_TEST(conv_rejects_inconsistent_parameters) {
  ConvParams p = make(1, 3, 4, 1, {5, 5}, {3, 3}, {1, 1}, {0, 0}, {0, 0}, {1, 1});
  p.out[2] = 4;  // should be 3
  std::vector<float> buf(1000);
  bool threw = false;
  try {
    conv_forward(p, buf.data(), buf.data(), nullptr, buf.data(), Activation::kNone);
  } catch (const Error& e) {
    threw = e.code() == ErrorCode::kShape && std::string(e.what()).find("should be 3") != std::string::npos;
  }
  CK_CHECK(threw, "a wrong output size was not rejected");
  ConvParams q = make(1, 3, 4, 2, {5, 5}, {3, 3}, {1, 1}, {0, 0}, {0, 0}, {1, 1});
  threw = false;
  try {
    conv_forward(q, buf.data(), buf.data(), nullptr, buf.data(), Activation::kNone);
  } catch (const Error& e) {
    threw = e.code() == ErrorCode::kArgument;
  }
  CK_CHECK(threw, "channels not divisible by groups were not rejected");
}

}  // namespace convkit::test
