// The plain-English verdict `anchorage compare` writes under its table for
// each setting: who wins on the study's key number, by how much, and the
// number that explains it (time blocked at sync points, bytes sent, the
// tuned step size).
//
// Thread-safety: a free function over its arguments.
#pragma once

#include <string>
#include <vector>

#include "compare/outcome.h"
#include "compare/study.h"

namespace anchorage::compare {

// Returns one paragraph about `runs` (the reported runs of one setting, in
// series order; none null). For kTimeToTarget the winner is the first run
// to reach `target_accuracy` (the one ending closest when none does), for
// kFinalTrainLoss the run with the lowest final training loss; each
// winner is named first, with the runner-up's number beside its own.
// Returns "" when `runs` is empty.
std::string Verdict(const std::vector<const RunOutcome*>& runs, KeyMetric key,
                    double target_accuracy);

}  // namespace anchorage::compare
