// The runs `anchorage compare` makes and how it reports them: `--study
// custom` runs each of --algorithms once on the settings the flags give; a
// preset study (woodworth, overlap, slowmo, compression, sketch) sets what
// its question needs, sweeps one setting and adds the figures that answer
// it.
//
// A preset value is a default: a flag the user gave (on the command line
// or in --config) wins over it, except for what the study sweeps or fixes
// by definition (its algorithms, the swept setting, a learning-rate grid),
// and the plan records both so summary.md can say so.
//
// Thread-safety: plain values and a free function.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/config/run_config.h"

namespace anchorage::compare {

// The number a study is decided by.
enum class KeyMetric {
  kTimeToTarget,    // seconds to the target test accuracy
  kFinalTrainLoss,  // the objective at the end of an equal budget
};

// One run: where it belongs in the study and its complete configuration.
struct RunSpec {
  std::string setting;
  // Series label: the algorithm, plus its variant when several runs of one
  // algorithm share a setting ("slowmo β=0.7").
  std::string label;
  config::RunConfig config;
  // Runs with the step size tuned for its label in the plan's
  // `tuning_setting` (config.train.lr is set once the tuning runs are done).
  bool tuned_lr = false;
};

// Numbers per setting that a sweep figure shows.
enum class SweepMetric {
  kFinalTrainLoss,
  kFinalTestError,     // 1 − final test accuracy
  kFinalTestAccuracy,  // the mean of the last evaluations (seeds.h)
  kTimeToTarget,
  kSyncWait,  // seconds each worker spent blocked, mean over workers
  kMeanBits,  // quantisation bits per coordinate the pushes spent
  // Bytes per worker per round (traffic.h): up, as sent, plus down, as a
  // sparse downlink would send the anchor's changes.
  kSparseTrafficPerWorkerRound,
};

// A figure of one number per (setting, series): a grouped bar chart with a
// cluster per setting, or a line plot over `x` (one x per setting).
struct SweepFigure {
  std::string file;
  bool bars = false;
  SweepMetric metric = SweepMetric::kFinalTrainLoss;
  std::string title;
  std::string x_label;
  std::string y_label;
  std::vector<std::string> settings;
  std::vector<double> x;
  // Line plots: each point's x from its own run (the bits it spent, say)
  // instead of `x`; settings a series has no run in are skipped.
  std::optional<SweepMetric> x_metric;
  bool log_x = false;
  bool log_y = false;
  // The series shown (empty: every label of the plan).
  std::vector<std::string> labels;
};

// Trace quantities a trace figure can put on an axis.
enum class TraceAxis {
  kSeconds,
  kExamples,
  kBytesUp,
  kTrainLoss,
  kTestLoss,
  kTestAccuracy
};

// A figure of every reported run's trace, one series per run.
struct TraceFigure {
  std::string file;
  std::string title;
  TraceAxis x = TraceAxis::kSeconds;
  TraceAxis y = TraceAxis::kTestAccuracy;
  bool log_x = false;
  bool log_y = false;
};

// The columns of the results table after the accuracy, time and bytes
// to the target.
enum class ResultsColumns {
  // Sync wait per worker and the share of time blocked.
  kWaiting,
  // Per run: both compression ratios (upload only, measured; the paper's
  // 2d / (r c + P k + k), traffic.h), and per worker and round the bytes
  // up, the coordinates each anchor version changed, the bytes a sparse
  // downlink would send and the bytes the service sent down.
  kTraffic,
};

struct StudyPlan {
  config::Study study = config::Study::kCustom;
  std::string title;
  // A paragraph: what is compared and what the papers expect.
  std::string description;
  // Settings and series labels in report order.
  std::vector<std::string> settings;
  std::vector<std::string> labels;
  // Every run in execution order. When `tune_lr` is set, the runs sharing a
  // setting and label are learning-rate candidates: the report keeps the
  // one with the lowest final training loss.
  std::vector<RunSpec> runs;
  bool tune_lr = false;
  // With tune_lr: when set, the step-size candidates run in this setting
  // only, and the other settings' runs (tuned_lr) use each label's pick.
  std::string tuning_setting;
  KeyMetric key = KeyMetric::kTimeToTarget;
  // The target of the verdicts, and every target the table times (the
  // first is target_accuracy).
  double target_accuracy = 0.8;
  std::vector<double> targets;
  // The seeds each run is repeated with (one: --seed).
  std::vector<uint64_t> seeds;
  // What the preset set ("--workers 25") and which of its defaults the
  // user's flags replaced ("--workers").
  std::vector<std::string> preset_settings;
  std::vector<std::string> user_overrides;
  // Notes for the reader of summary.md (what a column means, what was
  // adapted).
  std::vector<std::string> notes;
  ResultsColumns columns = ResultsColumns::kWaiting;
  std::vector<SweepFigure> sweep_figures;
  std::vector<TraceFigure> trace_figures;
  // The results table also gives the mean quantisation bits per coordinate.
  bool show_bits = false;
  // The settings whose runs the trace figures show (empty: all), so a
  // sweep's figures stay readable; results.csv always has every run.
  std::vector<std::string> trace_settings;
};

// Builds the plan for `base.compare.study` from the parsed flags `base`;
// `given` holds the flags the user set ("--workers", "--lr", ...), whose
// values the presets keep. With --seeds every run is repeated once per
// seed, in seed order, right after itself.
StudyPlan PlanStudy(const config::RunConfig& base,
                    const std::set<std::string>& given);

}  // namespace anchorage::compare
