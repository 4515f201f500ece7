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
  auto* const first = static_cast<char*>(data);
  const auto begin = reinterpret_cast<uintptr_t>(data);
  // The whole 2 MB pages inside the buffer, as transparent huge pages.
  constexpr uintptr_t kHugePage = uintptr_t{2} << 20;
  const uintptr_t huge_begin = (begin + kHugePage - 1) & ~(kHugePage - 1);
  const uintptr_t huge_end = (begin + bytes) & ~(kHugePage - 1);
  if (huge_end > huge_begin) {
    ::madvise(first + (huge_begin - begin), huge_end - huge_begin,
              MADV_HUGEPAGE);
  }
  // madvise takes whole pages: from the page that holds the first byte.
  const auto page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  const size_t into_page = begin & (page - 1);
  ::madvise(first - into_page, bytes + into_page, MADV_POPULATE_WRITE);
}

}  // namespace anchorage
