#include "common/base/heap.h"

#include <cstddef>
#include <cstdint>
#include <vector>

#include <gtest/gtest.h>

namespace anchorage {
namespace {

// Mapping the pages of a buffer in advance leaves what it holds, whatever
// the buffer's alignment, and the whole buffer stays writable.
TEST(HeapTest, MapPagesNowKeepsTheContents) {
  std::vector<uint8_t> buffer(3 * 4096 + 123);
  for (size_t i = 0; i < buffer.size(); ++i) {
    buffer[i] = static_cast<uint8_t>(i * 7 + 1);
  }

  MapPagesNow(buffer.data() + 5, buffer.size() - 5);
  MapPagesNow(buffer.data(), 0);

  for (size_t i = 0; i < buffer.size(); ++i) {
    ASSERT_EQ(buffer[i], static_cast<uint8_t>(i * 7 + 1)) << i;
  }
  buffer.back() = 0;
  EXPECT_EQ(buffer.back(), 0);
}

// A buffer over several 2 MB pages, the part asked for as huge pages
// starting and ending inside it, keeps its contents too.
TEST(HeapTest, MapPagesNowKeepsTheContentsOfALargeBuffer) {
  std::vector<uint32_t> buffer((5 << 20) / sizeof(uint32_t) + 77);
  for (size_t i = 0; i < buffer.size(); ++i) {
    buffer[i] = static_cast<uint32_t>(i * 2654435761U);
  }

  MapPagesNow(buffer.data() + 3, (buffer.size() - 3) * sizeof(uint32_t));

  for (size_t i = 0; i < buffer.size(); ++i) {
    ASSERT_EQ(buffer[i], static_cast<uint32_t>(i * 2654435761U)) << i;
  }
}

}  // namespace
}  // namespace anchorage
