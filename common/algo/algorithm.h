// The algorithm family. Every method is one configuration of the same
// machinery: what a worker sends, whether it waits for the reply or keeps
// computing, and how the server turns the contributions into the next
// anchor (the outer rule, outer_rule.h).
#pragma once

#include <string_view>

#include "common/base/enum_names.h"

namespace anchorage::algo {

enum class Algorithm {
  kMinibatchSgd,  // each round: τ minibatch gradients at the anchor, averaged
  kLocalSgd,      // τ local steps, send, wait, adopt the average
  kOverlapLocalSgd,  // τ local steps, pull toward the newest anchor, send, go
                     // on
  kSlowMo,           // Local SGD with a slow outer momentum step
  kDiLoCo,           // Local SGD with an outer Nesterov step
};

// How an algorithm drives a worker.
struct AlgorithmTraits {
  // Compute goes on while the contribution travels (Overlap-Local-SGD);
  // otherwise the worker waits for the round's anchor.
  bool overlapped = false;
  // The worker sends the mean gradient at the anchor and never steps
  // locally (minibatch SGD); otherwise it sends its model.
  bool sends_gradient = false;
  // Outer learning rate and momentum come from --alpha and --beta (SlowMo,
  // DiLoCo); for the others --alpha is the pull strength.
  bool alpha_is_outer_lr = false;
  // The papers' --alpha and --beta, used when the user gives neither:
  // Overlap-Local-SGD pulls with 0.6, SlowMo takes an outer step of 1.0
  // with momentum 0.5, DiLoCo 0.7 with Nesterov momentum 0.9; the others
  // average plainly (1.0, no momentum).
  double default_alpha = 1.0;
  double default_beta = 0.0;
};

AlgorithmTraits TraitsOf(Algorithm algorithm);

// The name of each algorithm on the command line, on the wire, in metric
// labels and in summaries.
inline constexpr EnumName<Algorithm> kAlgorithmNames[] = {
    {Algorithm::kMinibatchSgd, "minibatch-sgd"},
    {Algorithm::kLocalSgd, "local-sgd"},
    {Algorithm::kOverlapLocalSgd, "overlap-local-sgd"},
    {Algorithm::kSlowMo, "slowmo"},
    {Algorithm::kDiLoCo, "diloco"},
};

constexpr std::string_view AlgorithmName(Algorithm algorithm) {
  return NameOf(kAlgorithmNames, algorithm);
}

}  // namespace anchorage::algo
