// Channel-blocked (NCHW16c) inference convolutions: validation, the split into OpenMP tasks, and the
// reorders at the ends of a blocked chain. The loops are per instruction set in
// conv_nchwc_impl.inc; see conv_nchwc.h for the layouts.
#include "kernels/conv_nchwc.h"

#include <cstdint>
#include <string>
#include <vector>

#if defined(_OPENMP)
#include <omp.h>
#endif

#include "runtime/error.h"
#include "runtime/threads.h"

namespace convkit {
namespace {

const NchwcKernels& nchwc_kernels_for(Isa isa) {
  switch (isa) {
#if defined(CONVKIT_HAVE_X86_KERNELS)
    case Isa::kAvx512: return nchwc_kernels_avx512();
    case Isa::kAvx2: return nchwc_kernels_avx2();
#endif
    default: return nchwc_kernels_scalar();
  }
}

std::string describe(const NchwcConvShape& g) {
  return "blocked conv " + std::to_string(g.batch) + "x" + std::to_string(g.in_channels) + "x" + std::to_string(g.H) +
         "x" + std::to_string(g.W) + " -> " + std::to_string(g.out_channels) + "x" + std::to_string(g.OH) + "x" +
         std::to_string(g.OW) + " kernel " + std::to_string(g.KH) + "x" + std::to_string(g.KW);
}

// Output size along one axis that the input, kernel, stride and leading padding allow with at most
// `pad` of trailing padding: out must satisfy (out - 1) * stride + kernel <= pad_begin + in + pad.
bool fits(size_t in, size_t out, size_t k, size_t s, size_t pad_begin) {
  if (pad_begin >= k) return false;  // a window entirely in the padding
  return (out - 1) * s + k <= pad_begin + in + k - 1;
}

int threads_for(size_t work) { return work < 32768 ? 1 : num_threads(); }

// fn(offset of the block's first channel plane in NCHW, offset of the block plane, channels in the
// block) for every 16-channel block of every image, in parallel.
template <class Fn>
void for_block_planes(size_t batch, size_t channels, size_t spatial, Fn fn) {
  const size_t blocks = (channels + kNchwcBlock - 1) / kNchwcBlock;
  const long planes = static_cast<long>(batch * blocks);
#pragma omp parallel for schedule(static) num_threads(threads_for(batch * channels * spatial))
  for (long pb = 0; pb < planes; ++pb) {
    const size_t n = static_cast<size_t>(pb) / blocks, c0 = static_cast<size_t>(pb) % blocks * kNchwcBlock;
    const size_t here = channels - c0 < kNchwcBlock ? channels - c0 : kNchwcBlock;
    fn((n * channels + c0) * spatial, static_cast<size_t>(pb) * spatial * kNchwcBlock, here);
  }
}

}  // namespace

void validate_nchwc(const NchwcConvShape& g, bool depthwise) {
  if (g.batch == 0 || g.in_channels == 0 || g.out_channels == 0 || g.H == 0 || g.W == 0 || g.OH == 0 || g.OW == 0 ||
      g.KH == 0 || g.KW == 0 || g.sh == 0 || g.sw == 0) {
    throw Error(ErrorCode::kArgument, describe(g) + ": sizes, kernel and stride must be positive");
  }
  if (g.in_block != 1 && g.in_block != kNchwcBlock) {
    throw Error(ErrorCode::kArgument, describe(g) + ": the input block must be 1 or 16");
  }
  if (g.out_channels % kNchwcBlock != 0 || g.in_channels % g.in_block != 0) {
    throw Error(ErrorCode::kShape, describe(g) + ": blocked channel counts must be multiples of 16");
  }
  if (depthwise && (g.in_block != kNchwcBlock || g.in_channels != g.out_channels)) {
    throw Error(ErrorCode::kShape, describe(g) + ": depthwise needs blocked input with as many channels as outputs");
  }
  if (!fits(g.H, g.OH, g.KH, g.sh, g.pt) || !fits(g.W, g.OW, g.KW, g.sw, g.pl)) {
    throw Error(ErrorCode::kShape, describe(g) + ": the output size does not fit the input, stride and padding");
  }
}

void nchwc_conv_forward(const NchwcConvShape& g, const float* x, const float* w, const float* bias,
                        const float* residual, float* y, Activation act) {
  const NchwcKernels& k = nchwc_kernels_for(active_isa());
  const bool relu = act != Activation::kNone;
  const float cap = activation_cap(act);
  const size_t total = g.batch * g.OH * g.OW, blocks = g.out_channels / kNchwcBlock;
  // Output blocks in groups of at most max_blocks, as even as possible (6 blocks: 3 + 3, not
  // 4 + 2: a 2-block tile does half the multiply-adds per broadcast).
  const size_t groups = (blocks + k.max_blocks - 1) / k.max_blocks;
  const size_t base = blocks / groups, extra = blocks % groups;
  // Tasks: (run of positions, group), the groups innermost so that one thread's consecutive tasks
  // read the same input positions (cached) against different weights. Runs are about 48 positions
  // (the input of 48 positions x 960 channels is 184 KB) and of equal length, so a 7x7 plane at
  // batch 1 is not cut into 48 + 1; fewer, longer runs when the groups alone give every thread
  // several tasks (each run reads the group's weights once more); more, shorter ones when there
  // are too few tasks for the threads.
  const int threads = threads_for(total * g.out_channels * g.in_channels * g.KH * g.KW / 16);
  const size_t want_tasks = 4 * static_cast<size_t>(threads);
  size_t chunks = (total + (groups >= want_tasks ? 191 : 47)) / (groups >= want_tasks ? 192 : 48);
  while (chunks * groups < want_tasks && chunks * 8 < total) ++chunks;
  const size_t run = (total + chunks - 1) / chunks;
  const long tasks = static_cast<long>(chunks * groups);
#pragma omp parallel for schedule(static) num_threads(threads)
  for (long t = 0; t < tasks; ++t) {
    const size_t group = static_cast<size_t>(t) % groups, chunk = static_cast<size_t>(t) / groups;
    const size_t gp0 = chunk * run;
    if (gp0 >= total) continue;  // equal runs can leave the last one empty
    const size_t count = total - gp0 < run ? total - gp0 : run;
    const size_t kb0 = group * base + (group < extra ? group : extra);
    const size_t nb = base + (group < extra ? 1 : 0);
    k.conv_positions(g, x, w, bias, residual, y, relu, cap, kb0, nb, gp0, count);
  }
}

void nchwc_depthwise_forward(const NchwcConvShape& g, const float* x, const float* w, const float* bias, float* y,
                             Activation act) {
  const NchwcKernels& k = nchwc_kernels_for(active_isa());
  const bool relu = act != Activation::kNone;
  const float cap = activation_cap(act);
  const size_t blocks = g.in_channels / kNchwcBlock;
  const long rows = static_cast<long>(g.batch * blocks * g.OH);
  const size_t work = g.batch * g.in_channels * g.OH * g.OW * g.KH * g.KW;
#pragma omp parallel for schedule(static) num_threads(threads_for(work))
  for (long r = 0; r < rows; ++r) {
    const size_t oh = static_cast<size_t>(r) % g.OH, plane = static_cast<size_t>(r) / g.OH;
    k.depthwise_rows(g, x, w, bias, y, relu, cap, plane / blocks, plane % blocks, oh, oh + 1);
  }
}

namespace {

std::string describe_block(const NchwcBlockShape& s) {
  return "inverted residual block " + std::to_string(s.batch) + "x" + std::to_string(s.in_channels) + "x" +
         std::to_string(s.H) + "x" + std::to_string(s.W) + " -> " + std::to_string(s.hidden) + " -> " +
         std::to_string(s.out_channels) + "x" + std::to_string(s.OH) + "x" + std::to_string(s.OW);
}

// Bytes of one task's band buffers: about a third of a 1 MB L2 cache, leaving room for the layers'
// weights and the input rows. MobileNetV2's forward at batch 16 was the same within noise with 256
// KB, 768 KB and 1.5 MB (three alternating rounds).
constexpr size_t kBandBytes = 384 * 1024;

// Output rows per band: as many as fit kBandBytes, at least one.
size_t band_rows(const NchwcBlockShape& s) {
  size_t band = 1;
  while (band < s.OH && nchwc_block_scratch(s, band + 1) * sizeof(float) <= kBandBytes) ++band;
  return band;
}

// The calling thread's scratch for every OpenMP thread's band buffers, kept between calls (a fresh
// allocation per call would fault its pages in again).
float* scratch_for(size_t floats) {
  thread_local std::vector<float> buffer;
  constexpr size_t kAlign = 64 / sizeof(float);
  if (buffer.size() < floats + kAlign) buffer.resize(floats + kAlign);
  float* p = buffer.data();
  while (reinterpret_cast<uintptr_t>(p) % 64 != 0) ++p;
  return p;
}

}  // namespace

void validate_nchwc_block(const NchwcBlockShape& s) {
  if (s.batch == 0 || s.in_channels == 0 || s.hidden == 0 || s.out_channels == 0 || s.H == 0 || s.W == 0 ||
      s.OH == 0 || s.OW == 0 || s.KH == 0 || s.KW == 0 || s.sh == 0 || s.sw == 0) {
    throw Error(ErrorCode::kArgument, describe_block(s) + ": sizes, kernel and stride must be positive");
  }
  if (s.in_channels % kNchwcBlock != 0 || s.hidden % kNchwcBlock != 0 || s.out_channels % kNchwcBlock != 0) {
    throw Error(ErrorCode::kShape, describe_block(s) + ": blocked channel counts must be multiples of 16");
  }
  if (!s.expand && s.hidden != s.in_channels) {
    throw Error(ErrorCode::kShape, describe_block(s) + ": without an expansion the depthwise layer has the input's channels");
  }
  if (s.residual && (s.in_channels != s.out_channels || s.H != s.OH || s.W != s.OW)) {
    throw Error(ErrorCode::kShape, describe_block(s) + ": a residual needs as many outputs as inputs, of the same size");
  }
  if (!fits(s.H, s.OH, s.KH, s.sh, s.pt) || !fits(s.W, s.OW, s.KW, s.sw, s.pl)) {
    throw Error(ErrorCode::kShape, describe_block(s) + ": the output size does not fit the input, stride and padding");
  }
}

size_t nchwc_block_rows_held(const NchwcBlockShape& s, size_t band) {
  const size_t reach = (band - 1) * s.sh + s.KH;
  return reach < s.H ? reach : s.H;
}

size_t nchwc_block_scratch(const NchwcBlockShape& s, size_t band) {
  return (s.expand ? s.hidden * nchwc_block_rows_held(s, band) * s.W : 0) + s.hidden * band * s.OW;
}

void nchwc_inverted_residual_forward(const NchwcBlockShape& s, const NchwcBlockWeights& w, const float* x, float* y) {
  const NchwcKernels& k = nchwc_kernels_for(active_isa());
  const size_t band = band_rows(s);
  const size_t work = s.batch * s.OH * s.OW * s.hidden * (s.KH * s.KW + s.out_channels) +
                      (s.expand ? s.batch * s.H * s.W * s.hidden * s.in_channels : 0);
  const int threads = threads_for(work / 16);
  // Tasks are (image, run of rows): whole images when the batch splits evenly over the threads;
  // otherwise each image in runs (their first band expands its top rows again), so that a batch of
  // 1 or 3 keeps both cores busy.
  size_t runs = 1;
  while (runs < 4 && runs < s.OH && (s.batch * runs < static_cast<size_t>(threads) || s.batch * runs % threads != 0)) ++runs;
  const size_t rows = (s.OH + runs - 1) / runs;
  const size_t per_thread = nchwc_block_scratch(s, band) + 16;  // + 16: each buffer on its own line
  float* scratch = scratch_for(per_thread * static_cast<size_t>(threads));
  const long tasks = static_cast<long>(s.batch * runs);
#pragma omp parallel num_threads(threads)
  {
#if defined(_OPENMP)
    float* mine = scratch + per_thread * static_cast<size_t>(omp_get_thread_num());
#else
    float* mine = scratch;
#endif
#pragma omp for schedule(static)
    for (long t = 0; t < tasks; ++t) {
      const size_t n = static_cast<size_t>(t) / runs, oh0 = static_cast<size_t>(t) % runs * rows;
      const size_t oh1 = oh0 + rows < s.OH ? oh0 + rows : s.OH;
      if (oh0 < oh1) k.inverted_residual_rows(s, w, x, y, n, oh0, oh1, band, mine);
    }
  }
}

void nchwc_from_nchw(const float* x, size_t batch, size_t channels, size_t spatial, float* y) {
  for_block_planes(batch, channels, spatial, [&](size_t plain, size_t blocked, size_t here) {
    const float* src = x + plain;
    float* dst = y + blocked;
    for (size_t s = 0; s < spatial; ++s) {
      float* d = dst + s * kNchwcBlock;
      for (size_t c = 0; c < here; ++c) d[c] = src[c * spatial + s];
      for (size_t c = here; c < kNchwcBlock; ++c) d[c] = 0.0f;
    }
  });
}

void nchwc_to_nchw(const float* x, size_t batch, size_t channels, size_t spatial, float* y) {
  for_block_planes(batch, channels, spatial, [&](size_t plain, size_t blocked, size_t here) {
    const float* src = x + blocked;
    float* dst = y + plain;
    for (size_t c = 0; c < here; ++c) {
      for (size_t s = 0; s < spatial; ++s) dst[c * spatial + s] = src[s * kNchwcBlock + c];
    }
  });
}

}  // namespace convkit
