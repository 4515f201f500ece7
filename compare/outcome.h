// What `anchorage compare` keeps of one finished run, and the numbers it
// derives from a run's trace: the first crossing of a target accuracy (its
// time and the bytes sent by then) and the pick among learning-rate
// candidates.
//
// Thread-safety: plain values and free functions over their arguments.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "common/summary/run_summary.h"
#include "simulator/simulator.h"

namespace anchorage::compare {

using simulator::TracePoint;

// One run: its place in the study, its trace and its final numbers.
struct RunOutcome {
  // The study's setting this run belongs to ("P=0.2", "latency 1×") and its
  // series label, which names the algorithm and any variant ("slowmo
  // β=0.7"). Runs that share both are learning-rate candidates.
  std::string setting;
  std::string label;
  double lr = 0;
  uint64_t seed = 0;
  // Evaluations in time order; the train loss is NaN where no step has
  // been taken yet. Simulated runs: virtual seconds and exact counts. Real
  // runs: wall seconds; examples, epochs and bytes are estimated in
  // proportion to the anchor version, and the train loss and sync wait are
  // known only at the end (NaN before).
  std::vector<TracePoint> trace;
  // The run's own summary (settings, seconds of the run, bytes, sync wait),
  // except where compare measures differently. Simulated runs: test_accuracy
  // and test_loss are the final anchor on the whole test set (the run may
  // evaluate on --eval-examples), train_loss the final anchor on the whole
  // training set (the objective) instead of the workers' recent training
  // loss, and a sync_wait_seconds_mean below a nanosecond (rounding residue
  // of the virtual clock) is 0. Real runs keep the demo's summary as it is.
  summary::RunSummary summary;
  // Empty, or why the run stopped before its budget (it diverged).
  std::string stopped_early;
  // The paper's compression factor of Sketched SGD for this run's codec
  // (PaperCompression, traffic.h); NaN when it has none, and for real runs,
  // which do not measure the anchor changes it needs.
  double paper_compression = std::numeric_limits<double>::quiet_NaN();
};

// Returns the index of the first trace point whose test accuracy is at or
// above `target`, or nullopt when none is.
std::optional<size_t> FirstPointAtTarget(const std::vector<TracePoint>& trace,
                                         double target);

// Returns the seconds of the first point at or above `target` (nullopt if
// none).
std::optional<double> TimeToTarget(const std::vector<TracePoint>& trace,
                                   double target);

// Returns the bytes sent up by the first point at or above `target`
// (nullopt if none).
std::optional<int64_t> BytesUpToTarget(const std::vector<TracePoint>& trace,
                                       double target);

// Returns the index of the candidate with the lowest final training loss; a
// non-finite loss (a diverged run) never wins unless every candidate has
// one, and ties go to the earlier candidate. `candidates` must not be
// empty and holds no null.
size_t SelectLowestTrainLoss(const std::vector<const RunOutcome*>& candidates);

}  // namespace anchorage::compare
