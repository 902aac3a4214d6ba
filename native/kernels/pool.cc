// Pooling driver: geometry checks, the OpenMP team over planes, dispatch to the per-ISA plane loops
// (pool_impl.inc), the index scatter of max-pooling backward, and adaptive pooling.
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <string>

#include "kernels/pool.h"
#include "runtime/error.h"
#include "runtime/threads.h"

#if defined(_OPENMP)
#include <omp.h>
#endif

namespace convkit {
namespace {

constexpr int64_t kMaxDim = int64_t{1} << 31;

// Per-thread scratch, grown to the largest request and reused (64-byte aligned).
struct Scratch {
  void* data = nullptr;
  size_t bytes = 0;
  ~Scratch() { std::free(data); }
};
thread_local Scratch t_scratch;

void* scratch(size_t bytes) {
  if (bytes <= t_scratch.bytes && t_scratch.data != nullptr) return t_scratch.data;
  std::free(t_scratch.data);
  t_scratch.data = nullptr;
  t_scratch.bytes = 0;
  const size_t rounded = (bytes + 63) / 64 * 64 + 64;
  void* p = std::aligned_alloc(64, rounded);
  if (p == nullptr) {
    throw Error(ErrorCode::kOutOfMemory, "pooling: cannot allocate " + std::to_string(rounded) + " bytes of scratch");
  }
  t_scratch.data = p;
  t_scratch.bytes = rounded;
  return p;
}

// Below this many elements (input + output) per thread, fewer threads: a fork/join costs microseconds.
constexpr double kMinElementsPerThread = 32768.0;

int pick_threads(int requested, size_t planes, double elements) {
  int t = requested < 1 ? 1 : requested;
  if (static_cast<double>(t) > elements / kMinElementsPerThread) {
    t = elements < kMinElementsPerThread ? 1 : static_cast<int>(elements / kMinElementsPerThread);
  }
  if (planes < static_cast<size_t>(t)) t = planes == 0 ? 1 : static_cast<int>(planes);
  return t < 1 ? 1 : t;
}

// Runs body(p0, p1) on contiguous ranges of planes, one per thread. An exception thrown on any
// thread is rethrown on the caller after the team joins (nothing may escape an OpenMP region).
template <class Body>
void for_planes(int threads, size_t planes, const Body& body) {
  if (planes == 0) return;
#if defined(_OPENMP)
  if (threads > 1) {
    std::exception_ptr error;
    std::mutex mu;
#pragma omp parallel num_threads(threads)
    {
      const size_t tid = static_cast<size_t>(omp_get_thread_num());
      const size_t nth = static_cast<size_t>(omp_get_num_threads());
      try {
        body(planes * tid / nth, planes * (tid + 1) / nth);
      } catch (...) {
        std::lock_guard<std::mutex> lock(mu);
        if (!error) error = std::current_exception();
      }
    }
    if (error) std::rethrow_exception(error);
    return;
  }
#else
  (void)threads;
#endif
  body(0, planes);
}

const PoolPlaneKernels& kernels_for(Isa isa) {
  switch (isa) {
#if defined(CONVKIT_HAVE_X86_KERNELS)
    case Isa::kAvx512: return pool_kernels_avx512();
    case Isa::kAvx2: return pool_kernels_avx2();
#endif
    default: return pool_kernels_scalar();
  }
}

std::string dims_text(const size_t* v) {
  return std::to_string(v[0]) + "x" + std::to_string(v[1]) + "x" + std::to_string(v[2]);
}

int64_t start_index(int64_t o, int64_t out, int64_t in) { return (o / out) * in + ((o % out) * in) / out; }
int64_t end_index(int64_t o, int64_t out, int64_t in) { return 1 + ((o + 1) * in - 1) / out; }

}  // namespace

int64_t pool_output_size(int64_t in, int64_t kernel, int64_t stride, int64_t padding, int64_t dilation,
                         bool ceil_mode) {
  const int64_t num = in + 2 * padding - dilation * (kernel - 1) - 1 + (ceil_mode ? stride - 1 : 0);
  // floor division (num may be negative)
  int64_t out = (num >= 0 ? num / stride : -((-num + stride - 1) / stride)) + 1;
  if (ceil_mode && (out - 1) * stride >= in + padding) --out;
  return out;
}

void make_pool_geometry(PoolGeometry& g, const char* op) {
  const char* axis_names[3] = {"depth", "height", "width"};
  int64_t outs[3] = {0, 0, 0};
  for (int a = 0; a < 3; ++a) {
    const std::string axis = axis_names[a];
    auto arg = [&](const char* what, size_t v, size_t lo) {
      if (v < lo || v >= static_cast<size_t>(kMaxDim)) {
        throw Error(ErrorCode::kArgument, std::string(op) + ": " + what + " along " + axis + " must be in " +
                                              std::to_string(lo) + ".." + std::to_string(kMaxDim - 1) + ", got " +
                                              std::to_string(v));
      }
    };
    arg("kernel size", g.kernel[a], 1);
    arg("stride", g.stride[a], 1);
    arg("dilation", g.dilation[a], 1);
    arg("padding", g.padding[a], 0);
    if (g.in[a] == 0 || g.in[a] >= static_cast<size_t>(kMaxDim)) {
      throw Error(ErrorCode::kShape, std::string(op) + ": input " + axis + " must be in 1.." +
                                         std::to_string(kMaxDim - 1) + ", got " + std::to_string(g.in[a]));
    }
    if (g.padding[a] > g.kernel[a] / 2) {
      throw Error(ErrorCode::kArgument, std::string(op) + ": padding should be at most half of kernel size, but got padding=" +
                                            std::to_string(g.padding[a]) + " and kernel_size=" +
                                            std::to_string(g.kernel[a]) + " along " + axis);
    }
    // With dilation, a window near the border can hold only padding taps (kernel 2, dilation 3,
    // padding 1 on an input of 2): PyTorch returns -inf with an index outside the input there.
    for (int64_t o = 0; o < pool_output_size(static_cast<int64_t>(g.in[a]), static_cast<int64_t>(g.kernel[a]),
                                               static_cast<int64_t>(g.stride[a]), static_cast<int64_t>(g.padding[a]),
                                               static_cast<int64_t>(g.dilation[a]), g.ceil_mode);
         ++o) {
      const int64_t start = o * static_cast<int64_t>(g.stride[a]) - static_cast<int64_t>(g.padding[a]);
      if (start >= 0) break;  // this window and every later one start inside the input
      const int64_t d = static_cast<int64_t>(g.dilation[a]);
      const int64_t first = start + (-start + d - 1) / d * d;  // first tap at a position >= 0
      const int64_t last = start + (static_cast<int64_t>(g.kernel[a]) - 1) * d;
      if (first > last || first >= static_cast<int64_t>(g.in[a])) {
        throw Error(ErrorCode::kArgument, std::string(op) + ": the window of output " + std::to_string(o) +
                                              " along " + axis + " holds only padding (kernel_size=" +
                                              std::to_string(g.kernel[a]) + ", dilation=" + std::to_string(d) +
                                              ", padding=" + std::to_string(g.padding[a]) + ", input size " +
                                              std::to_string(g.in[a]) + ")");
      }
    }
    outs[a] = pool_output_size(static_cast<int64_t>(g.in[a]), static_cast<int64_t>(g.kernel[a]),
                               static_cast<int64_t>(g.stride[a]), static_cast<int64_t>(g.padding[a]),
                               static_cast<int64_t>(g.dilation[a]), g.ceil_mode);
    g.out[a] = outs[a] < 1 ? 0 : static_cast<size_t>(outs[a]);
  }
  if (g.out[0] == 0 || g.out[1] == 0 || g.out[2] == 0) {
    throw Error(ErrorCode::kShape, std::string(op) + ": input size " + dims_text(g.in) +
                                       " is too small for the window: the output size would be " +
                                       std::to_string(outs[0]) + "x" + std::to_string(outs[1]) + "x" +
                                       std::to_string(outs[2]));
  }
  const double plane = static_cast<double>(g.in[0]) * static_cast<double>(g.in[1]) * static_cast<double>(g.in[2]);
  if (plane >= static_cast<double>(kMaxDim)) {
    throw Error(ErrorCode::kShape, std::string(op) + ": an input plane of " + dims_text(g.in) +
                                       " elements does not fit int32 indices");
  }
}

void check_avg_pool(const PoolGeometry& g, const AvgPoolOptions& opts) {
  if (opts.divisor_override < 0) {
    throw Error(ErrorCode::kArgument, "avg_pool: divisor_override must be positive, got " +
                                          std::to_string(opts.divisor_override));
  }
  for (int a = 0; a < 3; ++a) {
    if (g.dilation[a] != 1) throw Error(ErrorCode::kArgument, "avg_pool: dilation must be 1");
  }
}

size_t pool_in_plane(const PoolGeometry& g) { return g.in[0] * g.in[1] * g.in[2]; }
size_t pool_out_plane(const PoolGeometry& g) { return g.out[0] * g.out[1] * g.out[2]; }

const char* pool_kernel_name(Isa isa) { return kernels_for(isa).name; }

namespace {

// 2x2 windows, stride 2, no padding or dilation, every window inside the input (VGG, LeNet and
// CIFAR nets pool this way): a direct loop over output rows, reading two input rows, instead of the
// separable passes through scratch. Same tie and NaN rules as the reference (first maximum in
// scan order; a NaN wins and a later NaN replaces it).
bool is_plain_2x2(const PoolGeometry& g) {
  return g.in[0] == 1 && g.kernel[0] == 1 && g.kernel[1] == 2 && g.kernel[2] == 2 && g.stride[1] == 2 &&
         g.stride[2] == 2 && g.padding[1] == 0 && g.padding[2] == 0 && g.dilation[1] == 1 && g.dilation[2] == 1 &&
         2 * g.out[1] <= g.in[1] && 2 * g.out[2] <= g.in[2];
}

template <bool kIdx>
void max_plane_2x2(const PoolGeometry& g, const float* __restrict x, float* __restrict y, int32_t* __restrict idx) {
  const size_t W = g.in[2], oh_n = g.out[1], ow_n = g.out[2];
  for (size_t oh = 0; oh < oh_n; ++oh) {
    const float* r0 = x + 2 * oh * W;
    const float* r1 = r0 + W;
    float* yo = y + oh * ow_n;
    int32_t* io = kIdx ? idx + oh * ow_n : nullptr;
    const int32_t base0 = static_cast<int32_t>(2 * oh * W), base1 = static_cast<int32_t>((2 * oh + 1) * W);
    // Branch-free selects: the comparisons are data-dependent, and branches on them mispredict.
    for (size_t ow = 0; ow < ow_n; ++ow) {
      const size_t c = 2 * ow;
      const int32_t ci = static_cast<int32_t>(c);
      float best = r0[c];
      int32_t at = base0 + ci;
      const float v1 = r0[c + 1], v2 = r1[c], v3 = r1[c + 1];
      const bool t1 = v1 > best || v1 != v1;
      best = t1 ? v1 : best;
      at = t1 ? base0 + ci + 1 : at;
      const bool t2 = v2 > best || v2 != v2;
      best = t2 ? v2 : best;
      at = t2 ? base1 + ci : at;
      const bool t3 = v3 > best || v3 != v3;
      best = t3 ? v3 : best;
      at = t3 ? base1 + ci + 1 : at;
      yo[ow] = best;
      if (kIdx) io[ow] = at;
    }
  }
}

}  // namespace

void max_pool_forward_with(Isa isa, int threads, const PoolGeometry& g, const float* x, float* y, int32_t* indices) {
  require_isa(isa);
  const PoolPlaneKernels& k = kernels_for(isa);
  const bool plain = is_plain_2x2(g);
  const size_t in_plane = pool_in_plane(g), out_plane = pool_out_plane(g);
  const int t = pick_threads(threads, g.planes, static_cast<double>(g.planes) * static_cast<double>(in_plane + out_plane));
  const size_t bytes = plain ? 0 : k.scratch_bytes(g);
  for_planes(t, g.planes, [&](size_t p0, size_t p1) {
    void* s = plain ? nullptr : scratch(bytes);
    for (size_t p = p0; p < p1; ++p) {
      const float* xp = x + p * in_plane;
      float* yp = y + p * out_plane;
      int32_t* ip = indices != nullptr ? indices + p * out_plane : nullptr;
      if (!plain) {
        k.max_plane(g, xp, yp, ip, s);
      } else if (ip != nullptr) {
        max_plane_2x2<true>(g, xp, yp, ip);
      } else {
        max_plane_2x2<false>(g, xp, yp, nullptr);
      }
    }
  });
}

void max_pool_forward(const PoolGeometry& g, const float* x, float* y, int32_t* indices) {
  max_pool_forward_with(active_isa(), num_threads(), g, x, y, indices);
}

void index_pool_backward_with(int threads, size_t planes, size_t in_plane, size_t out_plane, const float* gy,
                              const int32_t* indices, float* gx) {
  const int t = pick_threads(threads, planes, static_cast<double>(planes) * static_cast<double>(in_plane + out_plane));
  for_planes(t, planes, [&](size_t p0, size_t p1) {
    bool bad = false;
    for (size_t p = p0; p < p1; ++p) {
      float* __restrict gp = gx + p * in_plane;
      const float* __restrict gyp = gy + p * out_plane;
      const int32_t* __restrict ip = indices + p * out_plane;
      for (size_t i = 0; i < in_plane; ++i) gp[i] = 0.0f;
      for (size_t o = 0; o < out_plane; ++o) {
        const uint32_t i = static_cast<uint32_t>(ip[o]);
        if (i < in_plane) {
          gp[i] += gyp[o];
        } else {
          bad = true;
        }
      }
    }
    if (bad) {
      throw Error(ErrorCode::kArgument, "max_pool backward: an index lies outside the input plane of " +
                                            std::to_string(in_plane) + " elements");
    }
  });
}

void index_pool_backward(size_t planes, size_t in_plane, size_t out_plane, const float* gy, const int32_t* indices,
                         float* gx) {
  index_pool_backward_with(num_threads(), planes, in_plane, out_plane, gy, indices, gx);
}

void avg_pool_forward_with(Isa isa, int threads, const PoolGeometry& g, const AvgPoolOptions& opts, const float* x,
                           float* y) {
  check_avg_pool(g, opts);
  require_isa(isa);
  const PoolPlaneKernels& k = kernels_for(isa);
  const size_t in_plane = pool_in_plane(g), out_plane = pool_out_plane(g);
  const int t = pick_threads(threads, g.planes, static_cast<double>(g.planes) * static_cast<double>(in_plane + out_plane));
  const size_t bytes = k.scratch_bytes(g);
  for_planes(t, g.planes, [&](size_t p0, size_t p1) {
    void* s = scratch(bytes);
    for (size_t p = p0; p < p1; ++p) k.avg_plane(g, opts, x + p * in_plane, y + p * out_plane, s);
  });
}

void avg_pool_forward(const PoolGeometry& g, const AvgPoolOptions& opts, const float* x, float* y) {
  avg_pool_forward_with(active_isa(), num_threads(), g, opts, x, y);
}

void avg_pool_backward_with(Isa isa, int threads, const PoolGeometry& g, const AvgPoolOptions& opts,
                            const float* gy, float* gx) {
  check_avg_pool(g, opts);
  require_isa(isa);
  const PoolPlaneKernels& k = kernels_for(isa);
  const size_t in_plane = pool_in_plane(g), out_plane = pool_out_plane(g);
  const int t = pick_threads(threads, g.planes, static_cast<double>(g.planes) * static_cast<double>(in_plane + out_plane));
  const size_t bytes = k.scratch_bytes(g);
  for_planes(t, g.planes, [&](size_t p0, size_t p1) {
    void* s = scratch(bytes);
    for (size_t p = p0; p < p1; ++p) k.avg_plane_backward(g, opts, gy + p * out_plane, gx + p * in_plane, s);
  });
}

void avg_pool_backward(const PoolGeometry& g, const AvgPoolOptions& opts, const float* gy, float* gx) {
  avg_pool_backward_with(active_isa(), num_threads(), g, opts, gy, gx);
}

// ---- adaptive pooling --------------------------------------------------------------------------

void check_adaptive_pool(const AdaptivePoolGeometry& g, const char* op) {
  double in_plane = 1.0, out_plane = 1.0;
  for (int a = 0; a < 3; ++a) {
    if (g.in[a] == 0 || g.out[a] == 0 || g.in[a] >= static_cast<size_t>(kMaxDim) ||
        g.out[a] >= static_cast<size_t>(kMaxDim)) {
      throw Error(ErrorCode::kShape, std::string(op) + ": input size " + dims_text(g.in) + " and output size " +
                                         dims_text(g.out) + " must both be positive");
    }
    in_plane *= static_cast<double>(g.in[a]);
    out_plane *= static_cast<double>(g.out[a]);
  }
  if (in_plane >= static_cast<double>(kMaxDim) || out_plane >= static_cast<double>(kMaxDim)) {
    throw Error(ErrorCode::kShape, std::string(op) + ": a plane of " + dims_text(g.in) +
                                       " elements does not fit int32 indices");
  }
}

namespace {

struct Window {
  int64_t d0, d1, h0, h1, w0, w1;
};

Window adaptive_window(const AdaptivePoolGeometry& g, int64_t od, int64_t oh, int64_t ow) {
  const int64_t D = static_cast<int64_t>(g.in[0]), H = static_cast<int64_t>(g.in[1]), W = static_cast<int64_t>(g.in[2]);
  const int64_t OD = static_cast<int64_t>(g.out[0]), OH = static_cast<int64_t>(g.out[1]),
                OW = static_cast<int64_t>(g.out[2]);
  return Window{start_index(od, OD, D), end_index(od, OD, D), start_index(oh, OH, H),
                end_index(oh, OH, H),   start_index(ow, OW, W), end_index(ow, OW, W)};
}

template <class Fn>
void adaptive_run(const AdaptivePoolGeometry& g, const Fn& plane_fn) {
  const size_t in_plane = g.in[0] * g.in[1] * g.in[2], out_plane = g.out[0] * g.out[1] * g.out[2];
  const int t = pick_threads(num_threads(), g.planes, static_cast<double>(g.planes) * static_cast<double>(in_plane + out_plane));
  for_planes(t, g.planes, [&](size_t p0, size_t p1) {
    for (size_t p = p0; p < p1; ++p) plane_fn(p, in_plane, out_plane);
  });
}

}  // namespace

void adaptive_avg_pool_forward(const AdaptivePoolGeometry& g, const float* x, float* y) {
  check_adaptive_pool(g, "adaptive_avg_pool");
  const size_t H = g.in[1], W = g.in[2];
  const bool global = g.out[0] == 1 && g.out[1] == 1 && g.out[2] == 1;
  adaptive_run(g, [&](size_t p, size_t in_plane, size_t out_plane) {
    const float* xp = x + p * in_plane;
    float* yp = y + p * out_plane;
    if (global) {
      // One window over the whole plane (the global pooling before a classifier), summed in
      // vector lanes: one add after another cost MobileNetV2 0.15 ms per image for 1280 planes of 49.
      float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
      for (size_t i = 0; i < in_plane; ++i) sum += xp[i];
      yp[0] = sum / static_cast<float>(g.in[0]) / static_cast<float>(H) / static_cast<float>(W);
      return;
    }
    size_t o = 0;
    for (size_t od = 0; od < g.out[0]; ++od)
      for (size_t oh = 0; oh < g.out[1]; ++oh)
        for (size_t ow = 0; ow < g.out[2]; ++ow, ++o) {
          const Window w = adaptive_window(g, static_cast<int64_t>(od), static_cast<int64_t>(oh), static_cast<int64_t>(ow));
          float sum = 0.0f;
          for (int64_t d = w.d0; d < w.d1; ++d)
            for (int64_t h = w.h0; h < w.h1; ++h) {
              const float* row = xp + (static_cast<size_t>(d) * H + static_cast<size_t>(h)) * W;
              for (int64_t c = w.w0; c < w.w1; ++c) sum += row[c];
            }
          yp[o] = sum / static_cast<float>(w.d1 - w.d0) / static_cast<float>(w.h1 - w.h0) /
                  static_cast<float>(w.w1 - w.w0);
        }
  });
}

void adaptive_avg_pool_backward(const AdaptivePoolGeometry& g, const float* gy, float* gx) {
  check_adaptive_pool(g, "adaptive_avg_pool");
  const size_t H = g.in[1], W = g.in[2];
  adaptive_run(g, [&](size_t p, size_t in_plane, size_t out_plane) {
    float* gp = gx + p * in_plane;
    const float* gyp = gy + p * out_plane;
    for (size_t i = 0; i < in_plane; ++i) gp[i] = 0.0f;
    size_t o = 0;
    for (size_t od = 0; od < g.out[0]; ++od)
      for (size_t oh = 0; oh < g.out[1]; ++oh)
        for (size_t ow = 0; ow < g.out[2]; ++ow, ++o) {
          const Window w = adaptive_window(g, static_cast<int64_t>(od), static_cast<int64_t>(oh), static_cast<int64_t>(ow));
          const float delta = gyp[o] / static_cast<float>(w.d1 - w.d0) / static_cast<float>(w.h1 - w.h0) /
                              static_cast<float>(w.w1 - w.w0);
          for (int64_t d = w.d0; d < w.d1; ++d)
            for (int64_t h = w.h0; h < w.h1; ++h) {
              float* row = gp + (static_cast<size_t>(d) * H + static_cast<size_t>(h)) * W;
              for (int64_t c = w.w0; c < w.w1; ++c) row[c] += delta;
            }
        }
  });
}

void adaptive_max_pool_forward(const AdaptivePoolGeometry& g, const float* x, float* y, int32_t* indices) {
  check_adaptive_pool(g, "adaptive_max_pool");
  const size_t H = g.in[1], W = g.in[2];
  adaptive_run(g, [&](size_t p, size_t in_plane, size_t out_plane) {
    const float* xp = x + p * in_plane;
    float* yp = y + p * out_plane;
    size_t o = 0;
    for (size_t od = 0; od < g.out[0]; ++od)
      for (size_t oh = 0; oh < g.out[1]; ++oh)
        for (size_t ow = 0; ow < g.out[2]; ++ow, ++o) {
          const Window w = adaptive_window(g, static_cast<int64_t>(od), static_cast<int64_t>(oh), static_cast<int64_t>(ow));
          float m = -__builtin_inff();
          size_t best = (static_cast<size_t>(w.d0) * H + static_cast<size_t>(w.h0)) * W + static_cast<size_t>(w.w0);
          for (int64_t d = w.d0; d < w.d1; ++d)
            for (int64_t h = w.h0; h < w.h1; ++h) {
              const size_t row = (static_cast<size_t>(d) * H + static_cast<size_t>(h)) * W;
              for (int64_t c = w.w0; c < w.w1; ++c) {
                const float v = xp[row + static_cast<size_t>(c)];
                if (v > m || v != v) {
                  m = v;
                  best = row + static_cast<size_t>(c);
                }
              }
            }
          yp[o] = m;
          if (indices != nullptr) indices[p * out_plane + o] = static_cast<int32_t>(best);
        }
  });
}

}  // namespace convkit
