#include "common/algo/model_slice.h"

#include "common/base/check.h"

namespace anchorage::algo {

ModelSlice SliceOf(int64_t dim, int shards, int shard) {
  ANCHORAGE_CHECK(shards >= 1 && shards <= dim && shard >= 0 && shard < shards,
                  "SliceOf: shard out of range");
  const int64_t base = dim / shards;
  const int64_t longer = dim % shards;
  const int64_t begin = shard * base + (shard < longer ? shard : longer);
  return {.begin = begin, .end = begin + base + (shard < longer ? 1 : 0)};
}

std::vector<ModelSlice> Slices(int64_t dim, int shards) {
  std::vector<ModelSlice> slices;
  slices.reserve(static_cast<size_t>(shards));
  for (int s = 0; s < shards; ++s) {
    slices.push_back(SliceOf(dim, shards, s));
  }
  return slices;
}

}  // namespace anchorage::algo
