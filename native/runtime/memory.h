// Memory advice for large buffers a kernel is about to write for the first time.
#pragma once

#include <cstddef>

namespace convkit {

// A fresh output buffer (a new Float32Array: untouched zero pages) is first written by the kernel.
// On Linux each first touch of a 4 KiB page is a page fault, and on this project's virtual machine
// writing 100 MB that way costs ~300 ms, far more than most kernels; advising transparent huge pages
// on the buffer's 2 MiB-aligned interior makes the faults 512x fewer. Advice only: it changes no
// contents, costs one system call, and is ignored where THP is off. Buffers under 4 MiB are left
// alone.
void advise_huge_pages(void* data, size_t bytes);

}  // namespace convkit
