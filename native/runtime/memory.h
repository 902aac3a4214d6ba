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

// Keeps freed tensor buffers inside the C heap for reuse instead of returning them to the kernel.
// Node allocates ArrayBuffers with malloc; glibc serves blocks over 128 KiB with a fresh mmap and
// unmaps them on free, so a training loop that allocates the same activation sizes every step
// pays a page fault per 4 KiB page of every new tensor (~3 ms per MB on this project's VM, more
// than the kernels themselves on small models). This raises glibc's mmap threshold to the largest
// value it accepts (32 MiB) and its trim threshold to 1 GiB. Process-wide, called once when the
// addon loads; `CONVKIT_MALLOC_TUNING=0` skips it; a no-op outside glibc. Returns whether the
// tuning was applied.
bool tune_allocator();

}  // namespace convkit
