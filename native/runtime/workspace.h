// Per-thread scratch memory for kernels: 64-byte aligned float buffers that grow to the largest
// size asked for and are reused by later calls on the same thread, so a hot loop of kernel calls
// does not allocate (or page-fault) on every call. Each Node worker thread has its own.
#pragma once

#include <cstddef>

namespace convkit {

enum class WorkspaceSlot {
  kGemmPackA = 0,
  kGemmPackB = 1,
  kGemmTranspose = 2,
  kConvColumns = 3,  // im2col tiles (backward passes), Winograd's transformed input V
  kConvOutput = 4,   // a batch chunk's output before it is scattered to NCHW, Winograd's M and Z
  kConvWeights = 5,  // per-thread weight-gradient partial sums, Winograd's U and dU, repacked stem weights
  kConvGather = 6,   // a strided 1x1 convolution's gathered input (or input gradient), padded dy of the
                     // direct weight gradient
  kConvPadded = 7,   // zero-padded images of the direct and stem loops
  kCount = 8
};

// At least `count` floats, 64-byte aligned, valid until the next call with the same slot on this
// thread. Contents are unspecified. Throws Error(kOutOfMemory) when the allocation fails.
float* workspace_floats(WorkspaceSlot slot, size_t count);

// Bytes currently held by this thread's workspace.
size_t workspace_bytes();

// Frees this thread's workspace.
void workspace_release();

}  // namespace convkit
