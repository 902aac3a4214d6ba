// What this CPU (and the OS, for the wider register state) supports, read once from cpuid.
#pragma once

namespace convkit {

struct CpuFeatures {
  bool avx2 = false;
  bool fma = false;
  bool avx512f = false;
  bool avx512bw = false;
  bool avx512dq = false;
  bool avx512vl = false;
};

// Detected once, on first call; thread-safe.
const CpuFeatures& cpu_features();

// A short description of the CPU (brand string on x86, "unknown" elsewhere).
const char* cpu_brand();

}  // namespace convkit
