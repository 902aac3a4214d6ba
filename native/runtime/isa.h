// Which instruction-set path the kernels take. Chosen once at load from cpuid, or forced with
// the environment variable CONVKIT_ISA=scalar|avx2|avx512 (tests and benchmarks), or set_isa().
#pragma once

#include <string>

namespace convkit {

enum class Isa { kScalar = 0, kAvx2 = 1, kAvx512 = 2 };

const char* isa_name(Isa isa);

// Parses "scalar" | "avx2" | "avx512"; throws Error(kArgument) on anything else.
Isa parse_isa(const std::string& name);

// True when this binary holds the path (x86-64 builds hold all three; other CPUs only scalar).
bool isa_compiled(Isa isa);

// True when the path is compiled in and this CPU and OS can run it.
bool isa_supported(Isa isa);

// Throws Error(kUnsupportedCpu), naming the path and the best available one, when not supported.
void require_isa(Isa isa);

// The fastest supported path.
Isa best_isa();

// The path kernels use now. The first call reads CONVKIT_ISA and throws Error on a bad or
// unsupported value (so a forced path is never silently replaced).
Isa active_isa();

// Forces a path; throws Error(kUnsupportedCpu) when it is not supported here.
void set_isa(Isa isa);

}  // namespace convkit
