#include "runtime/threads.h"

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <string>

#include "runtime/error.h"

#if defined(_OPENMP)
#include <omp.h>
#endif

namespace convkit {
namespace {

int default_threads() {
  if (const char* env = std::getenv("CONVKIT_NUM_THREADS")) {
    char* end = nullptr;
    errno = 0;
    const long v = std::strtol(env, &end, 10);
    if (errno == 0 && end != env && *end == '\0' && v >= 1 && v <= 1024) return static_cast<int>(v);
  }
#if defined(_OPENMP)
  return omp_get_max_threads();
#else
  return 1;
#endif
}

std::atomic<int>& threads_value() {
  static std::atomic<int> value{default_threads()};
  return value;
}

}  // namespace

int num_threads() { return threads_value().load(std::memory_order_relaxed); }

void set_num_threads(int n) {
  if (n < 1 || n > 1024) {
    throw Error(ErrorCode::kArgument, "Invalid thread count " + std::to_string(n) + ": expected 1..1024");
  }
  threads_value().store(n);
}

bool openmp_enabled() {
#if defined(_OPENMP)
  return true;
#else
  return false;
#endif
}

int num_procs() {
#if defined(_OPENMP)
  return omp_get_num_procs();
#else
  return 1;
#endif
}

TeamPlace team_place() {
#if defined(_OPENMP)
  return TeamPlace{static_cast<size_t>(omp_get_thread_num()), static_cast<size_t>(omp_get_num_threads())};
#else
  return TeamPlace{0, 1};
#endif
}

void team_share(size_t count, size_t* begin, size_t* end) {
  const TeamPlace t = team_place();
  *begin = count * t.tid / t.nth;
  *end = count * (t.tid + 1) / t.nth;
}

}  // namespace convkit
