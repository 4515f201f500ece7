#include "compare/seeds.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <type_traits>
#include <utility>

#include "common/base/check.h"
#include "common/report/table.h"

namespace anchorage::compare {

Stat StatOf(const std::vector<double>& values) {
  Stat stat;
  stat.of = static_cast<int>(values.size());
  double sum = 0;
  for (const double value : values) {
    if (!std::isfinite(value)) continue;
    sum += value;
    ++stat.count;
  }
  if (stat.count == 0) return stat;
  stat.mean = sum / stat.count;
  if (stat.count > 1) {
    double squares = 0;
    for (const double value : values) {
      if (std::isfinite(value)) {
        squares += (value - stat.mean) * (value - stat.mean);
      }
    }
    stat.std = std::sqrt(squares / (stat.count - 1));
  }
  return stat;
}

std::string FormatStat(const Stat& stat, int digits) {
  if (stat.count == 0) return "n/a";
  std::string text = report::FormatNumber(stat.mean, digits);
  if (stat.count > 1) text += " ± " + report::FormatNumber(stat.std, 2);
  if (stat.count < stat.of) {
    text +=
        " (" + std::to_string(stat.count) + "/" + std::to_string(stat.of) + ")";
  }
  return text;
}

namespace {

// Sets out->*field to the mean over `runs` of of(run).*field, rounded to
// the nearest integer for an integer field (bytes, examples).
template <typename T, typename Field, typename Of>
void Average(const std::vector<const RunOutcome*>& runs, Of of, Field T::*field,
             T* out) {
  double sum = 0;
  for (const RunOutcome* run : runs) {
    sum += static_cast<double>(of(*run).*field);
  }
  const double mean = sum / static_cast<double>(runs.size());
  if constexpr (std::is_integral_v<Field>) {
    out->*field = std::llround(mean);
  } else {
    out->*field = mean;
  }
}

}  // namespace

SeededRun MeanOverSeeds(std::vector<const RunOutcome*> seeds) {
  ANCHORAGE_CHECK(!seeds.empty(), "the mean of no seeds");
  SeededRun run;
  run.mean = *seeds.front();
  run.seeds = std::move(seeds);
  if (run.seeds.size() == 1) return run;
  const std::vector<const RunOutcome*>& all = run.seeds;
  using summary::RunSummary;
  const auto summary_of = [](const RunOutcome& r) -> const RunSummary& {
    return r.summary;
  };
  RunSummary* s = &run.mean.summary;
  Average(all, summary_of, &RunSummary::test_accuracy, s);
  Average(all, summary_of, &RunSummary::test_loss, s);
  Average(all, summary_of, &RunSummary::train_loss, s);
  Average(all, summary_of, &RunSummary::wall_seconds, s);
  Average(all, summary_of, &RunSummary::epochs, s);
  Average(all, summary_of, &RunSummary::bytes_up, s);
  Average(all, summary_of, &RunSummary::bytes_down, s);
  Average(all, summary_of, &RunSummary::raw_bytes_up, s);
  Average(all, summary_of, &RunSummary::staleness_mean, s);
  Average(all, summary_of, &RunSummary::sync_wait_seconds_mean, s);
  Average(all, summary_of, &RunSummary::compute_seconds_mean, s);
  Average(all, summary_of, &RunSummary::quantization_bits_mean, s);
  Average(all, summary_of, &RunSummary::anchor_changes_mean, s);
  Average(
      all, [](const RunOutcome& r) -> const RunOutcome& { return r; },
      &RunOutcome::paper_compression, &run.mean);
  size_t points = run.mean.trace.size();
  for (const RunOutcome* seed : all) {
    points = std::min(points, seed->trace.size());
  }
  run.mean.trace.resize(points);
  for (size_t i = 0; i < points; ++i) {
    TracePoint* p = &run.mean.trace[i];
    const auto at = [i](const RunOutcome& r) -> const TracePoint& {
      return r.trace[i];
    };
    Average(all, at, &TracePoint::virtual_seconds, p);
    Average(all, at, &TracePoint::examples, p);
    Average(all, at, &TracePoint::epoch, p);
    Average(all, at, &TracePoint::train_loss, p);
    Average(all, at, &TracePoint::test_loss, p);
    Average(all, at, &TracePoint::test_accuracy, p);
    Average(all, at, &TracePoint::bytes_up, p);
    Average(all, at, &TracePoint::bytes_down, p);
    Average(all, at, &TracePoint::sync_wait_seconds_mean, p);
  }
  return run;
}

std::vector<SeededRun> ByStepSize(const std::vector<const RunOutcome*>& runs) {
  std::vector<double> order;
  std::map<double, std::vector<const RunOutcome*>> by_lr;
  for (const RunOutcome* run : runs) {
    if (by_lr.find(run->lr) == by_lr.end()) order.push_back(run->lr);
    by_lr[run->lr].push_back(run);
  }
  std::vector<SeededRun> seeded;
  seeded.reserve(order.size());
  for (const double lr : order) {
    seeded.push_back(MeanOverSeeds(by_lr[lr]));
  }
  return seeded;
}

const SeededRun& Tuned(const std::vector<SeededRun>& candidates) {
  std::vector<const RunOutcome*> means;
  means.reserve(candidates.size());
  for (const SeededRun& candidate : candidates) {
    means.push_back(&candidate.mean);
  }
  return candidates[SelectLowestTrainLoss(means)];
}

std::map<std::string, double> TunedLearningRates(
    const std::vector<RunOutcome>& runs) {
  std::map<std::string, std::vector<const RunOutcome*>> by_label;
  for (const RunOutcome& run : runs) {
    by_label[run.label].push_back(&run);
  }
  std::map<std::string, double> picked;
  for (const auto& [label, of_label] : by_label) {
    picked[label] = Tuned(ByStepSize(of_label)).mean.lr;
  }
  return picked;
}

double FinalAccuracy(const RunOutcome& run) {
  if (run.trace.empty()) return run.summary.test_accuracy;
  const size_t count = std::min<size_t>(3, run.trace.size());
  double sum = 0;
  for (size_t i = run.trace.size() - count; i < run.trace.size(); ++i) {
    sum += run.trace[i].test_accuracy;
  }
  return sum / static_cast<double>(count);
}

double CommunicationShare(const RunOutcome& run) {
  if (!(run.summary.wall_seconds > 0)) return 0;
  return run.summary.sync_wait_seconds_mean / run.summary.wall_seconds;
}

}  // namespace anchorage::compare
