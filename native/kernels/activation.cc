// Driver of the elementwise activations: picks the path's loops and splits the array over threads.
#include <cstddef>
#include <string>

#include "kernels/activation.h"
#include "kernels/activation_kernels.h"
#include "kernels/activation_parallel.h"
#include "runtime/error.h"
#include "runtime/threads.h"

namespace convkit {

const ActivationKernels& activation_kernels(Isa isa) {
  require_isa(isa);
  switch (isa) {
#if defined(CONVKIT_HAVE_X86_KERNELS)
    case Isa::kAvx512: return activation_kernels_avx512();
    case Isa::kAvx2: return activation_kernels_avx2();
#endif
    default: return activation_kernels_scalar();
  }
}

namespace {
constexpr size_t kNoOverride = static_cast<size_t>(-1);
size_t g_min_elements_override = kNoOverride;
}  // namespace

size_t activation_min_elements_per_thread(size_t default_min) {
  return g_min_elements_override == kNoOverride ? default_min : g_min_elements_override;
}

void activation_set_parallel_threshold_for_testing(size_t min_elements_per_thread) {
  g_min_elements_override = min_elements_per_thread;
}

void activation_reset_tuning_for_testing() { g_min_elements_override = kNoOverride; }

const char* activation_name(ActKind kind) {
  switch (kind) {
    case ActKind::kRelu: return "relu";
    case ActKind::kLeakyRelu: return "leaky_relu";
    case ActKind::kRelu6: return "relu6";
    case ActKind::kSigmoid: return "sigmoid";
    case ActKind::kTanh: return "tanh";
    case ActKind::kGelu: return "gelu";
    case ActKind::kGeluTanh: return "gelu_tanh";
  }
  return "unknown";
}

bool activation_backward_uses_output(ActKind kind) { return kind == ActKind::kSigmoid || kind == ActKind::kTanh; }

namespace {

void check_kind(ActKind kind) {
  const int k = static_cast<int>(kind);
  if (k < 0 || k >= kActKindCount) {
    throw Error(ErrorCode::kArgument, "activation: unknown kind " + std::to_string(k));
  }
}

// Elements per thread below which fewer threads run: cheap selects stream at memory speed, the
// transcendental ones cost tens of cycles per vector.
size_t min_elements_per_thread(ActKind kind) {
  switch (kind) {
    case ActKind::kRelu:
    case ActKind::kLeakyRelu:
    case ActKind::kRelu6: return 64 * 1024;
    default: return 16 * 1024;
  }
}

constexpr size_t kAlign = 16;  // floats per 64-byte line

}  // namespace

void activation_forward_with(Isa isa, int threads, ActKind kind, float param, const float* x, float* y, size_t n) {
  check_kind(kind);
  const ActivationKernels& k = activation_kernels(isa);
  const int t = pick_threads(threads, n, min_elements_per_thread(kind));
  parallel_chunks(t, n, kAlign, [&](int, size_t b, size_t e) { k.forward(kind, param, x + b, y + b, e - b); });
}

void activation_backward_with(Isa isa, int threads, ActKind kind, float param, const float* saved, const float* dy,
                              float* dx, size_t n) {
  check_kind(kind);
  const ActivationKernels& k = activation_kernels(isa);
  const int t = pick_threads(threads, n, min_elements_per_thread(kind));
  parallel_chunks(t, n, kAlign,
                  [&](int, size_t b, size_t e) { k.backward(kind, param, saved + b, dy + b, dx + b, e - b); });
}

void activation_forward(ActKind kind, float param, const float* x, float* y, size_t n) {
  activation_forward_with(active_isa(), num_threads(), kind, param, x, y, n);
}

void activation_backward(ActKind kind, float param, const float* saved, const float* dy, float* dx, size_t n) {
  activation_backward_with(active_isa(), num_threads(), kind, param, saved, dy, dx, n);
}

}  // namespace convkit
