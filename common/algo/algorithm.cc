#include "common/algo/algorithm.h"

namespace anchorage::algo {

AlgorithmTraits TraitsOf(Algorithm algorithm) {
  switch (algorithm) {
    case Algorithm::kMinibatchSgd:
      return {.sends_gradient = true};
    case Algorithm::kLocalSgd:
      return {};
    case Algorithm::kOverlapLocalSgd:
      return {.overlapped = true};
    case Algorithm::kSlowMo:
    case Algorithm::kDiLoCo:
      return {.alpha_is_outer_lr = true};
  }
  return {};
}

}  // namespace anchorage::algo
