// Runtime: instruction-set selection, thread budget, workspace, and the roof measurements.
#include <string>

#include "kernels/fma_peak.h"
#include "runtime/clock.h"
#include "runtime/error.h"
#include "runtime/isa.h"
#include "runtime/threads.h"
#include "runtime/workspace.h"
#include "tests/harness.h"

namespace convkit::test {

CK_TEST(isa_names_round_trip_and_bad_names_are_rejected) {
  for (Isa isa : {Isa::kScalar, Isa::kAvx2, Isa::kAvx512}) {
    CK_CHECK(parse_isa(isa_name(isa)) == isa, isa_name(isa));
  }
  bool threw = false;
  try {
    parse_isa("sse9");
  } catch (const Error& e) {
    threw = e.code() == ErrorCode::kArgument && std::string(e.what()).find("'sse9'") != std::string::npos;
  }
  CK_CHECK(threw, "parse_isa(\"sse9\") did not throw kArgument naming the value");
  CK_CHECK(isa_supported(Isa::kScalar), "the scalar path must always be supported");
  CK_CHECK(isa_supported(best_isa()), "best_isa() must be supported");
}

CK_TEST(set_isa_switches_and_restores) {
  const Isa before = active_isa();
  set_isa(Isa::kScalar);
  CK_CHECK(active_isa() == Isa::kScalar, "set_isa(scalar) did not take");
  set_isa(before);
  CK_CHECK(active_isa() == before, "restoring the path failed");
}

CK_TEST(thread_budget_is_validated) {
  const int before = num_threads();
  set_num_threads(3);
  CK_CHECK(num_threads() == 3, "set_num_threads(3) did not take");
  bool threw = false;
  try {
    set_num_threads(0);
  } catch (const Error& e) {
    threw = e.code() == ErrorCode::kArgument;
  }
  CK_CHECK(threw, "set_num_threads(0) was accepted");
  CK_CHECK(num_threads() == 3, "a rejected value changed the budget");
  set_num_threads(before);
}

CK_TEST(workspace_is_aligned_reused_and_released) {
  workspace_release();
  float* a = workspace_floats(WorkspaceSlot::kGemmPackA, 1000);
  CK_CHECK(reinterpret_cast<uintptr_t>(a) % 64 == 0, "not 64-byte aligned");
  a[999] = 1.0f;
  float* again = workspace_floats(WorkspaceSlot::kGemmPackA, 500);
  CK_CHECK(again == a, "a smaller request reallocated");
  CK_CHECK(workspace_bytes() >= 4000, "workspace_bytes() = " << workspace_bytes());
  workspace_release();
  CK_CHECK(workspace_bytes() == 0, "release left " << workspace_bytes() << " bytes");
  bool threw = false;
  try {
    workspace_floats(WorkspaceSlot::kGemmPackB, static_cast<size_t>(-1) / 2);
  } catch (const Error& e) {
    threw = e.code() == ErrorCode::kOutOfMemory;
  }
  CK_CHECK(threw, "an impossible allocation did not raise kOutOfMemory");
}

CK_TEST(fma_roof_and_clock_are_plausible) {
  for (Isa isa : {Isa::kScalar, Isa::kAvx2, Isa::kAvx512}) {
    if (!isa_supported(isa)) continue;
    const double g = fma_peak_gflops(isa, 1);
    CK_CHECK(g > 0.1 && g < 10000.0, isa_name(isa) << " roof " << g << " GFLOP/s");
  }
  const double ghz = measure_clock_ghz();
#if defined(__x86_64__)
  CK_CHECK(ghz > 0.2 && ghz < 10.0, "clock " << ghz << " GHz");
#else
  CK_CHECK(ghz == 0.0, "clock should be unknown off x86");
#endif
}

}  // namespace convkit::test
