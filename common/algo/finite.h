// Whether every value is finite, in one branch-free pass the compiler
// vectorises (a NaN fails the comparison as an infinity does). The round
// core checks every decoded contribution and every new anchor with it.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <span>

namespace anchorage::algo {

template <typename Scalar>
bool AllFinite(std::span<const Scalar> values) {
  uint32_t bad = 0;
  for (const Scalar value : values) {
    bad |= std::fabs(value) <= std::numeric_limits<Scalar>::max() ? 0U : 1U;
  }
  return bad == 0;
}

}  // namespace anchorage::algo
