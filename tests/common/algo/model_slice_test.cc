// The slices of a sharded anchor service cover the model in order, without
// gap or overlap, and differ in size by at most one coordinate.
#include "common/algo/model_slice.h"

#include <algorithm>
#include <vector>

#include <gtest/gtest.h>

namespace anchorage::algo {
namespace {

TEST(ModelSliceTest, SlicesCoverTheModelInOrderBalancedBySize) {
  for (const int64_t dim : {1, 7, 10, 101, 1000003}) {
    for (int shards = 1; shards <= 8 && shards <= dim; ++shards) {
      const std::vector<ModelSlice> slices = Slices(dim, shards);
      ASSERT_EQ(slices.size(), static_cast<size_t>(shards));
      int64_t next = 0;
      int64_t smallest = dim;
      int64_t largest = 0;
      for (const ModelSlice& slice : slices) {
        EXPECT_EQ(slice.begin, next) << dim << "/" << shards;
        next = slice.end;
        smallest = std::min(smallest, slice.size());
        largest = std::max(largest, slice.size());
      }
      EXPECT_EQ(next, dim);
      EXPECT_LE(largest - smallest, 1) << dim << "/" << shards;
      EXPECT_GE(smallest, 1);
    }
  }
}

TEST(ModelSliceTest, TheLongerSlicesComeFirst) {
  EXPECT_EQ(SliceOf(10, 4, 0).size(), 3);
  EXPECT_EQ(SliceOf(10, 4, 1).size(), 3);
  EXPECT_EQ(SliceOf(10, 4, 2).size(), 2);
  EXPECT_EQ(SliceOf(10, 4, 3).begin, 8);
  EXPECT_EQ(SliceOf(10, 1, 0).end, 10);
}

}  // namespace
}  // namespace anchorage::algo
