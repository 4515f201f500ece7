#include "common/algo/algorithm.h"

#include <string>

namespace anchorage::algo {
namespace {

constexpr Algorithm kAll[] = {Algorithm::kMinibatchSgd, Algorithm::kLocalSgd,
                              Algorithm::kOverlapLocalSgd, Algorithm::kSlowMo,
                              Algorithm::kDiLoCo};

}  // namespace

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

std::string_view AlgorithmName(Algorithm algorithm) {
  switch (algorithm) {
    case Algorithm::kMinibatchSgd:
      return "minibatch-sgd";
    case Algorithm::kLocalSgd:
      return "local-sgd";
    case Algorithm::kOverlapLocalSgd:
      return "overlap-local-sgd";
    case Algorithm::kSlowMo:
      return "slowmo";
    case Algorithm::kDiLoCo:
      return "diloco";
  }
  return "unknown";
}

std::string AlgorithmNames() {
  std::string names;
  for (const Algorithm algorithm : kAll) {
    if (!names.empty()) names += ", ";
    names += AlgorithmName(algorithm);
  }
  return names;
}

StatusOr<Algorithm> ParseAlgorithm(std::string_view name) {
  for (const Algorithm algorithm : kAll) {
    if (AlgorithmName(algorithm) == name) return algorithm;
  }
  return Status::InvalidArgument("unknown algorithm '" + std::string(name) +
                                 "' (known: " + AlgorithmNames() + ")");
}

}  // namespace anchorage::algo
