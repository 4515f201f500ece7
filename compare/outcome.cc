#include "compare/outcome.h"

#include <cmath>

#include "common/base/check.h"

namespace anchorage::compare {

std::optional<size_t> FirstPointAtTarget(const std::vector<TracePoint>& trace,
                                         double target) {
  for (size_t i = 0; i < trace.size(); ++i) {
    if (trace[i].test_accuracy >= target) return i;
  }
  return std::nullopt;
}

std::optional<double> TimeToTarget(const std::vector<TracePoint>& trace,
                                   double target) {
  const std::optional<size_t> index = FirstPointAtTarget(trace, target);
  if (!index) return std::nullopt;
  return trace[*index].virtual_seconds;
}

std::optional<int64_t> BytesUpToTarget(const std::vector<TracePoint>& trace,
                                       double target) {
  const std::optional<size_t> index = FirstPointAtTarget(trace, target);
  if (!index) return std::nullopt;
  return trace[*index].bytes_up;
}

size_t SelectLowestTrainLoss(const std::vector<const RunOutcome*>& candidates) {
  ANCHORAGE_CHECK(!candidates.empty(), "selecting among no candidates");
  size_t best = 0;
  for (size_t i = 1; i < candidates.size(); ++i) {
    const double loss = candidates[i]->summary.train_loss;
    const double best_loss = candidates[best]->summary.train_loss;
    if (!std::isfinite(loss)) continue;
    if (!std::isfinite(best_loss) || loss < best_loss) best = i;
  }
  return best;
}

}  // namespace anchorage::compare
