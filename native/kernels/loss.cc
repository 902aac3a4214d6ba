// Drivers of the losses (see loss.h). The exponentials go through the path's vectorised loops
// (ActivationKernels: log_softmax_stats, scaled_softmax, bce_*); the rest (gathers, class sums,
// pointwise arithmetic) is plain C++ here. Work is split over one OpenMP team by rows / column tiles
// (class losses) or by element ranges (pointwise losses); each thread sums its own share in double
// and the shares are added in thread order, so a result depends only on the thread count.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "kernels/activation_kernels.h"
#include "kernels/activation_parallel.h"
#include "kernels/loss.h"
#include "runtime/error.h"
#include "runtime/threads.h"

namespace convkit {
namespace {

constexpr size_t kColumnTile = 64;              // columns per item when inner > 1
constexpr size_t kPointTile = 1024;             // elements per step of the pointwise loops
constexpr size_t kMinElementsPerThread = 16 * 1024;

size_t checked_mul(size_t a, size_t b, const char* op) {
  if (a != 0 && b > static_cast<size_t>(-1) / a) throw Error(ErrorCode::kShape, std::string(op) + ": tensor too large");
  return a * b;
}

LossPath default_path() { return {active_isa(), num_threads()}; }

float weight_of(const ClassLossOptions& o, int64_t c) { return o.weight != nullptr ? o.weight[c] : 1.0f; }

double weight_total(const ClassLossOptions& o, size_t classes) {
  if (o.weight == nullptr) return static_cast<double>(classes);
  double w = 0.0;
  for (size_t c = 0; c < classes; ++c) w += o.weight[c];
  return w;
}

// Sum of n floats in double, in 8 independent lanes.
double sum_double(const float* v, size_t n) {
  double lane[8] = {};
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
#pragma GCC unroll 1
    for (size_t l = 0; l < 8; ++l) lane[l] += v[i + l];
  }
  double s = 0.0;
  for (size_t l = 0; l < 8; ++l) s += lane[l];
  for (; i < n; ++i) s += v[i];
  return s;
}

// Work items of a class loss: one per (b, column tile); a tile is the whole row when inner == 1.
struct ClassItems {
  size_t tiles;
  size_t count;
};

ClassItems class_items(const ClassShape& s) {
  const size_t tiles = s.inner == 1 ? 1 : (s.inner + kColumnTile - 1) / kColumnTile;
  return {tiles, s.batch * tiles};
}

// Runs fn(tid, b, j0, j1) for every item on a team sized by the element count (tid < threads).
template <class Fn>
void for_each_class_item(int threads, const ClassShape& s, Fn&& fn) {
  const ClassItems it = class_items(s);
  const size_t elements = s.batch * s.classes * s.inner;
  const int t = pick_threads(threads, elements, kMinElementsPerThread);
  parallel_chunks(t, it.count, 1, [&](int tid, size_t b0, size_t b1) {
    for (size_t i = b0; i < b1; ++i) {
      const size_t b = i / it.tiles;
      const size_t j0 = (i % it.tiles) * kColumnTile;
      const size_t j1 = s.inner == 1 ? 1 : (j0 + kColumnTile < s.inner ? j0 + kColumnTile : s.inner);
      fn(tid, b, j0, j1);
    }
  });
}

// acc[l] += sum_c f(c * inner + l, c) for l < cols: vectorised over l for column tiles, over c in
// 16 lanes for a single row.
template <class F>
void add_class_sums(size_t classes, size_t inner, size_t cols, float* acc, F&& f) {
  if (inner == 1) {
    float lane[16] = {};
    size_t c = 0;
    for (; c + 16 <= classes; c += 16) {
#pragma GCC unroll 1
      for (size_t q = 0; q < 16; ++q) lane[q] += f(c + q, c + q);
    }
    float s = 0.0f;
    for (size_t q = 0; q < 16; ++q) s += lane[q];
    for (; c < classes; ++c) s += f(c, c);
    acc[0] += s;
    return;
  }
  for (size_t c = 0; c < classes; ++c) {
    for (size_t l = 0; l < cols; ++l) acc[l] += f(c * inner + l, c);
  }
}

// Per-thread partial sums, added in thread order.
struct Partials {
  explicit Partials(int threads) : v(static_cast<size_t>(threads > 1 ? threads : 1)) {}
  LossSums total() const {
    LossSums s;
    for (const LossSums& p : v) {
      s.total += p.total;
      s.weight += p.weight;
    }
    return s;
  }
  std::vector<LossSums> v;
};

}  // namespace

// ---------------------------------------------------------------------------------------------
// Validation

void validate_class_loss(const char* op, const ClassShape& s, const int32_t* target, const ClassLossOptions& opts) {
  checked_mul(checked_mul(s.batch, s.classes, op), s.inner, op);
  if (!(opts.label_smoothing >= 0.0f && opts.label_smoothing <= 1.0f)) {
    throw Error(ErrorCode::kArgument, std::string(op) + ": label_smoothing must be in [0, 1], got " +
                                          std::to_string(opts.label_smoothing));
  }
  if (target == nullptr) return;
  const size_t positions = s.batch * s.inner;
  for (size_t i = 0; i < positions; ++i) {
    const int64_t t = target[i];
    if (t == opts.ignore_index) continue;
    if (t < 0 || t >= static_cast<int64_t>(s.classes)) {
      throw Error(ErrorCode::kArgument, std::string(op) + ": class index " + std::to_string(t) + " at position " +
                                            std::to_string(i) + " is out of range for " + std::to_string(s.classes) +
                                            " classes (ignore_index is " + std::to_string(opts.ignore_index) + ")");
    }
  }
}

void validate_pointwise_loss(PointwiseLoss kind, const PointwiseLossOptions& opts) {
  const int k = static_cast<int>(kind);
  if (k < 0 || k > 2) throw Error(ErrorCode::kArgument, "pointwise loss: unknown kind " + std::to_string(k));
  if (kind == PointwiseLoss::kSmoothL1 && !(opts.beta >= 0.0f && std::isfinite(opts.beta))) {
    throw Error(ErrorCode::kArgument, "smooth_l1_loss: beta must be a finite number >= 0, got " +
                                          std::to_string(opts.beta));
  }
}

// ---------------------------------------------------------------------------------------------
// Cross entropy with class indices

LossSums cross_entropy_forward_with(const LossPath& p, const ClassShape& s, const float* logits,
                                    const int32_t* target, const ClassLossOptions& opts, float* stats,
                                    float* losses) {
  validate_class_loss("cross_entropy", s, target, opts);
  const ActivationKernels& k = activation_kernels(p.isa);
  const size_t P = s.batch * s.inner, C = s.classes;
  const float eps = opts.label_smoothing;
  const float keep = 1.0f - eps, spread = C > 0 ? eps / static_cast<float>(C) : 0.0f;
  Partials parts(p.threads);
  for_each_class_item(p.threads, s, [&](int tid, size_t b, size_t j0, size_t j1) {
    const size_t cols = j1 - j0, pos0 = b * s.inner + j0;
    const float* x = logits + b * C * s.inner;
    float* m = stats + pos0;
    float* ls = stats + P + pos0;
    k.log_softmax_stats(x, C, s.inner, j0, j1, m, ls);
    float smooth[kColumnTile] = {};
    if (eps > 0.0f) {
      const float* xj = x + j0;
      add_class_sums(C, s.inner, cols, smooth, [&](size_t i, size_t c) {
        const size_t l = s.inner == 1 ? 0 : i - c * s.inner;
        return weight_of(opts, static_cast<int64_t>(c)) * ((m[l] - xj[i]) + ls[l]);
      });
    }
    LossSums& acc = parts.v[static_cast<size_t>(tid)];
    for (size_t l = 0; l < cols; ++l) {
      const int64_t t = target[pos0 + l];
      float loss = 0.0f;
      if (t != opts.ignore_index) {
        const float wt = weight_of(opts, t);
        const float nll = wt * ((m[l] - x[static_cast<size_t>(t) * s.inner + j0 + l]) + ls[l]);
        loss = eps > 0.0f ? keep * nll + spread * smooth[l] : nll;
        acc.weight += wt;
      }
      acc.total += loss;
      if (losses != nullptr) losses[pos0 + l] = loss;
    }
  });
  return parts.total();
}

void cross_entropy_backward_with(const LossPath& p, const ClassShape& s, const float* logits, const int32_t* target,
                                 const ClassLossOptions& opts, const float* stats, const float* grad, float scale,
                                 float* dlogits) {
  validate_class_loss("cross_entropy", s, target, opts);
  const ActivationKernels& k = activation_kernels(p.isa);
  const size_t P = s.batch * s.inner, C = s.classes;
  const float eps = opts.label_smoothing;
  const float keep = 1.0f - eps, spread = C > 0 ? eps / static_cast<float>(C) : 0.0f;
  const float wsum = static_cast<float>(weight_total(opts, C));
  for_each_class_item(p.threads, s, [&](int, size_t b, size_t j0, size_t j1) {
    const size_t cols = j1 - j0, pos0 = b * s.inner + j0;
    const float* x = logits + b * C * s.inner;
    float* dx = dlogits + b * C * s.inner;
    float a[kColumnTile], hit[kColumnTile], g_spread[kColumnTile];
    for (size_t l = 0; l < cols; ++l) {
      const int64_t t = target[pos0 + l];
      const float g = grad != nullptr ? grad[pos0 + l] * scale : scale;
      if (t == opts.ignore_index) {
        a[l] = hit[l] = g_spread[l] = 0.0f;
        continue;
      }
      const float wt = weight_of(opts, t);
      // eps == 0 skips the smoothing terms entirely, so an infinite scale (mean over zero weight)
      // gives NaN only where PyTorch does.
      a[l] = eps > 0.0f ? g * (keep * wt + spread * wsum) : g * wt;
      hit[l] = eps > 0.0f ? g * keep * wt : g * wt;
      g_spread[l] = eps > 0.0f ? g * spread : 0.0f;
    }
    k.scaled_softmax(x, stats + pos0, stats + P + pos0, a, dx, C, s.inner, j0, j1);
    if (eps > 0.0f) {
      for (size_t c = 0; c < C; ++c) {
        const float wc = weight_of(opts, static_cast<int64_t>(c));
        float* row = dx + c * s.inner + j0;
        for (size_t l = 0; l < cols; ++l) row[l] -= g_spread[l] * wc;
      }
    }
    for (size_t l = 0; l < cols; ++l) {
      const int64_t t = target[pos0 + l];
      if (t != opts.ignore_index) dx[static_cast<size_t>(t) * s.inner + j0 + l] -= hit[l];
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Cross entropy with class probabilities

LossSums cross_entropy_prob_forward_with(const LossPath& p, const ClassShape& s, const float* logits,
                                         const float* probs, const ClassLossOptions& opts, float* stats,
                                         float* losses) {
  validate_class_loss("cross_entropy", s, nullptr, opts);
  const ActivationKernels& k = activation_kernels(p.isa);
  const size_t P = s.batch * s.inner, C = s.classes;
  const float eps = opts.label_smoothing;
  const float keep = 1.0f - eps, spread = C > 0 ? eps / static_cast<float>(C) : 0.0f;
  Partials parts(p.threads);
  for_each_class_item(p.threads, s, [&](int tid, size_t b, size_t j0, size_t j1) {
    const size_t cols = j1 - j0, pos0 = b * s.inner + j0;
    const float* x = logits + b * C * s.inner + j0;
    const float* q = probs + b * C * s.inner + j0;
    float* m = stats + pos0;
    float* ls = stats + P + pos0;
    k.log_softmax_stats(logits + b * C * s.inner, C, s.inner, j0, j1, m, ls);
    float loss[kColumnTile] = {};
    add_class_sums(C, s.inner, cols, loss, [&](size_t i, size_t c) {
      const size_t l = s.inner == 1 ? 0 : i - c * s.inner;
      const float qc = eps > 0.0f ? keep * q[i] + spread : q[i];
      return weight_of(opts, static_cast<int64_t>(c)) * qc * ((m[l] - x[i]) + ls[l]);
    });
    LossSums& acc = parts.v[static_cast<size_t>(tid)];
    for (size_t l = 0; l < cols; ++l) {
      acc.total += loss[l];
      if (losses != nullptr) losses[pos0 + l] = loss[l];
    }
    acc.weight += static_cast<double>(cols);
  });
  return parts.total();
}

void cross_entropy_prob_backward_with(const LossPath& p, const ClassShape& s, const float* logits,
                                      const float* probs, const ClassLossOptions& opts, const float* stats,
                                      const float* grad, float scale, float* dlogits, float* dprobs) {
  validate_class_loss("cross_entropy", s, nullptr, opts);
  const ActivationKernels& k = activation_kernels(p.isa);
  const size_t P = s.batch * s.inner, C = s.classes;
  const float eps = opts.label_smoothing;
  const float keep = 1.0f - eps, spread = C > 0 ? eps / static_cast<float>(C) : 0.0f;
  for_each_class_item(p.threads, s, [&](int, size_t b, size_t j0, size_t j1) {
    const size_t cols = j1 - j0, pos0 = b * s.inner + j0, slab = b * C * s.inner;
    const float* m = stats + pos0;
    const float* ls = stats + P + pos0;
    float g[kColumnTile];
    for (size_t l = 0; l < cols; ++l) g[l] = grad != nullptr ? grad[pos0 + l] * scale : scale;
    const float* x = logits + slab + j0;
    const float* q = probs + slab + j0;
    auto qw = [&](size_t i, size_t c) {
      const float qc = eps > 0.0f ? keep * q[i] + spread : q[i];
      return weight_of(opts, static_cast<int64_t>(c)) * qc;
    };
    if (dlogits != nullptr) {
      float a[kColumnTile] = {};
      add_class_sums(C, s.inner, cols, a, qw);
      for (size_t l = 0; l < cols; ++l) a[l] *= g[l];
      k.scaled_softmax(logits + slab, m, ls, a, dlogits + slab, C, s.inner, j0, j1);
      float* dx = dlogits + slab + j0;
      for (size_t c = 0; c < C; ++c) {
        for (size_t l = 0; l < cols; ++l) {
          const size_t i = c * s.inner + l;
          dx[i] -= g[l] * qw(i, c);
        }
      }
    }
    if (dprobs != nullptr) {
      float* dq = dprobs + slab + j0;
      for (size_t c = 0; c < C; ++c) {
        const float wc = keep * weight_of(opts, static_cast<int64_t>(c));
        for (size_t l = 0; l < cols; ++l) {
          const size_t i = c * s.inner + l;
          dq[i] = g[l] * wc * ((m[l] - x[i]) + ls[l]);
        }
      }
    }
  });
}

// ---------------------------------------------------------------------------------------------
// NLL

LossSums nll_loss_forward_with(const LossPath& p, const ClassShape& s, const float* logp, const int32_t* target,
                               const ClassLossOptions& opts, float* losses) {
  validate_class_loss("nll_loss", s, target, opts);
  const size_t P = s.batch * s.inner;
  const int t = pick_threads(p.threads, P, kMinElementsPerThread);
  Partials parts(t);
  parallel_chunks(t, P, 16, [&](int tid, size_t i0, size_t i1) {
    LossSums& acc = parts.v[static_cast<size_t>(tid)];
    for (size_t i = i0; i < i1; ++i) {
      const int64_t c = target[i];
      float loss = 0.0f;
      if (c != opts.ignore_index) {
        const size_t b = i / s.inner, j = i % s.inner;
        const float wt = weight_of(opts, c);
        loss = -wt * logp[(b * s.classes + static_cast<size_t>(c)) * s.inner + j];
        acc.weight += wt;
      }
      acc.total += loss;
      if (losses != nullptr) losses[i] = loss;
    }
  });
  return parts.total();
}

void nll_loss_backward_with(const LossPath& p, const ClassShape& s, const int32_t* target,
                            const ClassLossOptions& opts, const float* grad, float scale, float* dlogp) {
  validate_class_loss("nll_loss", s, target, opts);
  const size_t slab = s.classes * s.inner;
  const int t = pick_threads(p.threads, s.batch * slab, kMinElementsPerThread);
  parallel_chunks(t, s.batch, 1, [&](int, size_t b0, size_t b1) {
    for (size_t b = b0; b < b1; ++b) {
      float* d = dlogp + b * slab;
      for (size_t i = 0; i < slab; ++i) d[i] = 0.0f;
      for (size_t j = 0; j < s.inner; ++j) {
        const size_t pos = b * s.inner + j;
        const int64_t c = target[pos];
        if (c == opts.ignore_index) continue;
        const float g = grad != nullptr ? grad[pos] * scale : scale;
        d[static_cast<size_t>(c) * s.inner + j] = -g * weight_of(opts, c);
      }
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Pointwise losses

LossSums pointwise_loss_forward_with(const LossPath& p, PointwiseLoss kind, const PointwiseLossOptions& opts,
                                     const float* input, const float* target, size_t n, float* losses) {
  validate_pointwise_loss(kind, opts);
  const ActivationKernels& k = activation_kernels(p.isa);
  const int t = pick_threads(p.threads, n, kMinElementsPerThread);
  Partials parts(t);
  const float beta = opts.beta;
  parallel_chunks(t, n, 16, [&](int tid, size_t i0, size_t i1) {
    float tile[kPointTile];
    double total = 0.0;
    for (size_t b = i0; b < i1; b += kPointTile) {
      const size_t len = i1 - b < kPointTile ? i1 - b : kPointTile;
      float* out = losses != nullptr ? losses + b : tile;
      const float* x = input + b;
      const float* y = target + b;
      switch (kind) {
        case PointwiseLoss::kMse:
          for (size_t i = 0; i < len; ++i) {
            const float d = x[i] - y[i];
            out[i] = d * d;
          }
          break;
        case PointwiseLoss::kSmoothL1:
          for (size_t i = 0; i < len; ++i) {
            const float z = std::fabs(x[i] - y[i]);
            out[i] = z < beta ? 0.5f * z * z / beta : z - 0.5f * beta;
          }
          break;
        case PointwiseLoss::kBceWithLogits:
          k.bce_forward(x, y, opts.pos_weight != nullptr ? opts.pos_weight + b : nullptr, out, len);
          if (opts.weight != nullptr) {
            const float* w = opts.weight + b;
            for (size_t i = 0; i < len; ++i) out[i] *= w[i];
          }
          break;
      }
      total += sum_double(out, len);
    }
    parts.v[static_cast<size_t>(tid)].total = total;
  });
  LossSums sums = parts.total();
  sums.weight = static_cast<double>(n);
  return sums;
}

void pointwise_loss_backward_with(const LossPath& p, PointwiseLoss kind, const PointwiseLossOptions& opts,
                                  const float* input, const float* target, size_t n, const float* grad, float scale,
                                  float* dinput, float* dtarget) {
  validate_pointwise_loss(kind, opts);
  if (dinput == nullptr && dtarget == nullptr) return;
  const ActivationKernels& k = activation_kernels(p.isa);
  const int t = pick_threads(p.threads, n, kMinElementsPerThread);
  const float beta = opts.beta;
  parallel_chunks(t, n, 16, [&](int, size_t i0, size_t i1) {
    float g[kPointTile], tile[kPointTile];
    for (size_t b = i0; b < i1; b += kPointTile) {
      const size_t len = i1 - b < kPointTile ? i1 - b : kPointTile;
      for (size_t i = 0; i < len; ++i) g[i] = grad != nullptr ? grad[b + i] * scale : scale;
      const float* x = input + b;
      const float* y = target + b;
      float* dx = dinput != nullptr ? dinput + b : tile;  // MSE derives dtarget from dx
      switch (kind) {
        case PointwiseLoss::kMse:
          for (size_t i = 0; i < len; ++i) dx[i] = 2.0f * (x[i] - y[i]) * g[i];
          break;
        case PointwiseLoss::kSmoothL1:
          for (size_t i = 0; i < len; ++i) {
            const float d = x[i] - y[i];
            dx[i] = d <= -beta ? -g[i] : (d >= beta ? g[i] : d * g[i] / beta);
          }
          if (dtarget != nullptr) {  // PyTorch's formula with the operands swapped (not -dx: at d = 0, beta = 0, both are -g)
            for (size_t i = 0; i < len; ++i) {
              const float d = y[i] - x[i];
              dtarget[b + i] = d <= -beta ? -g[i] : (d >= beta ? g[i] : d * g[i] / beta);
            }
          }
          continue;
        case PointwiseLoss::kBceWithLogits:
          if (opts.weight != nullptr) {
            for (size_t i = 0; i < len; ++i) g[i] *= opts.weight[b + i];
          }
          k.bce_backward(x, y, opts.pos_weight != nullptr ? opts.pos_weight + b : nullptr, g,
                         dinput != nullptr ? dinput + b : nullptr, dtarget != nullptr ? dtarget + b : nullptr, len);
          continue;
      }
      if (dtarget != nullptr) {
        for (size_t i = 0; i < len; ++i) dtarget[b + i] = -dx[i];
      }
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Default path

LossSums cross_entropy_forward(const ClassShape& s, const float* logits, const int32_t* target,
                               const ClassLossOptions& opts, float* stats, float* losses) {
  return cross_entropy_forward_with(default_path(), s, logits, target, opts, stats, losses);
}

void cross_entropy_backward(const ClassShape& s, const float* logits, const int32_t* target,
                            const ClassLossOptions& opts, const float* stats, const float* grad, float scale,
                            float* dlogits) {
  cross_entropy_backward_with(default_path(), s, logits, target, opts, stats, grad, scale, dlogits);
}

LossSums cross_entropy_prob_forward(const ClassShape& s, const float* logits, const float* probs,
                                    const ClassLossOptions& opts, float* stats, float* losses) {
  return cross_entropy_prob_forward_with(default_path(), s, logits, probs, opts, stats, losses);
}

void cross_entropy_prob_backward(const ClassShape& s, const float* logits, const float* probs,
                                 const ClassLossOptions& opts, const float* stats, const float* grad, float scale,
                                 float* dlogits, float* dprobs) {
  cross_entropy_prob_backward_with(default_path(), s, logits, probs, opts, stats, grad, scale, dlogits, dprobs);
}

LossSums nll_loss_forward(const ClassShape& s, const float* logp, const int32_t* target,
                          const ClassLossOptions& opts, float* losses) {
  return nll_loss_forward_with(default_path(), s, logp, target, opts, losses);
}

void nll_loss_backward(const ClassShape& s, const int32_t* target, const ClassLossOptions& opts, const float* grad,
                       float scale, float* dlogp) {
  nll_loss_backward_with(default_path(), s, target, opts, grad, scale, dlogp);
}

LossSums pointwise_loss_forward(PointwiseLoss kind, const PointwiseLossOptions& opts, const float* input,
                                const float* target, size_t n, float* losses) {
  return pointwise_loss_forward_with(default_path(), kind, opts, input, target, n, losses);
}

void pointwise_loss_backward(PointwiseLoss kind, const PointwiseLossOptions& opts, const float* input,
                             const float* target, size_t n, const float* grad, float scale, float* dinput,
                             float* dtarget) {
  pointwise_loss_backward_with(default_path(), kind, opts, input, target, n, grad, scale, dinput, dtarget);
}

}  // namespace convkit
