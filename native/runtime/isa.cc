#include "runtime/isa.h"

#include <atomic>
#include <cstdlib>
#include <mutex>

#include "runtime/cpu_features.h"
#include "runtime/error.h"

namespace convkit {
namespace {

std::atomic<int> g_active{-1};
std::mutex g_init_mutex;

}  // namespace

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::kScalar: return "scalar";
    case Isa::kAvx2: return "avx2";
    case Isa::kAvx512: return "avx512";
  }
  return "scalar";
}

Isa parse_isa(const std::string& name) {
  if (name == "scalar") return Isa::kScalar;
  if (name == "avx2") return Isa::kAvx2;
  if (name == "avx512") return Isa::kAvx512;
  throw Error(ErrorCode::kArgument,
              "Invalid instruction set '" + name + "': expected one of scalar, avx2, avx512");
}

bool isa_compiled(Isa isa) {
#if defined(CONVKIT_HAVE_X86_KERNELS)
  (void)isa;
  return true;
#else
  return isa == Isa::kScalar;
#endif
}

bool isa_supported(Isa isa) {
  if (!isa_compiled(isa)) return false;
  const CpuFeatures& f = cpu_features();
  switch (isa) {
    case Isa::kScalar: return true;
    case Isa::kAvx2: return f.avx2 && f.fma;
    case Isa::kAvx512: return f.avx2 && f.fma && f.avx512f && f.avx512bw && f.avx512dq && f.avx512vl;
  }
  return false;
}

Isa best_isa() {
  if (isa_supported(Isa::kAvx512)) return Isa::kAvx512;
  if (isa_supported(Isa::kAvx2)) return Isa::kAvx2;
  return Isa::kScalar;
}

void require_isa(Isa isa) {
  if (!isa_supported(isa)) {
    throw Error(ErrorCode::kUnsupportedCpu,
                std::string("Instruction set '") + isa_name(isa) + "' is not supported on this CPU (" +
                    (isa_compiled(isa) ? "missing CPU features" : "not compiled into this build") +
                    "); best available is '" + isa_name(best_isa()) + "'");
  }
}

void set_isa(Isa isa) {
  require_isa(isa);
  g_active.store(static_cast<int>(isa));
}

Isa active_isa() {
  int v = g_active.load(std::memory_order_relaxed);
  if (v >= 0) return static_cast<Isa>(v);
  std::lock_guard<std::mutex> lock(g_init_mutex);
  v = g_active.load();
  if (v >= 0) return static_cast<Isa>(v);
  const char* env = std::getenv("CONVKIT_ISA");
  if (env != nullptr && env[0] != '\0' && std::string(env) != "auto") {
    Isa forced;
    try {
      forced = parse_isa(env);
    } catch (const Error& e) {
      throw Error(ErrorCode::kArgument, std::string("CONVKIT_ISA: ") + e.what());
    }
    set_isa(forced);  // throws kUnsupportedCpu when the CPU lacks it
  } else {
    g_active.store(static_cast<int>(best_isa()));
  }
  return static_cast<Isa>(g_active.load());
}

}  // namespace convkit
