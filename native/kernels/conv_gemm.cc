// Convolution as a matrix multiplication (see conv.h for the contract).
//
// Forward, per group: Y (cog x S) = W (cog x K) * col(X) (K x S), K = cig * taps, S = output
// positions. The GEMM's B panels are packed straight from the input (implicit im2col), so no column
// buffer exists and memory stays bounded for any batch. Images with few output positions are
// batched into one GEMM (columns of several images side by side) and scattered back to NCHW.
// Work is split across threads by batch chunk (each thread runs single-threaded GEMMs on its own
// images, its packed panels in its own L2); with fewer chunks than threads the GEMM itself splits.
#include <cstring>
#include <string>
#include <vector>

#include "kernels/conv.h"
#include "kernels/conv_crop.h"
#include "kernels/conv_im2col.h"
#include "kernels/conv_pack.h"
#include "kernels/conv_subsample.h"
#include "kernels/gemm.h"
#include "runtime/error.h"
#include "runtime/isa.h"
#include "runtime/parallel_errors.h"
#include "runtime/threads.h"
#include "runtime/workspace.h"

#if defined(_OPENMP)
#include <omp.h>
#endif

namespace convkit {
namespace {

inline size_t min_sz(size_t a, size_t b) { return a < b ? a : b; }
inline size_t ceil_div(size_t a, size_t b) { return (a + b - 1) / b; }

// Columns a forward GEMM should have at least, so panels and threads are used well.
constexpr size_t kTargetColumns = 1024;
// Largest explicit column tile (floats) of the backward passes.
constexpr size_t kMaxColumnTile = static_cast<size_t>(2) << 20;

// The kernel covers the whole (unpadded) input: one output position per image, and each image's
// input, read as a vector in (c, kd, kh, kw) order, is exactly a row of the im2col matrix. The
// convolution is then a fully connected layer over the batch (LeNet-5's C5, VGG-style heads):
// one GEMM per direction instead of a tiny GEMM per image.
bool is_dense(const ConvParams& p) {
  if (p.groups != 1) return false;
  for (int a = 0; a < 3; ++a) {
    if (p.pad_begin[a] != 0 || p.pad_end[a] != 0 || p.dilation[a] != 1 || p.kernel[a] != p.in[a]) return false;
  }
  return true;
}

// Y (batch x Co) = X (batch x K) * W^T (K x Co), bias per column, ReLU optional.
void dense_forward(const ConvParams& p, const float* x, const float* w, const float* bias, float* y, Activation act) {
  const size_t K = p.col_rows();
  GemmShape s;
  s.trans_b = Trans::kYes;
  s.m = p.batch;
  s.n = p.out_channels;
  s.k = K;
  s.lda = K;
  s.ldb = K;
  s.ldc = p.out_channels;
  GemmEpilogue ep;
  if (bias != nullptr) {
    ep.bias_mode = BiasMode::kPerCol;
    ep.bias = bias;
  }
  ep.activation = act;
  compute_gemm(s, 1.0f, x, w, 0.0f, y, ep);
}

// dX (batch x K) = dY (batch x Co) * W (Co x K).
void dense_backward_data(const ConvParams& p, const float* dy, const float* w, float* dx) {
  const size_t K = p.col_rows();
  GemmShape s;
  s.m = p.batch;
  s.n = K;
  s.k = p.out_channels;
  s.lda = p.out_channels;
  s.ldb = K;
  s.ldc = K;
  compute_gemm(s, 1.0f, dy, w, 0.0f, dx);
}

// dW (Co x K) = dY^T (Co x batch) * X (batch x K).
void dense_backward_weight(const ConvParams& p, const float* x, const float* dy, float* dw) {
  const size_t K = p.col_rows();
  GemmShape s;
  s.trans_a = Trans::kYes;
  s.m = p.out_channels;
  s.n = K;
  s.k = p.batch;
  s.lda = p.out_channels;
  s.ldb = K;
  s.ldc = K;
  compute_gemm(s, 1.0f, dy, x, 0.0f, dw);
}

bool is_pointwise(const ConvParams& p) {
  for (int a = 0; a < 3; ++a) {
    if (p.kernel[a] != 1 || p.stride[a] != 1 || p.pad_begin[a] != 0 || p.pad_end[a] != 0) return false;
  }
  return true;
}

// Images per chunk of a GEMM whose columns are the output positions of several images side by side:
// enough columns for a well-shaped GEMM, enough chunks for the threads.
size_t images_per_chunk(size_t batch, size_t positions) {
  const size_t threads = static_cast<size_t>(num_threads());
  size_t chunks = ceil_div(batch * positions, kTargetColumns);
  if (chunks < threads) chunks = threads;
  chunks = ceil_div(chunks, threads) * threads;  // whole rounds of chunks keep the threads balanced
  const size_t per_chunk = ceil_div(batch, chunks);
  return per_chunk < 1 ? 1 : per_chunk;
}

// Runs fn(chunk, inner_threads) for chunks 0..count-1: in parallel with single-threaded inner work
// when there are enough chunks, else one after the other with all threads inside.
template <class Fn>
void for_chunks(size_t count, Fn fn) {
  const int threads = num_threads();
#if defined(_OPENMP)
  if (threads > 1 && count >= static_cast<size_t>(threads)) {
    ParallelErrors errors("conv");
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
    for (long i = 0; i < static_cast<long>(count); ++i) errors.run([&] { fn(static_cast<size_t>(i), 1); });
    errors.rethrow();
    return;
  }
#endif
  for (size_t i = 0; i < count; ++i) fn(i, threads);
}

void forward_gemm(const ConvParams& p, const float* x, const float* w, const float* bias, float* y, Activation act) {
  const Isa isa = active_isa();
  const size_t S = p.out_spatial(), cig = p.in_per_group(), cog = p.out_per_group(), K = p.col_rows();
  // A strided 1x1 layer runs as the pointwise layer on each chunk's gathered input (conv_subsample.h).
  ConvParams dense;
  const bool subsampled = conv_subsample_applies(p, &dense);
  const ConvParams& q = subsampled ? dense : p;
  const bool pointwise = is_pointwise(q);
  size_t per_chunk = images_per_chunk(p.batch, S);
  // A pointwise layer is a plain GEMM straight on each image, unless the images are small and the
  // layer widens (MobileNetV2's expansions at 14x14 and 7x7: 196 or 49 columns per image against
  // 384-1280 rows): then several images side by side through the column packer make a better-shaped
  // GEMM, and packing cig rows per column is cheap next to the cog x cig multiply-adds. A layer that
  // only doubles the channels keeps per-image GEMMs down to 128 columns (ResNet's 1x1/2 downsample
  // 28x28x128 -> 14x14x256 at batch 32: 1.9 ms against 2.3 batched; at 7x7 outputs batching still
  // wins by a little).
  const bool per_image =
      pointwise && (S >= kTargetColumns / 4 || cog < 2 * cig || (cog == 2 * cig && S >= kTargetColumns / 8));
  if (per_image) per_chunk = 1;
  const size_t chunks = ceil_div(p.batch, per_chunk);

  for_chunks(chunks * p.groups, [&](size_t task, int inner) {
    const size_t chunk = task / p.groups, g = task % p.groups;
    const size_t n0 = chunk * per_chunk, images = min_sz(per_chunk, p.batch - n0);
    const float* xg = x + (n0 * p.in_channels + g * cig) * p.in_spatial();
    size_t image_stride = p.in_channels * p.in_spatial();
    if (subsampled) {
      const SubsampledBlock block{workspace_floats(WorkspaceSlot::kConvGather, images * cig * S), cig * S, S};
      conv_subsample_gather(p, xg, images, cig, block);
      xg = block.data;
      image_stride = block.image_stride;
    }
    float* yg = y + (n0 * p.out_channels + g * cog) * S;
    GemmShape s;
    s.m = cog;
    s.n = images * S;
    s.k = K;
    s.lda = K;
    GemmEpilogue ep;
    if (bias != nullptr) {
      ep.bias_mode = BiasMode::kPerRow;
      ep.bias = bias + g * cog;
    }
    ep.activation = act;
    const float* wg = w + g * cog * K;
    if (per_image) {  // one image: Y (cog x S) = W (cog x cig) * X (cig x S)
      s.ldb = S;
      s.ldc = S;
      compute_gemm_with(isa, inner, s, 1.0f, wg, xg, 0.0f, yg, ep);
      return;
    }
    const ConvColumnSource cols{&q, xg, image_stride};
    const GemmPanelSource source{conv_column_packer(isa), &cols};
    if (images == 1) {
      s.ldc = S;
      compute_gemm_b_source(isa, inner, s, 1.0f, wg, source, 0.0f, yg, ep);
      return;
    }
    // Several images: compute cog x (images * S), then scatter rows to each image's NCHW block.
    float* tmp = workspace_floats(WorkspaceSlot::kConvOutput, cog * images * S);
    s.ldc = images * S;
    compute_gemm_b_source(isa, inner, s, 1.0f, wg, source, 0.0f, tmp, ep);
    for (size_t b = 0; b < images; ++b)
      for (size_t o = 0; o < cog; ++o)
        std::memcpy(yg + (b * p.out_channels + o) * S, tmp + o * images * S + b * S, S * sizeof(float));
  });
}

// Stride 1 everywhere and padding no wider than the dilated kernel: dx is a convolution of dy.
bool backward_data_as_conv(const ConvParams& p) {
  for (int a = 0; a < 3; ++a) {
    const size_t reach = p.dilation[a] * (p.kernel[a] - 1);
    if (p.stride[a] != 1 || p.pad_begin[a] > reach || p.pad_end[a] > reach) return false;
  }
  return true;
}

// The convolution of dy whose output is dx (stride 1; see backward_data_flipped).
ConvParams flipped_params(const ConvParams& p) {
  ConvParams q = p;
  q.in_channels = p.out_channels;
  q.out_channels = p.in_channels;
  for (int a = 0; a < 3; ++a) {
    q.in[a] = p.out[a];
    q.out[a] = p.in[a];
    const size_t reach = p.dilation[a] * (p.kernel[a] - 1);
    q.pad_begin[a] = reach - p.pad_begin[a];
    q.pad_end[a] = reach - p.pad_end[a];
  }
  return q;
}

void backward_data_flipped(const ConvParams& p, const float* dy, const float* w, float* dx) {
  // w' [ci][co within group][taps reversed] so that dx = conv(dy, w').
  const size_t cig = p.in_per_group(), cog = p.out_per_group(), taps = p.kernel_taps();
  std::vector<float> flipped(p.w_size());
  for (size_t g = 0; g < p.groups; ++g)
    for (size_t o = 0; o < cog; ++o)
      for (size_t c = 0; c < cig; ++c) {
        const float* src = w + ((g * cog + o) * cig + c) * taps;
        float* dst = flipped.data() + ((g * cig + c) * cog + o) * taps;
        for (size_t t = 0; t < taps; ++t) dst[t] = src[taps - 1 - t];
      }
  conv_forward(flipped_params(p), dy, flipped.data(), nullptr, dx, Activation::kNone);
}

void backward_data_col2im(const ConvParams& p, const float* dy, const float* w, float* dx) {
  const Isa isa = active_isa();
  const size_t S = p.out_spatial(), cig = p.in_per_group(), cog = p.out_per_group(), K = p.col_rows();
  const size_t in_s = p.in_spatial();
  const size_t tile = min_sz(S, kMaxColumnTile / K > 64 ? kMaxColumnTile / K : 64);
  std::memset(dx, 0, p.x_size() * sizeof(float));
  for_chunks(p.batch * p.groups, [&](size_t task, int inner) {
    const size_t n = task / p.groups, g = task % p.groups;
    const float* dyg = dy + (n * p.out_channels + g * cog) * S;
    float* dxg = dx + (n * p.in_channels + g * cig) * in_s;
    float* col = workspace_floats(WorkspaceSlot::kConvColumns, K * tile);
    for (size_t s0 = 0; s0 < S; s0 += tile) {
      const size_t st = min_sz(tile, S - s0);
      GemmShape s;  // col (K x st) = W^T (K x cog) * dY (cog x st)
      s.trans_a = Trans::kYes;
      s.m = K;
      s.n = st;
      s.k = cog;
      s.lda = K;
      s.ldb = S;
      s.ldc = st;
      compute_gemm_with(isa, inner, s, 1.0f, w + g * cog * K, dyg + s0, 0.0f, col);
      for (size_t k = 0; k < K; ++k) {
        size_t c, kd, kh, kw;
        decode_col_row(p, k, &c, &kd, &kh, &kw);
        col2im_add(p, dxg + c * in_s, kd, kh, kw, s0, st, col + k * st);
      }
    }
  });
}

// dX of a 1x1 layer without padding: per image and group, dX (cig x S) = W^T (cig x cog) * dY
// (cog x S); at a stride above 1 into scratch, then scattered into the image's planes with zeros
// between the read positions.
void backward_data_pointwise(const ConvParams& p, bool subsampled, const float* dy, const float* w, float* dx) {
  const Isa isa = active_isa();
  const size_t S = p.out_spatial(), cig = p.in_per_group(), cog = p.out_per_group(), in_s = p.in_spatial();
  // One image per GEMM even on small planes: batching images through the column packer packs the
  // transposed weights once per chunk instead of once per image, and wins on one thread, but at two
  // threads ResNet-18's 14x14x256 -> 512 downsample measured 1.9-2.0 ms batched against 1.8 per image.
  for_chunks(p.batch * p.groups, [&](size_t task, int inner) {
    const size_t n = task / p.groups, g = task % p.groups;
    float* dxg = dx + (n * p.in_channels + g * cig) * in_s;
    float* out = subsampled ? workspace_floats(WorkspaceSlot::kConvGather, cig * S) : dxg;
    GemmShape s;
    s.trans_a = Trans::kYes;
    s.m = cig;
    s.n = S;
    s.k = cog;
    s.lda = cig;
    s.ldb = S;
    s.ldc = S;
    compute_gemm_with(isa, inner, s, 1.0f, w + g * cog * cig, dy + (n * p.out_channels + g * cog) * S, 0.0f, out);
    if (subsampled) conv_subsample_scatter(p, SubsampledBlock{out, cig * S, S}, 1, cig, dxg);
  });
}

void backward_weight_gemm(const ConvParams& p, const float* x, const float* dy, float* dw) {
  const Isa isa = active_isa();
  const size_t S = p.out_spatial(), cig = p.in_per_group(), cog = p.out_per_group(), K = p.col_rows();
  const size_t in_s = p.in_spatial();
  // A strided 1x1 layer sums over each chunk's gathered input, as the pointwise layer would.
  ConvParams dense;
  const bool subsampled = conv_subsample_applies(p, &dense);
  const bool pointwise = subsampled || is_pointwise(p);
  // dW (cog x K) = sum over images of dY (cog x S) * col^T (S x K): a GEMM whose depth is the
  // number of output positions. Small images are taken several at a time so the depth stays
  // useful (each GEMM call reads and writes all of dW); large ones are cut into tiles so the column
  // buffer stays bounded.
  size_t images = 1;
  while (images < p.batch && images * S < kTargetColumns / 2 && (images + 1) * S * K <= kMaxColumnTile) ++images;
  const int threads = num_threads();
  // Whole rounds of equal chunks, so each thread sums the same number of images.
  size_t chunks = ceil_div(p.batch, images);
  if (threads > 1 && chunks >= static_cast<size_t>(threads)) {
    chunks = ceil_div(chunks, static_cast<size_t>(threads)) * static_cast<size_t>(threads);
    images = ceil_div(p.batch, chunks);
    chunks = ceil_div(p.batch, images);
  }
  const size_t tile = images > 1 || pointwise ? S : min_sz(S, kMaxColumnTile / K > 64 ? kMaxColumnTile / K : 64);
  const size_t wsize = p.w_size();
  // With enough chunks, each thread sums its chunks into a private dW, then the partials are added.
  const size_t parts = threads > 1 && chunks >= static_cast<size_t>(threads) ? static_cast<size_t>(threads) : 1;
  std::vector<float> partials(parts > 1 ? (parts - 1) * wsize : 0);

  for_chunks(parts, [&](size_t part, int inner) {
    float* acc = part == 0 ? dw : partials.data() + (part - 1) * wsize;
    bool first = true;
    for (size_t chunk = chunks * part / parts; chunk < chunks * (part + 1) / parts; ++chunk) {
      const size_t n0 = chunk * images, count = min_sz(images, p.batch - n0);
      for (size_t g = 0; g < p.groups; ++g) {
        float* dwg = acc + g * cog * K;
        for (size_t s0 = 0; s0 < S; s0 += tile) {
          const size_t st = min_sz(tile, S - s0);
          const size_t depth = count * st;
          const float* a;
          size_t lda;
          const float* cols;
          size_t ldb;
          if (count == 1 && pointwise && !subsampled) {  // X itself is the column matrix
            a = dy + (n0 * p.out_channels + g * cog) * S + s0;
            lda = S;
            cols = x + (n0 * p.in_channels + g * cig) * in_s + s0;
            ldb = S;
          } else {
            float* col = workspace_floats(WorkspaceSlot::kConvColumns, K * depth);
            float* rows = count > 1 ? workspace_floats(WorkspaceSlot::kConvOutput, cog * depth) : nullptr;
            // The copies run on the threads the GEMM gets: with one chunk for the whole batch (small
            // planes: ResNet-18's 2x2 layers at 32x32 input take all 64 images in one GEMM) they were
            // a serial step between parallel ones.
            const long fill_rows = static_cast<long>(subsampled ? cig : K);
#pragma omp parallel for schedule(static) num_threads(inner) if (inner > 1 && fill_rows * depth >= 16384)
            for (long kl = 0; kl < fill_rows; ++kl) {
              const size_t k = static_cast<size_t>(kl);
              if (subsampled) {  // tile == S: the images' gathered planes side by side, channel-major
                conv_subsample_gather(p, x + (n0 * p.in_channels + g * cig + k) * in_s, count, 1,
                                      SubsampledBlock{col + k * depth, S, depth});
                continue;
              }
              size_t c, kd, kh, kw;
              decode_col_row(p, k, &c, &kd, &kh, &kw);
              for (size_t b = 0; b < count; ++b) {
                const float* xg = x + ((n0 + b) * p.in_channels + g * cig) * in_s;
                im2col_fill(p, ColRow{xg + c * in_s, kd, kh, kw}, s0, st, col + k * depth + b * st);
              }
            }
            if (count > 1) {  // the images' dY rows side by side
              const long row_count = static_cast<long>(cog);
#pragma omp parallel for schedule(static) num_threads(inner) if (inner > 1 && row_count * depth >= 16384)
              for (long ol = 0; ol < row_count; ++ol) {
                const size_t o = static_cast<size_t>(ol);
                for (size_t b = 0; b < count; ++b)
                  std::memcpy(rows + o * depth + b * st, dy + ((n0 + b) * p.out_channels + g * cog + o) * S + s0,
                              st * sizeof(float));
              }
            }
            cols = col;
            ldb = depth;
            if (count == 1) {
              a = dy + (n0 * p.out_channels + g * cog) * S + s0;
              lda = S;
            } else {
              a = rows;
              lda = depth;
            }
          }
          GemmShape s;  // dW (cog x K) += dY (cog x depth) * col^T (depth x K)
          s.trans_b = Trans::kYes;
          s.m = cog;
          s.n = K;
          s.k = depth;
          s.lda = lda;
          s.ldb = ldb;
          s.ldc = K;
          compute_gemm_with(isa, inner, s, 1.0f, a, cols, first && s0 == 0 ? 0.0f : 1.0f, dwg);
        }
      }
      first = false;
    }
    if (first) std::memset(acc, 0, wsize * sizeof(float));  // no images in this part
  });
  for (size_t part = 1; part < parts; ++part) {
    const float* src = partials.data() + (part - 1) * wsize;
    for (size_t i = 0; i < wsize; ++i) dw[i] += src[i];
  }
}

std::string describe(const ConvParams& p) {
  std::string s = "conv: ";
  s += "batch " + std::to_string(p.batch) + ", channels " + std::to_string(p.in_channels) + " -> " +
       std::to_string(p.out_channels) + ", groups " + std::to_string(p.groups);
  return s;
}

}  // namespace

void conv_bias_gradient(const ConvParams& p, const float* dy, float* dbias) {
  const size_t S = p.out_spatial();
  const long co_count = static_cast<long>(p.out_channels);
  // Per channel in parallel; each image's row summed in 16 independent lanes (a vector loop), the
  // lanes and the images added in double.
#pragma omp parallel for schedule(static) num_threads(num_threads()) if (p.batch * p.out_channels * S >= 65536)
  for (long co_l = 0; co_l < co_count; ++co_l) {
    const size_t co = static_cast<size_t>(co_l);
    double acc = 0.0;
    for (size_t n = 0; n < p.batch; ++n) {
      const float* row = dy + (n * p.out_channels + co) * S;
      float lanes[16] = {};
      size_t i = 0;
      for (; i + 16 <= S; i += 16)
        for (size_t j = 0; j < 16; ++j) lanes[j] += row[i + j];
      for (; i < S; ++i) lanes[i % 16] += row[i];
      for (float v : lanes) acc += v;
    }
    dbias[co] = static_cast<float>(acc);
  }
}

void validate_conv(const ConvParams& p) {
  if (p.groups == 0 || p.in_channels == 0 || p.out_channels == 0 || p.in_channels % p.groups != 0 ||
      p.out_channels % p.groups != 0) {
    throw Error(ErrorCode::kArgument, describe(p) + ": channels must be positive multiples of groups");
  }
  for (int a = 0; a < 3; ++a) {
    if (p.kernel[a] == 0 || p.stride[a] == 0 || p.dilation[a] == 0 || p.in[a] == 0) {
      throw Error(ErrorCode::kArgument, describe(p) + ": sizes, kernel, stride and dilation must be positive");
    }
    const size_t padded = p.in[a] + p.pad_begin[a] + p.pad_end[a];
    const size_t reach = p.dilation[a] * (p.kernel[a] - 1) + 1;
    if (padded < reach) {
      throw Error(ErrorCode::kShape, describe(p) + ": the padded input (" + std::to_string(padded) +
                                         ") is smaller than the dilated kernel (" + std::to_string(reach) + ")");
    }
    const size_t expect = (padded - reach) / p.stride[a] + 1;
    if (p.out[a] != expect) {
      throw Error(ErrorCode::kShape, describe(p) + ": output size " + std::to_string(p.out[a]) + " on axis " +
                                         std::to_string(a) + " should be " + std::to_string(expect));
    }
  }
}

bool conv_is_depthwise(const ConvParams& p) { return p.groups > 1 && p.groups == p.in_channels; }

void conv_forward(const ConvParams& p, const float* x, const float* w, const float* bias, float* y, Activation act) {
  validate_conv(p);
  if (p.batch == 0) return;
  ConvCrop crop;
  if (conv_crop_taps(p, &crop)) {
    std::vector<float> wc;
    conv_crop_weight(p, crop, w, &wc);
    conv_forward(crop.cropped, x, wc.data(), bias, y, act);
    return;
  }
  if (conv_is_depthwise(p)) {
    conv_depthwise_forward(p, x, w, bias, y, act);
    return;
  }
  ConvParams dense;
  if (conv_subsample_applies(p, &dense)) {
    forward_gemm(p, x, w, bias, y, act);
    return;
  }
  if (is_dense(p)) {
    dense_forward(p, x, w, bias, y, act);
    return;
  }
  if (conv_winograd_applicable(p)) {
    conv_winograd_forward(p, x, w, bias, y, act);
    return;
  }
  if (conv_direct_applicable(p)) {
    conv_direct_forward(p, x, w, bias, y, act);
    return;
  }
  if (conv_stem_applicable(p)) {
    conv_stem_forward(p, x, w, bias, y, act);
    return;
  }
  forward_gemm(p, x, w, bias, y, act);
}

void conv_backward_data(const ConvParams& p, const float* dy, const float* w, float* dx) {
  validate_conv(p);
  if (p.batch == 0) return;
  ConvCrop crop;
  if (conv_crop_taps(p, &crop)) {
    std::vector<float> wc;
    conv_crop_weight(p, crop, w, &wc);
    conv_backward_data(crop.cropped, dy, wc.data(), dx);
    return;
  }
  ConvParams dense;
  if (conv_is_depthwise(p)) {
    conv_depthwise_backward_data(p, dy, w, dx);
  } else if (conv_subsample_applies(p, &dense)) {
    backward_data_pointwise(p, true, dy, w, dx);
  } else if (is_dense(p)) {
    dense_backward_data(p, dy, w, dx);
  } else if (is_pointwise(p)) {
    backward_data_pointwise(p, false, dy, w, dx);
  } else if (backward_data_as_conv(p) && (p.in_per_group() >= p.out_per_group() || conv_direct_applicable(flipped_params(p)))) {
    // The flipped convolution's GEMM has the input channels as rows: each packed column of dY
    // feeds cig rows, so with few input channels packing dominates; col2im's GEMM has the input
    // channel taps as rows and dY itself as the plain B operand instead.
    backward_data_flipped(p, dy, w, dx);
  } else {
    backward_data_col2im(p, dy, w, dx);
  }
}

void conv_backward_weight(const ConvParams& p, const float* x, const float* dy, float* dw, float* dbias) {
  validate_conv(p);
  if (p.batch == 0) {
    std::memset(dw, 0, p.w_size() * sizeof(float));
    if (dbias != nullptr) std::memset(dbias, 0, p.out_channels * sizeof(float));
    return;
  }
  ConvCrop crop;
  if (conv_crop_taps(p, &crop)) {
    std::vector<float> dwc(crop.cropped.w_size());
    conv_backward_weight(crop.cropped, x, dy, dwc.data(), dbias);
    conv_uncrop_weight(p, crop, dwc.data(), dw);
    return;
  }
  if (conv_is_depthwise(p)) {
    conv_depthwise_backward_weight(p, x, dy, dw, dbias);
    return;
  }
  ConvParams dense;
  if (conv_subsample_applies(p, &dense)) {
    backward_weight_gemm(p, x, dy, dw);
  } else if (is_dense(p)) {
    dense_backward_weight(p, x, dy, dw);
  } else if (conv_winograd_applicable(p)) {
    conv_winograd_backward_weight(p, x, dy, dw);
  } else if (conv_direct_applicable(p) && conv_direct_weight_grad_preferred(p)) {
    conv_direct_backward_weight(p, x, dy, dw);
  } else {
    backward_weight_gemm(p, x, dy, dw);
  }
  if (dbias != nullptr) conv_bias_gradient(p, dy, dbias);
}

}  // namespace convkit
