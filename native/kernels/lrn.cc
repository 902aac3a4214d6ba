// Local-response-norm driver: checks, an OpenMP team over (sample, block of 64 positions) pairs, the
// per-block loops of the active instruction set, per-thread scratch.
#include <cmath>
#include <cstdlib>
#include <string>

#include "kernels/lrn.h"
#include "runtime/error.h"
#include "runtime/threads.h"

#if defined(_OPENMP)
#include <omp.h>
#endif

namespace convkit {
namespace {

const LrnKernels& kernels_for(Isa isa) {
  switch (isa) {
#if defined(CONVKIT_HAVE_X86_KERNELS)
    case Isa::kAvx512: return lrn_kernels_avx512();
    case Isa::kAvx2: return lrn_kernels_avx2();
#endif
    default: return lrn_kernels_scalar();
  }
}

struct Scratch {
  float* data = nullptr;
  size_t floats = 0;
  ~Scratch() { std::free(data); }
};
thread_local Scratch t_scratch;

// Called inside the OpenMP region: returns null instead of throwing when the allocation fails.
float* scratch_floats(size_t count) {
  if (count <= t_scratch.floats && t_scratch.data != nullptr) return t_scratch.data;
  std::free(t_scratch.data);
  t_scratch.floats = 0;
  const size_t bytes = (count * sizeof(float) + 63) / 64 * 64;
  t_scratch.data = static_cast<float*>(std::aligned_alloc(64, bytes == 0 ? 64 : bytes));
  if (t_scratch.data != nullptr) t_scratch.floats = count;
  return t_scratch.data;
}

constexpr double kMinElementsPerThread = 16384.0;

template <class Block>
void run_blocks(int threads, const LrnShape& sh, const Block& block) {
  const size_t blocks_per_sample = (sh.s + kLrnBlock - 1) / kLrnBlock;
  const size_t tasks = sh.n * blocks_per_sample;
  if (tasks == 0 || sh.c == 0) return;
  const double elements = static_cast<double>(sh.n) * static_cast<double>(sh.c) * static_cast<double>(sh.s);
  int t = threads < 1 ? 1 : threads;
  if (static_cast<double>(t) > elements / kMinElementsPerThread) {
    t = elements < kMinElementsPerThread ? 1 : static_cast<int>(elements / kMinElementsPerThread);
  }
  if (tasks < static_cast<size_t>(t)) t = static_cast<int>(tasks);
  bool failed = false;
  auto run = [&](size_t t0, size_t t1) {
    float* scratch = scratch_floats(3 * sh.c * kLrnBlock);
    if (scratch == nullptr) return false;
    for (size_t task = t0; task < t1; ++task) {
      const size_t n = task / blocks_per_sample, b = task % blocks_per_sample;
      const size_t s0 = b * kLrnBlock;
      const size_t sb = sh.s - s0 < kLrnBlock ? sh.s - s0 : kLrnBlock;
      block(n * sh.c * sh.s + s0, sb, scratch);
    }
    return true;
  };
#if defined(_OPENMP)
  if (t > 1) {
#pragma omp parallel num_threads(t) reduction(|| : failed)
    {
      const size_t tid = static_cast<size_t>(omp_get_thread_num());
      const size_t nth = static_cast<size_t>(omp_get_num_threads());
      failed = !run(tasks * tid / nth, tasks * (tid + 1) / nth);
    }
  } else {
    failed = !run(0, tasks);
  }
#else
  failed = !run(0, tasks);
#endif
  if (failed) throw Error(ErrorCode::kOutOfMemory, "local_response_norm: cannot allocate scratch memory");
}

}  // namespace

void check_lrn(const LrnParams& p) {
  if (p.size == 0) throw Error(ErrorCode::kArgument, "local_response_norm: size must be at least 1");
  if (!std::isfinite(p.alpha) || !std::isfinite(p.beta) || !std::isfinite(p.k)) {
    throw Error(ErrorCode::kArgument, "local_response_norm: alpha, beta and k must be finite");
  }
}

const char* lrn_kernel_name(Isa isa) { return kernels_for(isa).name; }

void lrn_forward_with(Isa isa, int threads, const LrnShape& sh, const LrnParams& p, const float* x, float* y) {
  check_lrn(p);
  require_isa(isa);
  const LrnKernels& k = kernels_for(isa);
  run_blocks(threads, sh, [&](size_t offset, size_t sb, float* scratch) {
    k.forward(x + offset, y + offset, sh.c, sh.s, sb, p, scratch);
  });
}

void lrn_forward(const LrnShape& sh, const LrnParams& p, const float* x, float* y) {
  lrn_forward_with(active_isa(), num_threads(), sh, p, x, y);
}

void lrn_backward_with(Isa isa, int threads, const LrnShape& sh, const LrnParams& p, const float* x, const float* gy,
                       float* gx) {
  check_lrn(p);
  require_isa(isa);
  const LrnKernels& k = kernels_for(isa);
  run_blocks(threads, sh, [&](size_t offset, size_t sb, float* scratch) {
    k.backward(x + offset, gy + offset, gx + offset, sh.c, sh.s, sb, p, scratch);
  });
}

void lrn_backward(const LrnShape& sh, const LrnParams& p, const float* x, const float* gy, float* gx) {
  lrn_backward_with(active_isa(), num_threads(), sh, p, x, gy, gx);
}

}  // namespace convkit
