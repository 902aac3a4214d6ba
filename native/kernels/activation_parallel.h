// Threading helpers of the activation-family drivers (activation.cc, softmax.cc, loss.cc): one
// OpenMP team per call, each thread taking one contiguous share of the items. Portable code only:
// not for the per-ISA files (everything here is in an anonymous namespace, one copy per driver).
#pragma once

#include <cstddef>

#include "kernels/activation_kernels.h"

#if defined(_OPENMP)
#include <omp.h>
#endif

namespace convkit {
namespace {

// Threads worth starting for `work` units when each thread should get at least `min_per_thread`
// (a fork/join costs microseconds: small tensors run on the calling thread). Tests may override
// the minimum (activation_set_parallel_threshold_for_testing).
inline int pick_threads(int requested, size_t work, size_t default_min_per_thread) {
  if (requested <= 1) return 1;
  const size_t min_per_thread = activation_min_elements_per_thread(default_min_per_thread);
  const size_t by_work = min_per_thread == 0 ? work : work / min_per_thread;
  if (by_work < static_cast<size_t>(requested)) return by_work < 1 ? 1 : static_cast<int>(by_work);
  return requested;
}

// Calls fn(tid, begin, end) once per thread of a team of `threads`, with [begin, end) that
// thread's share of [0, count), boundaries rounded to multiples of `align` (64-byte lines for float
// arrays: no two threads write one cache line). Shares are deterministic for a given thread count.
// fn must not throw.
template <class Fn>
void parallel_chunks(int threads, size_t count, size_t align, Fn&& fn) {
  if (threads <= 1 || count == 0) {
    fn(0, static_cast<size_t>(0), count);
    return;
  }
#if defined(_OPENMP)
#pragma omp parallel num_threads(threads)
  {
    const size_t tid = static_cast<size_t>(omp_get_thread_num());
    const size_t nth = static_cast<size_t>(omp_get_num_threads());
    const size_t units = (count + align - 1) / align;
    const size_t b = units * tid / nth * align;
    size_t e = units * (tid + 1) / nth * align;
    if (e > count) e = count;
    if (e > b) fn(static_cast<int>(tid), b, e);
  }
#else
  fn(0, static_cast<size_t>(0), count);
#endif
}

}  // namespace
}  // namespace convkit
