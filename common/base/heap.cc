#include "common/base/heap.h"

#include <malloc.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>

namespace anchorage {

void RetainFreedHeap() {
  // glibc's largest mmap threshold; setting it ends the dynamic threshold,
  // so the trim threshold is set with it.
  constexpr int kMmapThreshold = 32 << 20;
  constexpr int kTrimThreshold = 256 << 20;
  // Called first in main(), before any other thread exists.
  mallopt(M_MMAP_THRESHOLD, kMmapThreshold);  // NOLINT(concurrency-mt-unsafe)
  mallopt(M_TRIM_THRESHOLD, kTrimThreshold);  // NOLINT(concurrency-mt-unsafe)
}

void MapPagesNow(void* data, size_t bytes) {
  if (bytes == 0) return;
  // madvise takes whole pages: from the page that holds the first byte.
  const auto page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  const size_t into_page = reinterpret_cast<uintptr_t>(data) & (page - 1);
  ::madvise(static_cast<char*>(data) - into_page, bytes + into_page,
            MADV_POPULATE_WRITE);
}

}  // namespace anchorage
