// Errors raised by kernels and the runtime. Plain C++: no N-API here.
// The binding turns an Error into a JS exception whose `code` is error_code_name(code).
#pragma once

#include <stdexcept>
#include <string>

namespace convkit {

enum class ErrorCode {
  kShape,           // tensor shapes or sizes do not fit together
  kArgument,        // an argument has a bad value (negative size, unknown name, ...)
  kOutOfMemory,     // an allocation failed
  kUnsupportedCpu,  // the requested instruction set is not available on this CPU
  kInternal,        // a bug in convkit
};

inline const char* error_code_name(ErrorCode code) {
  switch (code) {
    case ErrorCode::kShape: return "ERR_SHAPE";
    case ErrorCode::kArgument: return "ERR_ARGUMENT";
    case ErrorCode::kOutOfMemory: return "ERR_OOM";
    case ErrorCode::kUnsupportedCpu: return "ERR_UNSUPPORTED_CPU";
    case ErrorCode::kInternal: return "ERR_INTERNAL";
  }
  return "ERR_INTERNAL";
}

class Error : public std::runtime_error {
 public:
  Error(ErrorCode code, const std::string& message) : std::runtime_error(message), code_(code) {}
  ErrorCode code() const { return code_; }

 private:
  ErrorCode code_;
};

}  // namespace convkit
