// Channel-blocked (NCHW16c) inference convolutions against the direct-loop reference
// (conv_forward_ref): pointwise (its contiguous tile and tiles across images), 3x3 and 5x5 with
// padding, strides 1 and 2, the plain-input (stem) form, the fused residual, ReLU and ReLU6, channel
// counts off the 16-block on both sides, and depthwise layers with planes narrower than the kernel,
// on every supported path at 1 and 2 threads. Tolerance per element: 4 (terms + 2) eps * (sum of
// |products|), as in test_conv.cc.
#include <cmath>
#include <vector>

#include "kernels/conv.h"
#include "kernels/conv_nchwc.h"
#include "runtime/error.h"
#include "runtime/isa.h"
#include "runtime/threads.h"
#include "tests/harness.h"

namespace convkit::test {
namespace {

struct BlockedCase {
  size_t n, ci, co, h, w, k, stride, pad;
  bool depthwise = false;
  bool plain_input = false;
  bool residual = false;
  Activation act = Activation::kNone;
};

size_t round16(size_t c) { return (c + kNchwcBlock - 1) / kNchwcBlock * kNchwcBlock; }

ConvParams params_of(const BlockedCase& c) {
  ConvParams p;
  p.batch = c.n;
  p.in_channels = c.ci;
  p.out_channels = c.co;
  p.groups = c.depthwise ? c.ci : 1;
  p.in[1] = c.h;
  p.in[2] = c.w;
  p.kernel[1] = p.kernel[2] = c.k;
  p.stride[1] = p.stride[2] = c.stride;
  p.pad_begin[1] = p.pad_begin[2] = p.pad_end[1] = p.pad_end[2] = c.pad;
  for (int a = 1; a < 3; ++a) p.out[a] = (p.in[a] + 2 * c.pad - c.k) / c.stride + 1;
  return p;
}

// [co/16][ci/ib][k][k][ib][16] (conv) or [c/16][k][k][16] (depthwise), zero on padding channels.
std::vector<float> pack(const BlockedCase& c, const std::vector<float>& w, size_t ib) {
  const size_t taps = c.k * c.k, cop = round16(c.co);
  if (c.depthwise) {
    std::vector<float> out(cop * taps, 0.0f);
    for (size_t ch = 0; ch < c.co; ++ch)
      for (size_t t = 0; t < taps; ++t) out[((ch / 16) * taps + t) * 16 + ch % 16] = w[ch * taps + t];
    return out;
  }
  const size_t cip = ib == 1 ? c.ci : round16(c.ci);
  std::vector<float> out(cop * cip * taps, 0.0f);
  for (size_t o = 0; o < c.co; ++o)
    for (size_t i = 0; i < c.ci; ++i)
      for (size_t t = 0; t < taps; ++t)
        out[((((o / 16) * (cip / ib) + i / ib) * taps + t) * ib + i % ib) * 16 + o % 16] = w[(o * c.ci + i) * taps + t];
  return out;
}

// fn(isa, threads) on every supported path at 1 and 2 threads until it returns false; the active
// path and thread count are restored after.
template <class Fn>
void on_every_path(Fn fn) {
  const Isa before_isa = active_isa();
  const int before_threads = num_threads();
  bool go = true;
  for (Isa isa : {Isa::kScalar, Isa::kAvx2, Isa::kAvx512}) {
    if (!go || !isa_supported(isa)) continue;
    set_isa(isa);
    for (int threads : {1, 2}) {
      set_num_threads(threads);
      if (!(go = fn(isa, threads))) break;
    }
  }
  set_isa(before_isa);
  set_num_threads(before_threads);
}

void run_case(Context& ck_ctx, const BlockedCase& c, uint64_t seed) {
  const ConvParams p = params_of(c);
  Rng rng(seed);
  std::vector<float> x(p.x_size()), w(p.w_size()), bias(c.co), res(p.y_size());
  for (float& v : x) v = rng.uniform();
  for (float& v : w) v = rng.uniform();
  for (float& v : bias) v = rng.uniform();
  for (float& v : res) v = rng.uniform();
  std::vector<float> want(p.y_size()), mag(p.y_size());
  conv_forward_ref(p, x.data(), w.data(), bias.data(), want.data(), Activation::kNone);
  std::vector<float> ax(x.size()), aw(w.size()), ab(bias.size());
  for (size_t i = 0; i < x.size(); ++i) ax[i] = std::fabs(x[i]);
  for (size_t i = 0; i < w.size(); ++i) aw[i] = std::fabs(w[i]);
  for (size_t i = 0; i < bias.size(); ++i) ab[i] = std::fabs(bias[i]);
  conv_forward_ref(p, ax.data(), aw.data(), ab.data(), mag.data(), Activation::kNone);
  const float cap = activation_cap(c.act);
  for (size_t i = 0; i < want.size(); ++i) {
    if (c.residual) {
      want[i] += res[i];
      mag[i] += std::fabs(res[i]);
    }
    want[i] = apply_relu(want[i], c.act != Activation::kNone, cap);
  }

  const size_t ib = c.plain_input ? 1 : kNchwcBlock;
  NchwcConvShape g;
  g.batch = c.n;
  g.in_channels = c.plain_input ? c.ci : round16(c.ci);
  g.in_block = ib;
  g.H = c.h;
  g.W = c.w;
  g.out_channels = round16(c.co);
  g.OH = p.out[1];
  g.OW = p.out[2];
  g.KH = g.KW = c.k;
  g.sh = g.sw = c.stride;
  g.pt = g.pl = c.pad;
  validate_nchwc(g, c.depthwise);
  const size_t spatial_in = c.h * c.w, spatial_out = g.OH * g.OW;
  std::vector<float> xb(c.n * round16(c.ci) * spatial_in), rb(c.n * g.out_channels * spatial_out);
  nchwc_from_nchw(x.data(), c.n, c.ci, spatial_in, xb.data());
  nchwc_from_nchw(res.data(), c.n, c.co, spatial_out, rb.data());
  const std::vector<float> wp = pack(c, w, ib);
  std::vector<float> bp(g.out_channels, 0.0f);
  for (size_t i = 0; i < c.co; ++i) bp[i] = bias[i];
  const double terms = static_cast<double>((c.depthwise ? 1 : c.ci) * c.k * c.k + 1);
  const double eps = std::ldexp(1.0, -24);

  on_every_path([&](Isa isa, int threads) {
    std::vector<float> yb(c.n * g.out_channels * spatial_out, NAN), y(p.y_size(), NAN);
    if (c.depthwise) {
      nchwc_depthwise_forward(g, xb.data(), wp.data(), bp.data(), yb.data(), c.act);
    } else {
      nchwc_conv_forward(g, c.plain_input ? x.data() : xb.data(), wp.data(), bp.data(),
                         c.residual ? rb.data() : nullptr, yb.data(), c.act);
    }
    // Padding channels must come out zero.
    for (size_t n = 0; n < c.n; ++n)
      for (size_t ch = c.co; ch < g.out_channels; ++ch)
        for (size_t s = 0; s < spatial_out; ++s) {
          const float v = yb[((n * g.out_channels / 16 + ch / 16) * spatial_out + s) * 16 + ch % 16];
          if (v != 0.0f) {
            CK_CHECK(false, isa_name(isa) << " t" << threads << " case ci" << c.ci << " co" << c.co
                                          << ": padding channel " << ch << " holds " << v);
            return false;
          }
        }
    nchwc_to_nchw(yb.data(), c.n, c.co, spatial_out, y.data());
    for (size_t i = 0; i < want.size(); ++i) {
      const double bound = 4.0 * (terms + 2.0) * eps * mag[i] + 1e-30;
      if (!(std::fabs(static_cast<double>(y[i]) - want[i]) <= bound)) {
        CK_CHECK(false, isa_name(isa) << " t" << threads << " n" << c.n << " c" << c.ci << "->" << c.co << " "
                                      << c.h << "x" << c.w << " k" << c.k << " s" << c.stride << " p" << c.pad
                                      << (c.depthwise ? " depthwise" : "") << (c.plain_input ? " plain" : "")
                                      << ": y[" << i << "] = " << y[i] << ", reference " << want[i]);
        return false;
      }
    }
    return true;
  });
}

}  // namespace

CK_TEST(nchwc_conv_matches_reference) {
  const BlockedCase cases[] = {
      // Pointwise: 7x7 planes (tiles cross images), 14x14, off-block channel counts, residual + ReLU6.
      {3, 96, 160, 7, 7, 1, 1, 0, false, false, true, Activation::kNone},
      {2, 24, 144, 14, 14, 1, 1, 0, false, false, false, Activation::kRelu6},
      {1, 40, 24, 5, 9, 1, 1, 0, false, false, true, Activation::kRelu},
      {2, 16, 200, 3, 3, 1, 1, 0, false, false, false, Activation::kRelu6},
      // Spatial kernels, strides, padding, a plane smaller than the kernel.
      {2, 32, 48, 9, 11, 3, 1, 1, false, false, false, Activation::kRelu},
      {2, 20, 36, 8, 7, 3, 2, 1, false, false, true, Activation::kNone},
      {1, 20, 36, 8, 8, 1, 2, 0, false, false, false, Activation::kNone},
      {1, 16, 16, 3, 4, 5, 1, 2, false, false, false, Activation::kNone},
      // Weights past one pass's budget: summed over the input blocks in several passes (3x3 with
      // 256 inputs: 3 passes; pointwise with 1,100 inputs: 2), the residual and ReLU on the last.
      {2, 256, 64, 5, 5, 3, 1, 1, false, false, true, Activation::kRelu},
      {1, 1100, 64, 3, 3, 1, 1, 0, false, false, true, Activation::kRelu6},
      {1, 256, 40, 6, 6, 3, 2, 1, false, false, false, Activation::kRelu6},
      // Plain input (the stem).
      {2, 3, 32, 15, 17, 3, 2, 1, false, true, false, Activation::kRelu6},
      {1, 4, 20, 6, 6, 1, 1, 0, false, true, true, Activation::kNone},
      // Plain input with rows wide enough for whole interior tiles on every path (stride 2 and 1).
      {2, 3, 32, 9, 40, 3, 2, 1, false, true, false, Activation::kRelu6},
      {2, 3, 16, 5, 30, 3, 1, 1, false, true, true, Activation::kRelu},
      // ResNet's 7x7/2 stem on a row whose inner columns end in tiles of 4 and 1.
      {1, 3, 64, 11, 61, 7, 2, 3, false, true, false, Activation::kRelu},
  };
  uint64_t seed = 900;
  for (const BlockedCase& c : cases) run_case(ck_ctx, c, seed++);
}

CK_TEST(nchwc_depthwise_matches_reference) {
  const BlockedCase cases[] = {
      {2, 40, 40, 9, 13, 3, 1, 1, true, false, false, Activation::kRelu6},
      {2, 24, 24, 14, 15, 3, 2, 1, true, false, false, Activation::kRelu},
      {1, 16, 16, 7, 7, 5, 2, 2, true, false, false, Activation::kNone},
      {1, 32, 32, 3, 1, 3, 1, 1, true, false, false, Activation::kNone},
      {3, 16, 16, 1, 30, 3, 1, 1, true, false, false, Activation::kRelu6},
      {1, 96, 96, 28, 28, 3, 2, 1, true, false, false, Activation::kRelu6},
      // Small planes: every tile of a row touches an edge (7 and 14 wide, strides 1 and 2), a
      // 2-wide plane, and a row with no padding.
      {2, 32, 32, 7, 7, 3, 1, 1, true, false, false, Activation::kRelu6},
      {1, 48, 48, 14, 14, 3, 1, 1, true, false, false, Activation::kNone},
      {1, 32, 32, 14, 14, 3, 2, 1, true, false, false, Activation::kRelu},
      {2, 16, 16, 5, 2, 3, 1, 1, true, false, false, Activation::kNone},
      {1, 16, 16, 9, 21, 3, 1, 0, true, false, false, Activation::kRelu6},
      {1, 16, 16, 11, 19, 3, 2, 0, true, false, false, Activation::kNone},
  };
  uint64_t seed = 950;
  for (const BlockedCase& c : cases) run_case(ck_ctx, c, seed++);
}

namespace {

// An inverted residual block fused (nchwc_inverted_residual_forward) against its three layers run
// one after another (each checked against the reference above): the fused block sums every output
// in the same order, so the two must agree bit for bit.
struct FusedCase {
  size_t n, ci, hidden, co, h, w, k, stride;
  bool expand, residual;
};

void run_fused_case(Context& ck_ctx, const FusedCase& c, uint64_t seed) {
  Rng rng(seed);
  const size_t pad = c.k / 2;
  const size_t oh = (c.h + 2 * pad - c.k) / c.stride + 1, ow = (c.w + 2 * pad - c.k) / c.stride + 1;
  const size_t cin = round16(c.ci), hid = round16(c.hidden), cout = round16(c.co);
  std::vector<float> x(c.n * c.ci * c.h * c.w);
  for (float& v : x) v = rng.uniform();
  std::vector<float> xb(c.n * cin * c.h * c.w);
  nchwc_from_nchw(x.data(), c.n, c.ci, c.h * c.w, xb.data());
  auto random = [&](size_t count) {
    std::vector<float> v(count);
    for (float& e : v) e = rng.uniform();
    return v;
  };
  auto padded = [&](const std::vector<float>& v, size_t to) {
    std::vector<float> out(to, 0.0f);
    for (size_t i = 0; i < v.size(); ++i) out[i] = v[i];
    return out;
  };
  const BlockedCase expand_case{c.n, c.ci, c.hidden, c.h, c.w, 1, 1, 0};
  const BlockedCase dw_case{c.n, c.hidden, c.hidden, c.h, c.w, c.k, c.stride, pad, true};
  const BlockedCase project_case{c.n, c.hidden, c.co, oh, ow, 1, 1, 0};
  const std::vector<float> we = pack(expand_case, random(c.hidden * c.ci), kNchwcBlock);
  const std::vector<float> wd = pack(dw_case, random(c.hidden * c.k * c.k), kNchwcBlock);
  const std::vector<float> wp = pack(project_case, random(c.co * c.hidden), kNchwcBlock);
  const std::vector<float> be = padded(random(c.hidden), hid), bd = padded(random(c.hidden), hid);
  const std::vector<float> bp = padded(random(c.co), cout);

  NchwcBlockShape s;
  s.batch = c.n;
  s.in_channels = cin;
  s.hidden = hid;
  s.out_channels = cout;
  s.H = c.h;
  s.W = c.w;
  s.OH = oh;
  s.OW = ow;
  s.KH = s.KW = c.k;
  s.sh = s.sw = c.stride;
  s.pt = s.pl = pad;
  s.expand = c.expand;
  s.residual = c.residual;
  validate_nchwc_block(s);
  NchwcBlockWeights w;
  w.expand_w = c.expand ? we.data() : nullptr;
  w.expand_b = c.expand ? be.data() : nullptr;
  w.dw_w = wd.data();
  w.dw_b = bd.data();
  w.project_w = wp.data();
  w.project_b = bp.data();
  w.expand_act = w.dw_act = Activation::kRelu6;
  w.project_act = Activation::kNone;

  NchwcConvShape ge;
  ge.batch = c.n;
  ge.in_channels = cin;
  ge.H = ge.OH = c.h;
  ge.W = ge.OW = c.w;
  ge.out_channels = hid;
  NchwcConvShape gd = ge;
  gd.in_channels = gd.out_channels = hid;
  gd.OH = oh;
  gd.OW = ow;
  gd.KH = gd.KW = c.k;
  gd.sh = gd.sw = c.stride;
  gd.pt = gd.pl = pad;
  NchwcConvShape gp = ge;
  gp.in_channels = hid;
  gp.out_channels = cout;
  gp.H = gp.OH = oh;
  gp.W = gp.OW = ow;

  on_every_path([&](Isa isa, int threads) {
    std::vector<float> e(c.n * hid * c.h * c.w), d(c.n * hid * oh * ow), want(c.n * cout * oh * ow);
    if (c.expand) nchwc_conv_forward(ge, xb.data(), we.data(), be.data(), nullptr, e.data(), Activation::kRelu6);
    nchwc_depthwise_forward(gd, c.expand ? e.data() : xb.data(), wd.data(), bd.data(), d.data(), Activation::kRelu6);
    nchwc_conv_forward(gp, d.data(), wp.data(), bp.data(), c.residual ? xb.data() : nullptr, want.data(),
                       Activation::kNone);
    std::vector<float> got(want.size(), NAN);
    nchwc_inverted_residual_forward(s, w, xb.data(), got.data());
    for (size_t i = 0; i < want.size(); ++i) {
      if (got[i] != want[i]) {
        CK_CHECK(false, isa_name(isa) << " t" << threads << " n" << c.n << " " << c.ci << "->" << c.hidden << "->"
                                      << c.co << " " << c.h << "x" << c.w << " k" << c.k << " s" << c.stride
                                      << (c.expand ? "" : " no expansion") << (c.residual ? " residual" : "")
                                      << ": y[" << i << "] = " << got[i] << ", layer by layer " << want[i]);
        return false;
      }
    }
    return true;
  });
}

}  // namespace

CK_TEST(nchwc_inverted_residual_matches_its_layers) {
  const FusedCase cases[] = {
      // MobileNetV2's shapes at small sizes: residual, stride 2 on odd sizes, no expansion, 7x7.
      {3, 24, 144, 24, 20, 20, 3, 1, true, true},
      {1, 16, 96, 24, 23, 17, 3, 2, true, false},
      {2, 32, 32, 16, 15, 15, 3, 1, false, false},
      {5, 48, 288, 48, 7, 7, 3, 1, true, true},
      // Planes of many bands (each band keeps the rows the previous one expanded), at batch 1 (each
      // image in two runs of rows), stride 1 and 2.
      {1, 24, 144, 24, 40, 64, 3, 1, true, true},
      {1, 24, 144, 32, 41, 57, 3, 2, true, false},
      // A 5x5 depthwise kernel (the general depthwise tiles).
      {2, 16, 48, 16, 19, 21, 5, 1, true, true},
  };
  uint64_t seed = 980;
  for (const FusedCase& c : cases) run_fused_case(ck_ctx, c, seed++);
}

CK_TEST(nchwc_rejects_inconsistent_shapes) {
  NchwcConvShape g;
  g.batch = 1;
  g.in_channels = 16;
  g.H = g.W = 4;
  g.out_channels = 16;
  g.OH = g.OW = 4;
  g.KH = g.KW = 3;
  g.pt = g.pl = 1;
  validate_nchwc(g, false);
  auto rejects = [&](NchwcConvShape bad, bool depthwise, const char* what) {
    bool threw = false;
    try {
      validate_nchwc(bad, depthwise);
    } catch (const Error&) {
      threw = true;
    }
    CK_CHECK(threw, "accepted " << what);
  };
  NchwcConvShape b = g;
  b.OH = 9;
  rejects(b, false, "an output larger than the padding allows");
  b = g;
  b.out_channels = 20;
  rejects(b, false, "an output channel count off the block");
  b = g;
  b.in_block = 4;
  rejects(b, false, "an input block of 4");
  b = g;
  b.out_channels = 32;
  rejects(b, true, "a depthwise layer with a channel multiplier");
  b = g;
  b.sh = 0;
  rejects(b, false, "stride 0");
}

}  // namespace convkit::test
