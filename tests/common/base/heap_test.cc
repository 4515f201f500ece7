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

}  // namespace
}  // namespace anchorage
