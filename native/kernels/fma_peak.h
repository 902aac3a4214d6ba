// The FP32 roof of this CPU, measured rather than assumed: a loop of independent fused
// multiply-adds with no memory traffic, on each instruction-set path. The GEMM benchmark reports
// its GFLOP/s as a fraction of this.
#pragma once

#include <cstddef>

#include "runtime/isa.h"

namespace convkit {

// Runs `iters` iterations of the path's FMA loop on the calling thread; returns the flops done.
// `seed` only defeats constant folding.
double fma_loop_scalar(size_t iters, float seed);
#if defined(CONVKIT_HAVE_X86_KERNELS)
double fma_loop_avx2(size_t iters, float seed);
double fma_loop_avx512(size_t iters, float seed);
#endif

// GFLOP/s of the FMA loop on `threads` threads (one OpenMP team), best of a few ~50 ms runs.
double fma_peak_gflops(Isa isa, int threads);

}  // namespace convkit
