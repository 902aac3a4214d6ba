#include "runtime/workspace.h"

#include <cstdlib>
#include <string>

#include "runtime/error.h"

namespace convkit {
namespace {

struct Buffer {
  float* data = nullptr;
  size_t capacity = 0;  // floats
};

struct Workspace {
  Buffer slots[static_cast<size_t>(WorkspaceSlot::kCount)];
  ~Workspace() {
    for (Buffer& b : slots) std::free(b.data);
  }
};

thread_local Workspace t_workspace;

}  // namespace

float* workspace_floats(WorkspaceSlot slot, size_t count) {
  Buffer& b = t_workspace.slots[static_cast<size_t>(slot)];
  if (count <= b.capacity && b.data != nullptr) return b.data;
  // Grow by at least 1.5x so a slowly growing sequence of sizes does not reallocate every call.
  size_t want = count < b.capacity + b.capacity / 2 ? b.capacity + b.capacity / 2 : count;
  if (want > (static_cast<size_t>(-1) - 64) / sizeof(float)) {
    throw Error(ErrorCode::kOutOfMemory, "workspace request too large: " + std::to_string(count) + " floats");
  }
  size_t bytes = (want * sizeof(float) + 63) / 64 * 64;
  if (bytes == 0) bytes = 64;
  std::free(b.data);
  b.data = nullptr;
  b.capacity = 0;
  void* p = std::aligned_alloc(64, bytes);
  if (p == nullptr) {
    throw Error(ErrorCode::kOutOfMemory, "cannot allocate " + std::to_string(bytes) + " bytes of kernel workspace");
  }
  b.data = static_cast<float*>(p);
  b.capacity = bytes / sizeof(float);
  return b.data;
}

size_t workspace_bytes() {
  size_t total = 0;
  for (const Buffer& b : t_workspace.slots) total += b.capacity * sizeof(float);
  return total;
}

void workspace_release() {
  for (Buffer& b : t_workspace.slots) {
    std::free(b.data);
    b.data = nullptr;
    b.capacity = 0;
  }
}

}  // namespace convkit
