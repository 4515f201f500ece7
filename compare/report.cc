#include "compare/report.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "common/data/dataset.h"
#include "common/io/file.h"
#include "common/report/svg_plot.h"
#include "common/report/table.h"
#include "compare/seeds.h"
#include "compare/traffic.h"
#include "compare/verdict.h"

namespace anchorage::compare {
namespace {

using report::FormatNumber;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Shortest text that reads back as `value`; "" for NaN and infinities.
std::string Exact(double value) {
  if (!std::isfinite(value)) return "";
  char text[32];
  const std::to_chars_result end =
      std::to_chars(text, text + sizeof(text), value);
  return std::string(text, end.ptr);
}

std::string Megabytes(double bytes) {
  return FormatNumber(bytes / 1e6, 4);
}

// "a", "a and b", "a, b and c".
std::string JoinAnd(const std::vector<std::string>& parts) {
  std::string text;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) text += i + 1 == parts.size() ? " and " : ", ";
    text += parts[i];
  }
  return text;
}

// Runs of one (setting, label), in run order.
using Groups = std::map<std::pair<std::string, std::string>,
                        std::vector<const RunOutcome*>>;

Groups GroupRuns(const std::vector<RunOutcome>& runs) {
  Groups groups;
  for (const RunOutcome& run : runs) {
    groups[{run.setting, run.label}].push_back(&run);
  }
  return groups;
}

// The reported runs of the plan's trace settings (all when it names none).
std::vector<const RunOutcome*> TracedRuns(
    const StudyPlan& plan, const std::vector<const RunOutcome*>& reported) {
  if (plan.trace_settings.empty()) return reported;
  std::vector<const RunOutcome*> traced;
  for (const RunOutcome* run : reported) {
    if (std::find(plan.trace_settings.begin(), plan.trace_settings.end(),
                  run->setting) != plan.trace_settings.end()) {
      traced.push_back(run);
    }
  }
  return traced;
}

std::string SeriesLabel(const StudyPlan& plan, const RunOutcome& run) {
  return plan.settings.size() > 1 ? run.setting + " · " + run.label : run.label;
}

double TraceValue(const TracePoint& point, TraceAxis axis) {
  switch (axis) {
    case TraceAxis::kSeconds:
      return point.virtual_seconds;
    case TraceAxis::kExamples:
      return static_cast<double>(point.examples);
    case TraceAxis::kBytesUp:
      return static_cast<double>(point.bytes_up);
    case TraceAxis::kTrainLoss:
      return point.train_loss;
    case TraceAxis::kTestLoss:
      return point.test_loss;
    case TraceAxis::kTestAccuracy:
      return point.test_accuracy;
  }
  return kNaN;
}

std::string AxisName(TraceAxis axis, bool real) {
  switch (axis) {
    case TraceAxis::kSeconds:
      return real ? "wall seconds" : "virtual seconds";
    case TraceAxis::kExamples:
      return "training examples processed (all workers)";
    case TraceAxis::kBytesUp:
      return "bytes sent to the server (log scale)";
    case TraceAxis::kTrainLoss:
      return "training loss (workers' recent minibatches)";
    case TraceAxis::kTestLoss:
      return "test loss";
    case TraceAxis::kTestAccuracy:
      return "test accuracy";
  }
  return "";
}

double SweepValue(const RunOutcome& run, SweepMetric metric, double target) {
  switch (metric) {
    case SweepMetric::kFinalTrainLoss:
      return run.summary.train_loss;
    case SweepMetric::kFinalTestError:
      return 1.0 - FinalAccuracy(run);
    case SweepMetric::kFinalTestAccuracy:
      return FinalAccuracy(run);
    case SweepMetric::kMeanBits:
      return run.summary.quantization_bits_mean > 0
                 ? run.summary.quantization_bits_mean
                 : kNaN;
    case SweepMetric::kTimeToTarget:
      return TimeToTarget(run.trace, target).value_or(kNaN);
    case SweepMetric::kSyncWait:
      return run.summary.sync_wait_seconds_mean;
    case SweepMetric::kSparseTrafficPerWorkerRound:
      return UpBytesPerWorkerRound(run) + SparseDownBytesPerWorkerRound(run);
  }
  return kNaN;
}

std::string RenderTraceFigure(const StudyPlan& plan, const TraceFigure& figure,
                              const std::vector<const RunOutcome*>& reported,
                              bool real) {
  report::PlotOptions options;
  options.title = figure.title;
  options.x_label = AxisName(figure.x, real);
  options.y_label = AxisName(figure.y, real);
  options.x_scale =
      figure.log_x ? report::Scale::kLog10 : report::Scale::kLinear;
  options.y_scale =
      figure.log_y ? report::Scale::kLog10 : report::Scale::kLinear;
  if (figure.y == TraceAxis::kTestAccuracy) {
    options.reference_y = plan.target_accuracy;
    options.reference_label = "target " + FormatNumber(plan.target_accuracy);
  }
  std::vector<report::Series> series;
  for (const RunOutcome* run : reported) {
    report::Series line{.label = SeriesLabel(plan, *run)};
    for (const TracePoint& point : run->trace) {
      line.x.push_back(TraceValue(point, figure.x));
      line.y.push_back(TraceValue(point, figure.y));
    }
    series.push_back(std::move(line));
  }
  return report::RenderSvgLinePlot(options, series);
}

// The reported runs by (setting, label).
using RunsByKey =
    std::map<std::pair<std::string, std::string>, const RunOutcome*>;

// `metric` of the run of (setting, label); NaN when there is none.
double ValueOf(const RunsByKey& runs, const std::string& setting,
               const std::string& label, SweepMetric metric, double target) {
  const auto found = runs.find({setting, label});
  return found == runs.end() ? kNaN
                             : SweepValue(*found->second, metric, target);
}

// One line per label: at the figure's x per setting, or at each run's own
// x_metric.
std::vector<report::Series> SweepLines(const StudyPlan& plan,
                                       const SweepFigure& figure,
                                       const std::vector<std::string>& labels,
                                       const RunsByKey& runs) {
  const double target = plan.target_accuracy;
  std::vector<report::Series> series;
  for (const std::string& label : labels) {
    report::Series line{.label = label};
    for (size_t i = 0; i < figure.settings.size(); ++i) {
      const std::string& setting = figure.settings[i];
      const double x =
          figure.x_metric
              ? ValueOf(runs, setting, label, *figure.x_metric, target)
              : (i < figure.x.size() ? figure.x[i] : kNaN);
      if (!std::isfinite(x)) continue;
      line.x.push_back(x);
      line.y.push_back(ValueOf(runs, setting, label, figure.metric, target));
    }
    if (!line.x.empty()) series.push_back(std::move(line));
  }
  return series;
}

std::string RenderSweepFigure(const StudyPlan& plan, const SweepFigure& figure,
                              const std::vector<const RunOutcome*>& reported) {
  RunsByKey by_key;
  for (const RunOutcome* run : reported) {
    by_key[{run->setting, run->label}] = run;
  }
  report::PlotOptions options;
  options.title = figure.title;
  options.x_label = figure.x_label;
  options.y_label = figure.y_label;
  options.x_scale =
      figure.log_x ? report::Scale::kLog10 : report::Scale::kLinear;
  options.y_scale =
      figure.log_y ? report::Scale::kLog10 : report::Scale::kLinear;
  const std::vector<std::string>& labels =
      figure.labels.empty() ? plan.labels : figure.labels;
  if (!figure.bars) {
    return report::RenderSvgLinePlot(options,
                                     SweepLines(plan, figure, labels, by_key));
  }
  std::vector<report::BarGroup> groups;
  for (const std::string& setting : figure.settings) {
    report::BarGroup group{.label = setting};
    for (const std::string& label : labels) {
      group.values.push_back(
          ValueOf(by_key, setting, label, figure.metric, plan.target_accuracy));
    }
    groups.push_back(std::move(group));
  }
  return report::RenderSvgBarChart(options, labels, groups);
}

// "v" when every run agrees on it, else "varies".
template <typename Get>
std::string Common(const StudyPlan& plan, Get get) {
  if (plan.runs.empty()) return "";
  std::string first = get(plan.runs.front().config);
  for (const RunSpec& run : plan.runs) {
    if (get(run.config) != first) return "varies by run";
  }
  return first;
}

// The length of a run: "3 epochs", "60 anchor versions" or both.
std::string Budget(const config::RunConfig& config) {
  std::string text;
  if (config.train.epochs > 0) {
    text = FormatNumber(config.train.epochs, 6);
    text += config.train.epochs == 1.0 ? " epoch" : " epochs";
  }
  if (config.train.max_versions > 0) {
    if (!text.empty()) text += " or ";
    text += std::to_string(config.train.max_versions);
    text += " anchor versions";
  }
  return text;
}

std::string SettingsParagraph(const StudyPlan& plan, bool real) {
  using config::RunConfig;
  auto num = [](double v) { return FormatNumber(v, 6); };
  std::vector<std::pair<std::string, std::string>> items = {
      {"workers", Common(plan,
                         [](const RunConfig& c) {
                           return std::to_string(c.train.workers);
                         })},
      {"model", Common(plan, [](const RunConfig& c) { return c.train.model; })},
      {"dataset", Common(plan,
                         [](const RunConfig& c) {
                           return std::string(
                               data::DatasetName(c.train.dataset));
                         })},
      {"partition",
       Common(plan, [](const RunConfig& c) { return c.train.partition; })},
      {"τ (local steps)", Common(plan,
                                 [](const RunConfig& c) {
                                   return std::to_string(c.train.local_steps);
                                 })},
      {"batch size", Common(plan,
                            [](const RunConfig& c) {
                              return std::to_string(c.train.batch_size);
                            })},
      {"lr", Common(plan, [&](const RunConfig& c) { return num(c.train.lr); })},
      {"momentum", Common(plan,
                          [&](const RunConfig& c) {
                            return num(c.train.momentum) +
                                   (c.train.nesterov ? " (Nesterov)" : "");
                          })},
      {"weight decay",
       Common(plan,
              [&](const RunConfig& c) { return num(c.train.weight_decay); })},
      {"budget", Common(plan, Budget)},
      {"seed",
       Common(plan,
              [](const RunConfig& c) { return std::to_string(c.train.seed); })},
      {"link latency", Common(plan,
                              [&](const RunConfig& c) {
                                return num(c.worker.link_latency_seconds) +
                                       " s";
                              })},
      {"slowdown", Common(plan,
                          [](const RunConfig& c) {
                            return c.worker.slowdown.empty()
                                       ? std::string("none")
                                       : c.worker.slowdown;
                          })},
  };
  if (!real) {
    items.push_back({"virtual step time", Common(plan, [&](const RunConfig& c) {
                       return num(c.simulate.step_seconds) + " s";
                     })});
    items.push_back({"evaluations", Common(plan, [](const RunConfig& c) {
                       return std::to_string(c.simulate.eval_points) +
                              " per run on " +
                              (c.server.eval_examples > 0
                                   ? std::to_string(c.server.eval_examples) +
                                         " test examples"
                                   : std::string("the whole test set"));
                     })});
  }
  std::string text;
  for (const auto& [name, value] : items) {
    if (!text.empty()) text += "; ";
    text += name;
    text += " ";
    text += value;
  }
  return text + ".";
}

// "0.01: 0.31, **0.1: 0.26**, ...": each candidate's final training loss
// (the mean over seeds), the chosen one in bold.
std::string TuningCell(const std::vector<SeededRun>& candidates,
                       const SeededRun& best) {
  std::string cell;
  for (const SeededRun& run : candidates) {
    std::string entry = FormatNumber(run.mean.lr, 3);
    entry += ": ";
    entry += FormatNumber(run.mean.summary.train_loss, 4);
    if (!cell.empty()) cell += ", ";
    cell += &run == &best ? "**" + entry + "**" : entry;
  }
  return cell;
}

std::string TuningTable(const StudyPlan& plan,
                        const std::vector<RunOutcome>& runs) {
  const Groups groups = GroupRuns(runs);
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> at_edge;
  for (const std::string& setting : plan.settings) {
    for (const std::string& label : plan.labels) {
      const auto found = groups.find({setting, label});
      if (found == groups.end()) continue;
      const std::vector<SeededRun> candidates = ByStepSize(found->second);
      if (candidates.size() < 2) continue;
      const SeededRun& best = Tuned(candidates);
      if (candidates.size() > 2 &&
          (&best == &candidates.front() || &best == &candidates.back())) {
        std::string where = setting;
        where += " ";
        where += label;
        where += " (" + FormatNumber(best.mean.lr, 3) + ")";
        at_edge.push_back(std::move(where));
      }
      rows.push_back({setting, label, TuningCell(candidates, best)});
    }
  }
  StatusOr<std::string> table = report::RenderMarkdownTable(
      {"setting", "algorithm", "final train loss by lr (chosen in bold)"},
      rows);
  std::string text = table.ok() ? *table : "";
  if (!plan.tuning_setting.empty()) {
    text += "\nThe step sizes were tuned in " + plan.tuning_setting +
            " and used in every other setting.\n";
  }
  if (at_edge.empty()) {
    return text + "\nEvery chosen step size lies inside its grid.\n";
  }
  return text + "\nThe chosen step size sits at the edge of its grid for " +
         JoinAnd(at_edge) + ": a wider grid might do better there.\n";
}

std::string BulletList(const std::vector<std::string>& items) {
  std::string text;
  for (const std::string& item : items) {
    text += "- ";
    text += item;
    text += "\n";
  }
  return text;
}

// A number of each seed of `run`.
template <typename Get>
Stat OverSeeds(const SeededRun& run, Get get) {
  std::vector<double> values;
  values.reserve(run.seeds.size());
  for (const RunOutcome* seed : run.seeds) {
    values.push_back(get(*seed));
  }
  return StatOf(values);
}

// "1.2, 1.4, n/a": the time each seed first reached `target`.
std::string TimesBySeed(const SeededRun& run, double target) {
  std::string text;
  for (const RunOutcome* seed : run.seeds) {
    if (!text.empty()) text += ", ";
    const std::optional<double> time = TimeToTarget(seed->trace, target);
    text += time ? FormatNumber(*time, 3) : "n/a";
  }
  return text;
}

// ResultsColumns::kTraffic's cells of `run`, means ± standard deviations
// over its seeds.
void AddTrafficColumns(const SeededRun& run, std::vector<std::string>* row) {
  using R = RunOutcome;
  const auto kilobytes = [](double bytes) { return bytes / 1e3; };
  row->push_back(FormatStat(
      OverSeeds(run, [](const R& r) { return r.summary.compression_ratio(); }),
      3));
  row->push_back(FormatStat(
      OverSeeds(run, [](const R& r) { return r.paper_compression; }), 3));
  row->push_back(FormatStat(
      OverSeeds(
          run, [&](const R& r) { return kilobytes(UpBytesPerWorkerRound(r)); }),
      4));
  row->push_back(FormatStat(
      OverSeeds(run, [](const R& r) { return r.summary.anchor_changes_mean; }),
      4));
  row->push_back(FormatStat(OverSeeds(run,
                                      [&](const R& r) {
                                        return kilobytes(
                                            SparseDownBytesPerWorkerRound(r));
                                      }),
                            4));
  row->push_back(FormatStat(
      OverSeeds(
          run,
          [&](const R& r) { return kilobytes(DownBytesPerWorkerRound(r)); }),
      4));
}

// The table of results, one row per reported run (a run's seeds give one
// row of means ± standard deviations).
StatusOr<std::string> ResultsTable(const StudyPlan& plan,
                                   const std::vector<SeededRun>& reported,
                                   bool real) {
  const bool seeded = plan.seeds.size() > 1;
  const double first = plan.target_accuracy;
  std::vector<std::vector<std::string>> rows;
  for (const SeededRun& run : reported) {
    std::vector<std::string> row = {
        run.mean.setting, run.mean.label, FormatNumber(run.mean.lr, 3),
        FormatStat(OverSeeds(run, FinalAccuracy), 4),
        FormatStat(
            OverSeeds(run,
                      [](const RunOutcome& r) { return r.summary.train_loss; }),
            4)};
    for (const double target : plan.targets) {
      row.push_back(FormatStat(
          OverSeeds(run,
                    [target](const RunOutcome& r) {
                      return TimeToTarget(r.trace, target).value_or(kNaN);
                    }),
          3));
    }
    if (seeded) row.push_back(TimesBySeed(run, first));
    row.push_back(FormatStat(
        OverSeeds(run,
                  [first](const RunOutcome& r) {
                    const std::optional<int64_t> bytes =
                        BytesUpToTarget(r.trace, first);
                    return bytes ? static_cast<double>(*bytes) / 1e6 : kNaN;
                  }),
        4));
    row.push_back(Megabytes(static_cast<double>(run.mean.summary.bytes_up)));
    if (plan.columns == ResultsColumns::kTraffic) {
      AddTrafficColumns(run, &row);
    } else {
      row.push_back(
          FormatStat(OverSeeds(run,
                               [](const RunOutcome& r) {
                                 return r.summary.sync_wait_seconds_mean;
                               }),
                     3));
      row.push_back(FormatNumber(100.0 * CommunicationShare(run.mean), 3) +
                    " %");
    }
    if (plan.show_bits) {
      row.push_back(FormatStat(OverSeeds(run,
                                         [](const RunOutcome& r) {
                                           return SweepValue(
                                               r, SweepMetric::kMeanBits, 0);
                                         }),
                               4));
    }
    rows.push_back(std::move(row));
  }
  const std::string unit = real ? " (wall s)" : " (virtual s)";
  std::vector<std::string> header = {"setting", "algorithm", "lr",
                                     "final test acc", "final train loss"};
  for (const double target : plan.targets) {
    header.push_back("time to " + FormatNumber(target) + unit);
  }
  if (seeded) header.push_back("time to " + FormatNumber(first) + " by seed");
  header.push_back("MB up to " + FormatNumber(first));
  header.push_back("MB up (total)");
  if (plan.columns == ResultsColumns::kTraffic) {
    header.insert(
        header.end(),
        {"upload ×", "paper ×", "kB up /worker /round", "coords changed /round",
         "kB sparse down /worker /round", "kB sent down /worker /round"});
  } else {
    header.push_back("sync wait per worker (s)");
    header.push_back("time blocked");
  }
  if (plan.show_bits) header.push_back("bits per coordinate");
  return report::RenderMarkdownTable(header, rows);
}

// The title, what is compared, how it was run and with which settings.
std::string Introduction(const StudyPlan& plan, size_t run_count,
                         const ReportOptions& options) {
  std::string md = "# anchorage compare: " + plan.title + "\n\n";
  md += plan.description + "\n\n";
  if (!options.command_line.empty()) {
    md += "Command:\n\n    " + options.command_line + "\n\n";
  }
  md += std::string("Runs: ") +
        (options.real ? "real processes (`anchorage demo`: one server and "
                        "the workers on loopback), times in wall seconds"
                      : "the simulator (`anchorage simulate`'s virtual "
                        "clock), times in virtual seconds") +
        ", one after another; " + std::to_string(run_count) + " run" +
        (run_count == 1 ? "" : "s") + " in all.\n\n";
  md +=
      "Settings common to the runs: " + SettingsParagraph(plan, options.real) +
      "\n\n";
  if (!plan.preset_settings.empty()) {
    md += "The `" + std::string(config::StudyName(plan.study)) +
          "` preset set:\n\n" + BulletList(plan.preset_settings) + "\n";
  }
  if (!plan.user_overrides.empty()) {
    md += "Your flags replaced these preset defaults:\n\n" +
          BulletList(plan.user_overrides) + "\n";
  }
  return md;
}

// One verdict paragraph per setting.
std::string Verdicts(const StudyPlan& plan,
                     const std::vector<const RunOutcome*>& reported) {
  std::string md;
  for (const std::string& setting : plan.settings) {
    std::vector<const RunOutcome*> of_setting;
    for (const RunOutcome* run : reported) {
      if (run->setting == setting) of_setting.push_back(run);
    }
    if (of_setting.empty()) continue;
    const std::string verdict =
        Verdict(of_setting, plan.key, plan.target_accuracy);
    if (plan.settings.size() > 1) {
      md += "**";
      md += setting;
      md += ".** ";
    }
    md += verdict;
    md += "\n\n";
  }
  return md;
}

std::string Figures(const StudyPlan& plan) {
  std::string md;
  if (!plan.trace_settings.empty()) {
    md +=
        "The trace figures (accuracy and loss against time, bytes and "
        "examples) show " +
        JoinAnd(plan.trace_settings) +
        " only, to stay readable; results.csv has every run.\n\n";
  }
  for (const SweepFigure& figure : plan.sweep_figures) {
    md += "![" + figure.title + "](" + figure.file + ")\n\n";
  }
  for (const TraceFigure& figure : plan.trace_figures) {
    md += "![" + figure.title + "](" + figure.file + ")\n\n";
  }
  return md;
}

std::string Notes(const StudyPlan& plan, bool real) {
  std::vector<std::string> notes = plan.notes;
  notes.push_back(
      "Final test accuracy and loss are the final model's on the whole test "
      "set; the time to " +
      FormatNumber(plan.target_accuracy) +
      " is the first evaluation during the run at or above it" +
      (real ? "."
            : " (on the evaluation subset when --eval-examples is set)."));
  notes.push_back(
      real ? "Final train loss is the workers' recent minibatch loss as the "
             "server reports it; per-evaluation examples and bytes are "
             "estimated in proportion to the anchor version."
           : "Final train loss is the final model's mean loss on the whole "
             "training set (the objective); the training loss in "
             "results.csv and the plots is the workers' recent minibatch "
             "loss.");
  if (plan.columns == ResultsColumns::kTraffic) {
    notes.push_back(
        "MB are 10^6 bytes sent by the workers to the server, kB 10^3. "
        "upload × is the measured raw_bytes_up / bytes_up (the pushes as "
        "dense float32 over every byte the workers sent, envelopes and "
        "second rounds included). paper × is Ivkin et al.'s 2d / (r c + P k "
        "+ k), which counts both directions in numbers, not bytes: for "
        "sketch as is, for fetchsgd 2d / (r c + k) (no second round), for "
        "global-topk 2d / (d + k) (v goes up densely), for topk 2d / (k + "
        "u) with u the coordinates changed per round (the union of the "
        "workers' top-k sets), and 1 for dense. Per round means per anchor "
        "version; kB sparse down is 8 bytes (index and value) per changed "
        "coordinate, what a sparse downlink would send each worker, beside "
        "what the service sent: dense float32 anchors, plus the sketch's "
        "queries and the applied indices.");
  } else {
    notes.push_back(
        "Sync wait is the time a worker spent blocked at sync points over "
        "the whole run, averaged over workers. MB are 10^6 bytes sent by "
        "the workers to the server.");
  }
  if (plan.tune_lr) {
    notes.push_back(
        "results.csv holds every candidate run; the table and the figures "
        "show the tuned one.");
  }
  return BulletList(notes);
}

}  // namespace

std::vector<SeededRun> ReportedRuns(const StudyPlan& plan,
                                    const std::vector<RunOutcome>& runs) {
  const Groups groups = GroupRuns(runs);
  std::vector<SeededRun> reported;
  for (const std::string& setting : plan.settings) {
    for (const std::string& label : plan.labels) {
      const auto found = groups.find({setting, label});
      if (found == groups.end()) continue;
      std::vector<SeededRun> candidates = ByStepSize(found->second);
      if (plan.tune_lr) {
        reported.push_back(Tuned(candidates));
      } else {
        reported.insert(reported.end(), candidates.begin(), candidates.end());
      }
    }
  }
  return reported;
}

std::vector<const RunOutcome*> Means(const std::vector<SeededRun>& runs) {
  std::vector<const RunOutcome*> means;
  means.reserve(runs.size());
  for (const SeededRun& run : runs) {
    means.push_back(&run.mean);
  }
  return means;
}

std::string RenderResultsCsv(const std::string& study,
                             const std::vector<RunOutcome>& runs) {
  std::vector<std::vector<std::string>> rows;
  for (const RunOutcome& run : runs) {
    for (const TracePoint& p : run.trace) {
      rows.push_back({study, run.setting, run.label, Exact(run.lr),
                      std::to_string(run.seed), Exact(p.virtual_seconds),
                      std::to_string(p.examples), Exact(p.epoch),
                      Exact(p.train_loss), Exact(p.test_loss),
                      Exact(p.test_accuracy), std::to_string(p.bytes_up),
                      std::to_string(p.bytes_down),
                      Exact(p.sync_wait_seconds_mean)});
    }
  }
  std::vector<std::string> header;
  std::string column;
  for (const char* c = kResultsCsvHeader; *c != '\0'; ++c) {
    if (*c == ',') {
      header.push_back(column);
      column.clear();
    } else {
      column += *c;
    }
  }
  header.push_back(column);
  return report::RenderCsv(header, rows);
}

StatusOr<std::string> RenderSummary(const StudyPlan& plan,
                                    const std::vector<RunOutcome>& runs,
                                    const ReportOptions& options) {
  const std::vector<SeededRun> reported = ReportedRuns(plan, runs);
  StatusOr<std::string> table = ResultsTable(plan, reported, options.real);
  if (!table.ok()) return table.status();
  std::string md = Introduction(plan, runs.size(), options);
  md += "## Results\n\n" + *table + "\n";
  md += "## Verdict\n\n" + Verdicts(plan, Means(reported));
  if (plan.tune_lr) {
    md += "## Step-size tuning\n\n" + TuningTable(plan, runs) + "\n";
  }
  md += "## Figures\n\n" + Figures(plan);
  md += "## Notes\n\n" + Notes(plan, options.real);
  return md;
}

Status WriteReport(const StudyPlan& plan, const std::vector<RunOutcome>& runs,
                   const ReportOptions& options) {
  std::error_code error;
  std::filesystem::create_directories(options.out_dir, error);
  if (error) {
    return Status::Unavailable("cannot create " + options.out_dir + ": " +
                               error.message());
  }
  const std::string dir = options.out_dir + "/";
  Status status = io::WriteFileAtomically(
      dir + "results.csv",
      RenderResultsCsv(std::string(config::StudyName(plan.study)), runs));
  if (!status.ok()) return status;
  StatusOr<std::string> summary = RenderSummary(plan, runs, options);
  if (!summary.ok()) return summary.status();
  status = io::WriteFileAtomically(dir + "summary.md", *summary);
  if (!status.ok()) return status;
  const std::vector<SeededRun> seeded = ReportedRuns(plan, runs);
  const std::vector<const RunOutcome*> reported = Means(seeded);
  const std::vector<const RunOutcome*> traced = TracedRuns(plan, reported);
  for (const TraceFigure& figure : plan.trace_figures) {
    status = io::WriteFileAtomically(
        dir + figure.file,
        RenderTraceFigure(plan, figure, traced, options.real));
    if (!status.ok()) return status;
  }
  for (const SweepFigure& figure : plan.sweep_figures) {
    status = io::WriteFileAtomically(dir + figure.file,
                                     RenderSweepFigure(plan, figure, reported));
    if (!status.ok()) return status;
  }
  return Status::Ok();
}

}  // namespace anchorage::compare
