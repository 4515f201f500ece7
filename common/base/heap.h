// How the process takes memory from the kernel and gives it back.
#pragma once

#include <cstddef>

namespace anchorage {

// Keeps freed blocks of up to 32 MB in the heap instead of returning them to
// the kernel at once. By default glibc maps a large block afresh and trims
// the heap's top on free, so a buffer freed and allocated again every
// training step (Eigen's matrix-product panels, a model-sized message) is
// faulted in page by page each time: on a 2-core machine a demo worker
// took a page fault every 25 µs, and its steps ran slower than the bare
// loop. Blocks above 32 MB are still mapped on their own, and a process's
// peak memory is unchanged. Call first in main(), before any allocation
// that matters.
void RetainFreedHeap();

// Maps every page of [data, data + bytes) now, in one call, for a buffer
// about to be filled: each page would otherwise fault on its first write
// (in a virtual machine a fault costs microseconds). The whole 2 MB pages
// inside the range are asked for as transparent huge pages, so a large
// buffer takes one mapping per 2 MB instead of 512 (where the machine
// shadows page tables, each mapping of a 4 kB page is another trap on its
// first touch). Advisory: a kernel without MADV_POPULATE_WRITE (before
// Linux 5.14), or with transparent huge pages off, leaves the rest to the
// faults.
void MapPagesNow(void* data, size_t bytes);

}  // namespace anchorage
