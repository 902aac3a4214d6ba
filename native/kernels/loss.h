// Losses, forward and backward, with PyTorch's definitions: cross entropy (log-softmax and NLL fused
// in one pass, with class indices or class probabilities, class weights, ignore_index and label
// smoothing), NLL, and the pointwise losses MSE, smooth L1 and binary cross entropy with logits.
//
// Reductions are the caller's. Each forward writes the loss of every position (when `losses` is not
// null) and returns LossSums: `total`, the sum of the losses (accumulated in double), and `weight`,
// PyTorch's denominator for reduction='mean' (the sum of w[target] over positions not ignored for
// index targets, the number of positions otherwise). So 'none' is `losses`, 'sum' is total and
// 'mean' is total / weight (NaN for 0 / 0, as in PyTorch).
// Each backward takes the gradient of position i as grad[i] * scale, or scale alone when grad is
// null: 'none' passes the output gradient and scale 1, 'sum' scale g, 'mean' scale g / weight.
// Gradient outputs are fully written (zeros where a position contributes nothing).
//
// Class layouts: the input is [batch, classes, inner] (PyTorch's [N, C, d1, ...] with inner = d1 *
// ...; inner = 1 for [N, C]); element (b, c, j) is at (b * classes + c) * inner + j. Targets and
// per-position arrays are [batch, inner]. Class-index targets outside [0, classes) that are not
// ignore_index throw Error(kArgument) naming the index, its position and the number of classes,
// before anything is written.
//
// Accuracy: the paths and the reference differ by float32 rounding of the log-sum-exp (a few ulp of
// max |x|) and of each term; the native tests bound it at 2e-6 relative to the loss scale.
#pragma once

#include <cstddef>
#include <cstdint>

#include "runtime/isa.h"

namespace convkit {

struct LossSums {
  double total = 0.0;
  double weight = 0.0;
};

struct ClassShape {
  size_t batch = 0, classes = 0, inner = 1;
};

struct ClassLossOptions {
  const float* weight = nullptr;   // one per class; null: all 1. Not differentiated (as in PyTorch).
  int64_t ignore_index = -100;     // index targets equal to this contribute nothing
  float label_smoothing = 0.0f;    // cross entropy, in [0, 1]
};

// --- Cross entropy with class indices ---------------------------------------------------------
// With eps = label_smoothing, t = target(b, j), lse = log sum_c exp x_c, W = sum_c w[c]:
//   loss(b, j) = (1 - eps) w[t] (lse - x_t) + (eps / C) sum_c w[c] (lse - x_c)       (0 if ignored)
//   dx_c = g ((1 - eps) w[t] (p_c - [c == t]) + (eps / C) (W p_c - w[c])),  p = softmax(x)
// `stats` (2 * batch * inner floats) receives the per-position max (first half) and log-sum-exp
// minus the max (second half); the backward reads them instead of recomputing the reductions.
LossSums cross_entropy_forward(const ClassShape& s, const float* logits, const int32_t* target,
                               const ClassLossOptions& opts, float* stats, float* losses);
void cross_entropy_backward(const ClassShape& s, const float* logits, const int32_t* target,
                            const ClassLossOptions& opts, const float* stats, const float* grad, float scale,
                            float* dlogits);

// --- Cross entropy with class probabilities -----------------------------------------------------
// probs has the logits' shape; q_c = (1 - eps) probs_c + eps / C:
//   loss(b, j) = sum_c w[c] q_c (lse - x_c)
//   dx_c = g (p_c sum_k w[k] q_k - w[c] q_c),   dprobs_c = g (1 - eps) w[c] (lse - x_c)
// (ignore_index does not apply). Either gradient output may be null.
LossSums cross_entropy_prob_forward(const ClassShape& s, const float* logits, const float* probs,
                                    const ClassLossOptions& opts, float* stats, float* losses);
void cross_entropy_prob_backward(const ClassShape& s, const float* logits, const float* probs,
                                 const ClassLossOptions& opts, const float* stats, const float* grad, float scale,
                                 float* dlogits, float* dprobs);

// --- Negative log likelihood --------------------------------------------------------------------
//   loss(b, j) = -w[t] logp[b, t, j] (0 if ignored);   dlogp[b, t, j] = -g w[t], 0 elsewhere.
LossSums nll_loss_forward(const ClassShape& s, const float* logp, const int32_t* target,
                          const ClassLossOptions& opts, float* losses);
void nll_loss_backward(const ClassShape& s, const int32_t* target, const ClassLossOptions& opts, const float* grad,
                       float scale, float* dlogp);

// --- Pointwise losses over n elements, d = input - target ---------------------------------------
//   kMse            d^2                                         dinput = 2 d g
//   kSmoothL1       |d| < beta ? d^2 / (2 beta) : |d| - beta/2   dinput = g (d <= -beta ? -1 : d >= beta ? 1 : d / beta)
//                   (beta = 0 is L1, and d = 0 then gives -g as in PyTorch)
//   kBceWithLogits  w ((1 - t) x + (1 + (pw - 1) t) log(1 + exp(-x)))   (stable form, no overflow)
//                   dinput = g w ((pw t + 1 - t) sigmoid(x) - pw t),
//                   dtarget = g w (pw log(1 + exp(-x)) - log(1 + exp(x)))
// dtarget = -dinput for MSE; for smooth L1 it is dinput's formula with input and target swapped, as
// in PyTorch (the same as -dinput except at d = 0 with beta = 0, where both are -g). weight and pos_weight (BCE only) hold n values each
// (broadcast by the caller) or are null for 1; they are not differentiated.
enum class PointwiseLoss { kMse = 0, kSmoothL1 = 1, kBceWithLogits = 2 };

struct PointwiseLossOptions {
  float beta = 1.0f;                  // smooth L1, >= 0
  const float* weight = nullptr;      // BCE
  const float* pos_weight = nullptr;  // BCE
};

LossSums pointwise_loss_forward(PointwiseLoss kind, const PointwiseLossOptions& opts, const float* input,
                                const float* target, size_t n, float* losses);
void pointwise_loss_backward(PointwiseLoss kind, const PointwiseLossOptions& opts, const float* input,
                             const float* target, size_t n, const float* grad, float scale, float* dinput,
                             float* dtarget);

// --- Paths --------------------------------------------------------------------------------------
// The functions above run on active_isa() and num_threads(); these take both explicitly (tests).
// Every *_ref function is the double-precision reference: the definition, obviously right.
struct LossPath {
  Isa isa = Isa::kScalar;
  int threads = 1;
};

LossSums cross_entropy_forward_with(const LossPath& p, const ClassShape& s, const float* logits,
                                    const int32_t* target, const ClassLossOptions& opts, float* stats, float* losses);
void cross_entropy_backward_with(const LossPath& p, const ClassShape& s, const float* logits, const int32_t* target,
                                 const ClassLossOptions& opts, const float* stats, const float* grad, float scale,
                                 float* dlogits);
LossSums cross_entropy_prob_forward_with(const LossPath& p, const ClassShape& s, const float* logits,
                                         const float* probs, const ClassLossOptions& opts, float* stats,
                                         float* losses);
void cross_entropy_prob_backward_with(const LossPath& p, const ClassShape& s, const float* logits,
                                      const float* probs, const ClassLossOptions& opts, const float* stats,
                                      const float* grad, float scale, float* dlogits, float* dprobs);
LossSums nll_loss_forward_with(const LossPath& p, const ClassShape& s, const float* logp, const int32_t* target,
                               const ClassLossOptions& opts, float* losses);
void nll_loss_backward_with(const LossPath& p, const ClassShape& s, const int32_t* target,
                            const ClassLossOptions& opts, const float* grad, float scale, float* dlogp);
LossSums pointwise_loss_forward_with(const LossPath& p, PointwiseLoss kind, const PointwiseLossOptions& opts,
                                     const float* input, const float* target, size_t n, float* losses);
void pointwise_loss_backward_with(const LossPath& p, PointwiseLoss kind, const PointwiseLossOptions& opts,
                                  const float* input, const float* target, size_t n, const float* grad, float scale,
                                  float* dinput, float* dtarget);

LossSums cross_entropy_forward_ref(const ClassShape& s, const float* logits, const int32_t* target,
                                   const ClassLossOptions& opts, float* losses);
void cross_entropy_backward_ref(const ClassShape& s, const float* logits, const int32_t* target,
                                const ClassLossOptions& opts, const float* grad, float scale, float* dlogits);
LossSums cross_entropy_prob_forward_ref(const ClassShape& s, const float* logits, const float* probs,
                                        const ClassLossOptions& opts, float* losses);
void cross_entropy_prob_backward_ref(const ClassShape& s, const float* logits, const float* probs,
                                     const ClassLossOptions& opts, const float* grad, float scale, float* dlogits,
                                     float* dprobs);
LossSums nll_loss_forward_ref(const ClassShape& s, const float* logp, const int32_t* target,
                              const ClassLossOptions& opts, float* losses);
void nll_loss_backward_ref(const ClassShape& s, const int32_t* target, const ClassLossOptions& opts,
                           const float* grad, float scale, float* dlogp);
LossSums pointwise_loss_forward_ref(PointwiseLoss kind, const PointwiseLossOptions& opts, const float* input,
                                    const float* target, size_t n, float* losses);
void pointwise_loss_backward_ref(PointwiseLoss kind, const PointwiseLossOptions& opts, const float* input,
                                 const float* target, size_t n, const float* grad, float scale, float* dinput,
                                 float* dtarget);

// Checks shared by every entry point (called by each): shape sizes fit in memory, targets in range,
// label_smoothing in [0, 1], beta >= 0. Throw Error(kShape / kArgument).
void validate_class_loss(const char* op, const ClassShape& s, const int32_t* target, const ClassLossOptions& opts);
void validate_pointwise_loss(PointwiseLoss kind, const PointwiseLossOptions& opts);

}  // namespace convkit
