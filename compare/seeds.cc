#include "compare/seeds.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
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

template <typename Get>
double MeanOf(const std::vector<const RunOutcome*>& runs, Get get) {
  double sum = 0;
  for (const RunOutcome* run : runs) {
    sum += static_cast<double>(get(*run));
  }
  return sum / static_cast<double>(runs.size());
}

template <typename Get>
int64_t RoundedMeanOf(const std::vector<const RunOutcome*>& runs, Get get) {
  return std::llround(MeanOf(runs, get));
}

}  // namespace

SeededRun MeanOverSeeds(std::vector<const RunOutcome*> seeds) {
  ANCHORAGE_CHECK(!seeds.empty(), "the mean of no seeds");
  SeededRun run;
  run.mean = *seeds.front();
  run.seeds = std::move(seeds);
  if (run.seeds.size() == 1) return run;
  const std::vector<const RunOutcome*>& all = run.seeds;
  summary::RunSummary& s = run.mean.summary;
  using R = RunOutcome;
  s.test_accuracy =
      MeanOf(all, [](const R& r) { return r.summary.test_accuracy; });
  s.test_loss = MeanOf(all, [](const R& r) { return r.summary.test_loss; });
  s.train_loss = MeanOf(all, [](const R& r) { return r.summary.train_loss; });
  s.wall_seconds =
      MeanOf(all, [](const R& r) { return r.summary.wall_seconds; });
  s.epochs = MeanOf(all, [](const R& r) { return r.summary.epochs; });
  s.bytes_up =
      RoundedMeanOf(all, [](const R& r) { return r.summary.bytes_up; });
  s.bytes_down =
      RoundedMeanOf(all, [](const R& r) { return r.summary.bytes_down; });
  s.raw_bytes_up =
      RoundedMeanOf(all, [](const R& r) { return r.summary.raw_bytes_up; });
  s.staleness_mean =
      MeanOf(all, [](const R& r) { return r.summary.staleness_mean; });
  s.sync_wait_seconds_mean =
      MeanOf(all, [](const R& r) { return r.summary.sync_wait_seconds_mean; });
  s.compute_seconds_mean =
      MeanOf(all, [](const R& r) { return r.summary.compute_seconds_mean; });
  s.quantization_bits_mean =
      MeanOf(all, [](const R& r) { return r.summary.quantization_bits_mean; });
  size_t points = run.mean.trace.size();
  for (const RunOutcome* seed : all) {
    points = std::min(points, seed->trace.size());
  }
  run.mean.trace.resize(points);
  for (size_t i = 0; i < points; ++i) {
    TracePoint& p = run.mean.trace[i];
    const auto at = [i](const R& r) -> const TracePoint& { return r.trace[i]; };
    p.virtual_seconds =
        MeanOf(all, [&](const R& r) { return at(r).virtual_seconds; });
    p.examples = RoundedMeanOf(all, [&](const R& r) { return at(r).examples; });
    p.epoch = MeanOf(all, [&](const R& r) { return at(r).epoch; });
    p.train_loss = MeanOf(all, [&](const R& r) { return at(r).train_loss; });
    p.test_loss = MeanOf(all, [&](const R& r) { return at(r).test_loss; });
    p.test_accuracy =
        MeanOf(all, [&](const R& r) { return at(r).test_accuracy; });
    p.bytes_up = RoundedMeanOf(all, [&](const R& r) { return at(r).bytes_up; });
    p.bytes_down =
        RoundedMeanOf(all, [&](const R& r) { return at(r).bytes_down; });
    p.sync_wait_seconds_mean =
        MeanOf(all, [&](const R& r) { return at(r).sync_wait_seconds_mean; });
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
