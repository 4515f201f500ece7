#include "common/algo/algorithm.h"

namespace anchorage::algo {

AlgorithmTraits TraitsOf(Algorithm algorithm) {
  switch (algorithm) {
    case Algorithm::kMinibatchSgd:
      return {.sends_gradient = true};
    case Algorithm::kLocalSgd:
      return {};
    case Algorithm::kOverlapLocalSgd:
      return {.overlapped = true, .default_alpha = 0.6};
    case Algorithm::kSlowMo:
      return {
          .alpha_is_outer_lr = true, .default_alpha = 1.0, .default_beta = 0.5};
    case Algorithm::kDiLoCo:
      return {
          .alpha_is_outer_lr = true, .default_alpha = 0.7, .default_beta = 0.9};
  }
  return {};
}

}  // namespace anchorage::algo
