// The one thread budget of the process. Kernels run OpenMP teams of num_threads() threads.
// Initial value: CONVKIT_NUM_THREADS when set to a positive integer, else OpenMP's default
// (OMP_NUM_THREADS, else the number of cores).
#pragma once

#include <cstddef>

namespace convkit {

int num_threads();

// n >= 1; throws Error(kArgument) otherwise.
void set_num_threads(int n);

// True when the build has OpenMP; without it every kernel runs on the calling thread.
bool openmp_enabled();

// Number of processors OpenMP sees (1 without OpenMP).
int num_procs();

// The calling thread's place in its OpenMP team: {0, 1} outside a parallel region or without OpenMP.
struct TeamPlace {
  size_t tid, nth;
};
TeamPlace team_place();

// The calling thread's even, contiguous share [*begin, *end) of `count` items in its team.
void team_share(size_t count, size_t* begin, size_t* end);

}  // namespace convkit
