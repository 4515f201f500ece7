// Several seeds of one configuration, as `anchorage compare --seeds` runs
// them: the spread of a number over the seeds (mean ± sample standard
// deviation), and the seeds' mean as one outcome, which the verdicts and the
// figures use.
//
// Thread-safety: plain values and free functions over their arguments.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "compare/outcome.h"

namespace anchorage::compare {

// A number over seeds: the mean and sample standard deviation of the finite
// values, how many were finite and how many there were.
struct Stat {
  double mean = 0;
  double std = 0;
  int count = 0;
  int of = 0;
};

Stat StatOf(const std::vector<double>& values);

// "0.8541 ± 0.0012" to `digits` significant digits; "0.8541" for one value;
// "n/a" when no value is finite; with some values missing (a target some
// seeds never reach) the count follows: "1.2 ± 0.1 (2/3)".
std::string FormatStat(const Stat& stat, int digits);

// The seeds of one (setting, label, step size), in seed order, and their
// mean: summary numbers averaged (accuracy, losses, seconds, bytes, waits,
// staleness, anchor changes, the paper's compression), and the trace averaged
// point by point over the length of the shortest trace (runs that share a
// budget evaluate at the same points). With one seed the mean is that run.
struct SeededRun {
  std::vector<const RunOutcome*> seeds;
  RunOutcome mean;
};

// `seeds` must not be empty and holds no null.
SeededRun MeanOverSeeds(std::vector<const RunOutcome*> seeds);

// The runs of one (setting, label), grouped by step size (in the order the
// step sizes first appear), each group's seeds averaged.
std::vector<SeededRun> ByStepSize(const std::vector<const RunOutcome*>& runs);

// The step size whose seeds' mean final training loss is lowest
// (SelectLowestTrainLoss over the means). `candidates` must not be empty.
const SeededRun& Tuned(const std::vector<SeededRun>& candidates);

// Per label, the tuned step size among `runs` (the runs of one setting).
std::map<std::string, double> TunedLearningRates(
    const std::vector<RunOutcome>& runs);

// A run's final test accuracy: the mean of its last three evaluations (the
// last is the final anchor), fewer when it has fewer.
double FinalAccuracy(const RunOutcome& run);

// The share of a run's time its workers spent blocked at sync points:
// sync wait over the run's seconds (0 for a run of no time).
double CommunicationShare(const RunOutcome& run);

}  // namespace anchorage::compare
