// Optimiser updates: in-place parameter steps over flat float32 arrays, PyTorch 1.13's formulas.
#pragma once

#include <cstddef>

namespace convkit {

struct SgdOptions {
  float lr = 0;
  float momentum = 0;
  float dampening = 0;
  float weight_decay = 0;
  bool nesterov = false;
  bool maximize = false;
};

// One SGD step on n elements (torch.optim.SGD, single-tensor path):
//   d = (maximize ? -g : g) + weight_decay * p
//   buf = fresh ? d : momentum * buf + (1 - dampening) * d     (only when momentum != 0)
//   d = nesterov ? d + momentum * buf : buf
//   p = p - lr * d
// `buf` may be null when momentum is 0; `fresh` marks the first step (the buffer is initialised to d).
// float32 multiply-adds (vectorised; within an ulp of PyTorch's fused ones). Threads split the
// array when it is large.
void sgd_step(const SgdOptions& o, float* p, const float* g, float* buf, bool fresh, size_t n);

// The obviously-right loop, in double with a float rounding after every PyTorch op.
void sgd_step_ref(const SgdOptions& o, float* p, const float* g, float* buf, bool fresh, size_t n);

}  // namespace convkit
