// Derives independent generator seeds from a run's seed.
#pragma once

#include <cstdint>

namespace anchorage {

// splitmix64's finalizer applied to `seed` and a `stream` tag: nearby seeds
// and streams give unrelated generator states, so every random choice of a
// run can draw from its own stream of the one --seed.
inline uint64_t MixSeed(uint64_t seed, uint64_t stream) {
  uint64_t z = seed + 0x9E3779B97F4A7C15ULL * (stream + 1);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

}  // namespace anchorage
