// What `anchorage compare` keeps of one finished run, and the numbers it
// derives from a run's trace: the first crossing of a target accuracy (its
// time and the bytes sent by then) and the pick among learning-rate
// candidates.
//
// Thread-safety: plain values and free functions over their arguments.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

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
  std::string algorithm;
  double lr = 0;
  // Evaluations in time order; the train loss is NaN where no step has
  // been taken yet. Simulated runs: virtual seconds and exact counts. Real
  // runs: wall seconds; examples, epochs and bytes are estimated in
  // proportion to the anchor version, and the train loss and sync wait are
  // known only at the end (NaN before).
  std::vector<TracePoint> trace;
  // The final anchor on the whole test set and on the whole training set
  // (the objective). Real runs report the workers' recent training loss.
  double final_test_accuracy = 0;
  double final_test_loss = 0;
  double final_train_loss = 0;
  // Seconds of the run (virtual or wall), bytes sent to the server, and the
  // mean over workers of their total time blocked at sync points.
  double seconds = 0;
  int64_t bytes_up = 0;
  int64_t bytes_down = 0;
  double sync_wait_seconds = 0;
  // Empty, or why the run stopped before its budget (it diverged).
  std::string stopped_early;
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
