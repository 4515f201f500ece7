// How a sharded anchor service splits the parameter vector: S contiguous
// slices balanced by size (the first dim mod S of them one coordinate
// longer), shard s holding [begin, end). Balance by size is what divides
// the traffic and the memory by S; every rule of the round core is
// elementwise, so where a slice cuts a layer changes nothing but the
// codecs that select or normalise within what they are given (top-k and
// the sketches choose k/S per slice; QSGD's buckets restart at a slice).
#pragma once

#include <cstdint>
#include <vector>

namespace anchorage::algo {

struct ModelSlice {
  int64_t begin = 0;
  int64_t end = 0;
  int64_t size() const { return end - begin; }
};

// Shard `shard` of `shards` over `dim` coordinates; requires
// 1 <= shards <= dim and 0 <= shard < shards.
ModelSlice SliceOf(int64_t dim, int shards, int shard);

// Every shard's slice, shard 0 first.
std::vector<ModelSlice> Slices(int64_t dim, int shards);

}  // namespace anchorage::algo
