// No exception may leave an OpenMP region (the process would terminate). Work inside a region runs
// through ParallelErrors::run, which keeps the first exception as an Error; rethrow() raises it
// after the region, on the calling thread.
#pragma once

#include <new>
#include <string>

#include "runtime/error.h"

namespace convkit {

class ParallelErrors {
 public:
  // `what` names the operation in the messages of non-Error exceptions ("conv", "winograd").
  explicit ParallelErrors(const char* what) : what_(what) {}

  template <class Fn>
  void run(Fn&& fn) noexcept {
    try {
      fn();
    } catch (const Error& e) {
      keep(e);
    } catch (const std::bad_alloc&) {
      keep(Error(ErrorCode::kOutOfMemory, std::string(what_) + ": out of memory"));
    } catch (...) {
      keep(Error(ErrorCode::kInternal, std::string(what_) + ": unexpected exception in a worker thread"));
    }
  }

  void rethrow() const {
    if (failed_) throw failure_;
  }

 private:
  void keep(const Error& e) noexcept {
#pragma omp critical(convkit_parallel_errors)
    {
      if (!failed_) {
        failed_ = true;
        failure_ = e;
      }
    }
  }

  const char* what_;
  bool failed_ = false;
  Error failure_{ErrorCode::kInternal, ""};
};

}  // namespace convkit
