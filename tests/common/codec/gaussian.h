// Gaussian test vectors shared by the codec tests: the same seed gives the
// same vector in every test binary.
#pragma once

#include <cstddef>
#include <cstdint>
#include <random>
#include <vector>

namespace anchorage::codec {

inline std::vector<float> Gaussian(size_t dim, uint32_t seed,
                                   float sigma = 1.0F) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0F, sigma);
  std::vector<float> values(dim);
  for (float& value : values) {
    value = normal(rng);
  }
  return values;
}

}  // namespace anchorage::codec
