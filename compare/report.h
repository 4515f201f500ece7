// The files `anchorage compare` writes: results.csv (every trace point of
// every run), summary.md (one table row per reported run, a verdict per
// setting, what the preset set, and the figures) and the SVG figures.
//
// Thread-safety: free functions over their arguments.
#pragma once

#include <string>
#include <vector>

#include "common/base/status.h"
#include "compare/outcome.h"
#include "compare/seeds.h"
#include "compare/study.h"

namespace anchorage::compare {

// Columns of results.csv.
inline constexpr char kResultsCsvHeader[] =
    "study,setting,algorithm,lr,seed,virtual_or_wall_seconds,examples,epoch,"
    "train_loss,test_loss,test_accuracy,bytes_up,bytes_down,"
    "sync_wait_seconds_mean";

struct ReportOptions {
  // The folder the files go to; created if missing.
  std::string out_dir;
  // The command that produced the study, quoted in summary.md.
  std::string command_line;
  // Real processes (wall seconds) instead of the simulator.
  bool real = false;
};

// Returns the runs the report shows, in plan order (setting, then series),
// each with its seeds: every (setting, label, step size), or with
// `plan.tune_lr` the step size of each (setting, label) whose seeds' mean
// final training loss is lowest. Pointers into `runs`.
std::vector<SeededRun> ReportedRuns(const StudyPlan& plan,
                                    const std::vector<RunOutcome>& runs);

// The seeds' means of `runs`, pointers into them.
std::vector<const RunOutcome*> Means(const std::vector<SeededRun>& runs);

// Returns results.csv: kResultsCsvHeader, then one row per trace point of
// every run in `runs` (learning-rate candidates included), in run order.
// The `algorithm` column holds the run's series label. Unknown values
// (NaN) are empty cells.
std::string RenderResultsCsv(const std::string& study,
                             const std::vector<RunOutcome>& runs);

// Returns summary.md for `runs` (all runs of `plan`, in plan order).
StatusOr<std::string> RenderSummary(const StudyPlan& plan,
                                    const std::vector<RunOutcome>& runs,
                                    const ReportOptions& options);

// Writes results.csv, summary.md and every figure of `plan` into
// `options.out_dir`. Returns the first write error.
Status WriteReport(const StudyPlan& plan, const std::vector<RunOutcome>& runs,
                   const ReportOptions& options);

}  // namespace anchorage::compare
