// The reference pooling loops: one window at a time, in PyTorch's scan order, written to be obviously
// right. The optimised separable paths are tested against them; they are tested against PyTorch
// through the golden fixtures.
#include <cstdint>

#include "kernels/pool.h"
#include "runtime/error.h"

namespace convkit {
namespace {

struct Range {
  int64_t start;  // first position (may be negative: padding)
  int64_t step;   // dilation
  int64_t count;  // kernel size
};

Range window(const PoolGeometry& g, int a, size_t o) {
  return Range{static_cast<int64_t>(o * g.stride[a]) - static_cast<int64_t>(g.padding[a]),
               static_cast<int64_t>(g.dilation[a]), static_cast<int64_t>(g.kernel[a])};
}

bool inside(int64_t pos, size_t extent) { return pos >= 0 && pos < static_cast<int64_t>(extent); }

// PyTorch's divisor along one axis.
int64_t avg_axis_factor(const PoolGeometry& g, int a, size_t o, bool count_include_pad) {
  const int64_t in = static_cast<int64_t>(g.in[a]), p = static_cast<int64_t>(g.padding[a]);
  const int64_t start = static_cast<int64_t>(o * g.stride[a]) - p;
  int64_t end = start + static_cast<int64_t>(g.kernel[a]);
  if (end > in + p) end = in + p;
  if (count_include_pad) return end - start;
  const int64_t s0 = start < 0 ? 0 : start;
  const int64_t e0 = end > in ? in : end;
  return e0 - s0;
}

}  // namespace

void max_pool_forward_ref(const PoolGeometry& g, const float* x, float* y, int32_t* indices) {
  const size_t D = g.in[0], H = g.in[1], W = g.in[2];
  const size_t in_plane = pool_in_plane(g), out_plane = pool_out_plane(g);
  for (size_t p = 0; p < g.planes; ++p) {
    const float* xp = x + p * in_plane;
    size_t o = 0;
    for (size_t od = 0; od < g.out[0]; ++od)
      for (size_t oh = 0; oh < g.out[1]; ++oh)
        for (size_t ow = 0; ow < g.out[2]; ++ow, ++o) {
          const Range rd = window(g, 0, od), rh = window(g, 1, oh), rw = window(g, 2, ow);
          float best = -__builtin_inff();
          int64_t best_index = -1;
          for (int64_t kd = 0; kd < rd.count; ++kd) {
            const int64_t d = rd.start + kd * rd.step;
            if (!inside(d, D)) continue;
            for (int64_t kh = 0; kh < rh.count; ++kh) {
              const int64_t h = rh.start + kh * rh.step;
              if (!inside(h, H)) continue;
              for (int64_t kw = 0; kw < rw.count; ++kw) {
                const int64_t w = rw.start + kw * rw.step;
                if (!inside(w, W)) continue;
                const int64_t index = (d * static_cast<int64_t>(H) + h) * static_cast<int64_t>(W) + w;
                const float v = xp[index];
                if (best_index < 0) best_index = index;  // the first valid tap, kept when all are -inf
                if (v > best || v != v) {
                  best = v;
                  best_index = index;
                }
              }
            }
          }
          if (best_index < 0) throw Error(ErrorCode::kInternal, "max_pool_forward_ref: empty window");
          y[p * out_plane + o] = best;
          if (indices != nullptr) indices[p * out_plane + o] = static_cast<int32_t>(best_index);
        }
  }
}

void index_pool_backward_ref(size_t planes, size_t in_plane, size_t out_plane, const float* gy,
                             const int32_t* indices, float* gx) {
  for (size_t i = 0; i < planes * in_plane; ++i) gx[i] = 0.0f;
  for (size_t p = 0; p < planes; ++p) {
    for (size_t o = 0; o < out_plane; ++o) {
      const int32_t i = indices[p * out_plane + o];
      if (i < 0 || static_cast<size_t>(i) >= in_plane) {
        throw Error(ErrorCode::kArgument, "index_pool_backward_ref: index out of range");
      }
      gx[p * in_plane + static_cast<size_t>(i)] += gy[p * out_plane + o];
    }
  }
}

void avg_pool_forward_ref(const PoolGeometry& g, const AvgPoolOptions& opts, const float* x, float* y) {
  check_avg_pool(g, opts);
  const size_t D = g.in[0], H = g.in[1], W = g.in[2];
  const size_t in_plane = pool_in_plane(g), out_plane = pool_out_plane(g);
  for (size_t p = 0; p < g.planes; ++p) {
    const float* xp = x + p * in_plane;
    size_t o = 0;
    for (size_t od = 0; od < g.out[0]; ++od)
      for (size_t oh = 0; oh < g.out[1]; ++oh)
        for (size_t ow = 0; ow < g.out[2]; ++ow, ++o) {
          const Range rd = window(g, 0, od), rh = window(g, 1, oh), rw = window(g, 2, ow);
          double sum = 0.0;
          for (int64_t kd = 0; kd < rd.count; ++kd)
            for (int64_t kh = 0; kh < rh.count; ++kh)
              for (int64_t kw = 0; kw < rw.count; ++kw) {
                const int64_t d = rd.start + kd, h = rh.start + kh, w = rw.start + kw;
                if (inside(d, D) && inside(h, H) && inside(w, W)) {
                  sum += xp[(d * static_cast<int64_t>(H) + h) * static_cast<int64_t>(W) + w];
                }
              }
          const int64_t divisor = opts.divisor_override != 0
                                      ? opts.divisor_override
                                      : avg_axis_factor(g, 0, od, opts.count_include_pad) *
                                            avg_axis_factor(g, 1, oh, opts.count_include_pad) *
                                            avg_axis_factor(g, 2, ow, opts.count_include_pad);
          y[p * out_plane + o] = static_cast<float>(sum / static_cast<double>(divisor));
        }
  }
}

void avg_pool_backward_ref(const PoolGeometry& g, const AvgPoolOptions& opts, const float* gy, float* gx) {
  check_avg_pool(g, opts);
  const size_t D = g.in[0], H = g.in[1], W = g.in[2];
  const size_t in_plane = pool_in_plane(g), out_plane = pool_out_plane(g);
  for (size_t i = 0; i < g.planes * in_plane; ++i) gx[i] = 0.0f;
  for (size_t p = 0; p < g.planes; ++p) {
    float* gp = gx + p * in_plane;
    size_t o = 0;
    for (size_t od = 0; od < g.out[0]; ++od)
      for (size_t oh = 0; oh < g.out[1]; ++oh)
        for (size_t ow = 0; ow < g.out[2]; ++ow, ++o) {
          const Range rd = window(g, 0, od), rh = window(g, 1, oh), rw = window(g, 2, ow);
          const int64_t divisor = opts.divisor_override != 0
                                      ? opts.divisor_override
                                      : avg_axis_factor(g, 0, od, opts.count_include_pad) *
                                            avg_axis_factor(g, 1, oh, opts.count_include_pad) *
                                            avg_axis_factor(g, 2, ow, opts.count_include_pad);
          const float delta = gy[p * out_plane + o] / static_cast<float>(divisor);
          for (int64_t kd = 0; kd < rd.count; ++kd)
            for (int64_t kh = 0; kh < rh.count; ++kh)
              for (int64_t kw = 0; kw < rw.count; ++kw) {
                const int64_t d = rd.start + kd, h = rh.start + kh, w = rw.start + kw;
                if (inside(d, D) && inside(h, H) && inside(w, W)) {
                  gp[(d * static_cast<int64_t>(H) + h) * static_cast<int64_t>(W) + w] += delta;
                }
              }
        }
  }
}

}  // namespace convkit
