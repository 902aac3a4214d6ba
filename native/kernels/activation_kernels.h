// The contract between the activation-family drivers (activation.cc, softmax.cc, loss.cc: portable,
// threaded) and their vectorised loops, which are compiled from one source (activation_impl.inc)
// once per instruction set: activation_scalar.cc (baseline flags), activation_avx2.cc and
// activation_avx512.cc (each with its group's flags from native/sources.json).
//
// Every function works on a range the driver hands to one thread and never allocates or throws.
// Softmax-like functions see one slab [n, inner] (element (k, j) at k * inner + j) and handle the
// columns j in [j0, j1); inner == 1 is one contiguous row. Statistics arrays (m, ls, a) are indexed
// by j - j0.
#pragma once

#include <cstddef>

#include "kernels/activation.h"
#include "kernels/softmax.h"

namespace convkit {

struct ActivationKernels {
  const char* name;  // "scalar", "avx2", "avx512"

  // y[i] = f(x[i]) and dx[i] = dy[i] f'(.) for i < n; see activation.h.
  void (*forward)(ActKind kind, float param, const float* x, float* y, size_t n);
  void (*backward)(ActKind kind, float param, const float* saved, const float* dy, float* dx, size_t n);

  // Softmax / log-softmax of the columns [j0, j1) of a slab; see softmax.h.
  void (*softmax_forward)(SoftmaxKind kind, const float* x, float* y, size_t n, size_t inner, size_t j0, size_t j1);
  void (*softmax_backward)(SoftmaxKind kind, const float* y, const float* dy, float* dx, size_t n, size_t inner,
                           size_t j0, size_t j1);

  // Column statistics for the fused losses: m = max_k x[k, j] and ls = log sum_k exp(x[k, j] - m),
  // so log-softmax is (x - m) - ls.
  void (*log_softmax_stats)(const float* x, size_t n, size_t inner, size_t j0, size_t j1, float* m, float* ls);

  // out[k, j] = a * exp((x[k, j] - m) - ls), with a, m, ls per column: the softmax part of a
  // cross-entropy gradient.
  void (*scaled_softmax)(const float* x, const float* m, const float* ls, const float* a, float* out, size_t n,
                         size_t inner, size_t j0, size_t j1);

  // Binary cross entropy with logits, unweighted, on a contiguous range (see loss.h):
  //   loss[i] = (1 - t) x + (1 + (pw - 1) t) log(1 + exp(-x))          (pw = 1 when pos_weight is null)
  void (*bce_forward)(const float* x, const float* t, const float* pos_weight, float* loss, size_t n);
  // dx[i] = g[i] ((pw t + 1 - t) sigmoid(x) - pw t),  dt[i] = g[i] (log sigmoid(-x) - pw log sigmoid(x));
  // either output may be null.
  void (*bce_backward)(const float* x, const float* t, const float* pos_weight, const float* g, float* dx, float* dt,
                       size_t n);
};

const ActivationKernels& activation_kernels_scalar();
#if defined(CONVKIT_HAVE_X86_KERNELS)
const ActivationKernels& activation_kernels_avx2();
const ActivationKernels& activation_kernels_avx512();
#endif

// The table of a path; throws Error(kUnsupportedCpu) when the path cannot run here.
const ActivationKernels& activation_kernels(Isa isa);

// Elements per thread below which the family's drivers start fewer threads: `default_min`, unless a
// test set an override. Test hooks (not thread-safe; native tests only): an override of 0 makes
// every call use all requested threads, so small shapes cross thread boundaries.
size_t activation_min_elements_per_thread(size_t default_min);
void activation_set_parallel_threshold_for_testing(size_t min_elements_per_thread);
void activation_reset_tuning_for_testing();

}  // namespace convkit
