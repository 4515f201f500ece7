#include "common/base/heap.h"

#include <malloc.h>

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

}  // namespace anchorage
