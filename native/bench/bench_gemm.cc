// Native GEMM benchmark (no Node): median GFLOP/s of compute_gemm over repeated runs.
//   bench_gemm [--isa scalar|avx2|avx512] [--threads N] [--ta] [--tb] [--kc K --mc M --nc N] m n k [m n k ...]
// --kc/--mc/--nc override the cache blocking (for tuning the per-path defaults).
// Without shapes it runs the square and conv-shaped rows of `npm run bench -- gemm`.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "kernels/gemm.h"
#include "runtime/error.h"
#include "runtime/isa.h"
#include "runtime/threads.h"

using namespace convkit;

namespace {

double median_gflops(Isa isa, int threads, Trans ta, Trans tb, size_t m, size_t n, size_t k) {
  GemmShape s;
  s.trans_a = ta;
  s.trans_b = tb;
  s.m = m;
  s.n = n;
  s.k = k;
  s.lda = ta == Trans::kNo ? k : m;
  s.ldb = tb == Trans::kNo ? n : k;
  s.ldc = n;
  std::vector<float> a(m * k), b(k * n), c(m * n);
  for (size_t i = 0; i < a.size(); ++i) a[i] = static_cast<float>((i * 7919) % 1000) * 1e-3f - 0.5f;
  for (size_t i = 0; i < b.size(); ++i) b[i] = static_cast<float>((i * 104729) % 1000) * 1e-3f - 0.5f;
  const double flops = 2.0 * m * n * k;
  std::vector<double> times;
  auto run = [&] {
    const auto t0 = std::chrono::steady_clock::now();
    compute_gemm_with(isa, threads, s, 1.0f, a.data(), b.data(), 0.0f, c.data());
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  };
  run();  // warm-up: workspace, caches, thread team
  double total = 0.0;
  while (times.size() < 5 || (total < 0.5 && times.size() < 200)) {
    times.push_back(run());
    total += times.back();
  }
  std::sort(times.begin(), times.end());
  return flops / times[times.size() / 2] * 1e-9;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    Isa isa = active_isa();
    int threads = num_threads();
    Trans ta = Trans::kNo, tb = Trans::kNo;
    std::vector<size_t> dims;
    GemmBlocking blocking;
    for (int i = 1; i < argc; ++i) {
      if (!std::strcmp(argv[i], "--isa") && i + 1 < argc) {
        isa = parse_isa(argv[++i]);
      } else if (!std::strcmp(argv[i], "--threads") && i + 1 < argc) {
        threads = std::atoi(argv[++i]);
      } else if (!std::strcmp(argv[i], "--kc") && i + 1 < argc) {
        blocking.kc = std::strtoull(argv[++i], nullptr, 10);
      } else if (!std::strcmp(argv[i], "--mc") && i + 1 < argc) {
        blocking.mc = std::strtoull(argv[++i], nullptr, 10);
      } else if (!std::strcmp(argv[i], "--nc") && i + 1 < argc) {
        blocking.nc = std::strtoull(argv[++i], nullptr, 10);
      } else if (!std::strcmp(argv[i], "--ta")) {
        ta = Trans::kYes;
      } else if (!std::strcmp(argv[i], "--tb")) {
        tb = Trans::kYes;
      } else {
        dims.push_back(static_cast<size_t>(std::strtoull(argv[i], nullptr, 10)));
      }
    }
    gemm_set_blocking_for_testing(blocking);
    if (dims.empty()) dims = {256, 256, 256, 512, 512, 512, 1024, 1024, 1024, 2048, 2048, 2048, 64, 3136, 576,
                              512, 49, 4608};
    if (dims.size() % 3 != 0) {
      std::fprintf(stderr, "shapes come in triples: m n k\n");
      return 2;
    }
    std::printf("%-8s %-7s %6s %6s %6s %10s   %s\n", "isa", "threads", "m", "n", "k", "GFLOP/s", gemm_ukernel_name(isa));
    for (size_t i = 0; i < dims.size(); i += 3) {
      const double g = median_gflops(isa, threads, ta, tb, dims[i], dims[i + 1], dims[i + 2]);
      std::printf("%-8s %-7d %6zu %6zu %6zu %10.1f\n", isa_name(isa), threads, dims[i], dims[i + 1], dims[i + 2], g);
      std::fflush(stdout);
    }
  } catch (const Error& e) {
    std::fprintf(stderr, "bench_gemm: %s\n", e.what());
    return 1;
  }
  return 0;
}
