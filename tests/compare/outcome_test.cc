// Time and bytes to a target accuracy from a trace, and the pick among
// learning-rate candidates.
#include "compare/outcome.h"

#include <cmath>
#include <limits>
#include <vector>

#include <gtest/gtest.h>

namespace anchorage::compare {
namespace {

// Evaluations at 1, 2, 3, 4 s with 100 bytes sent per second.
std::vector<TracePoint> Trace(const std::vector<double>& accuracies) {
  std::vector<TracePoint> trace;
  for (size_t i = 0; i < accuracies.size(); ++i) {
    TracePoint point;
    point.virtual_seconds = static_cast<double>(i + 1);
    point.bytes_up = 100 * static_cast<int64_t>(i + 1);
    point.test_accuracy = accuracies[i];
    trace.push_back(point);
  }
  return trace;
}

TEST(CompareTargetTest, FirstCrossingGivesItsTimeAndBytes) {
  const std::vector<TracePoint> trace = Trace({0.5, 0.7, 0.85, 0.9});

  EXPECT_EQ(FirstPointAtTarget(trace, 0.8), 2U);
  EXPECT_EQ(TimeToTarget(trace, 0.8), 3.0);
  EXPECT_EQ(BytesUpToTarget(trace, 0.8), 300);
}

TEST(CompareTargetTest, ReachingTheTargetExactlyCounts) {
  const std::vector<TracePoint> trace = Trace({0.5, 0.8, 0.9});

  EXPECT_EQ(TimeToTarget(trace, 0.8), 2.0);
  EXPECT_EQ(BytesUpToTarget(trace, 0.8), 200);
}

TEST(CompareTargetTest, NeverCrossingGivesNothing) {
  const std::vector<TracePoint> trace = Trace({0.5, 0.7, 0.79});

  EXPECT_FALSE(FirstPointAtTarget(trace, 0.8).has_value());
  EXPECT_FALSE(TimeToTarget(trace, 0.8).has_value());
  EXPECT_FALSE(BytesUpToTarget(trace, 0.8).has_value());
  EXPECT_FALSE(TimeToTarget({}, 0.8).has_value());
}

TEST(CompareTargetTest, CrossingAtTheFirstPoint) {
  const std::vector<TracePoint> trace = Trace({0.95, 0.6, 0.97});

  EXPECT_EQ(TimeToTarget(trace, 0.8), 1.0);
  EXPECT_EQ(BytesUpToTarget(trace, 0.8), 100);
}

std::vector<RunOutcome> WithLosses(const std::vector<double>& losses) {
  std::vector<RunOutcome> runs(losses.size());
  for (size_t i = 0; i < losses.size(); ++i) {
    runs[i].lr = 0.01 * static_cast<double>(i + 1);
    runs[i].summary.train_loss = losses[i];
  }
  return runs;
}

std::vector<const RunOutcome*> Pointers(const std::vector<RunOutcome>& runs) {
  std::vector<const RunOutcome*> pointers;
  pointers.reserve(runs.size());
  for (const RunOutcome& run : runs) {
    pointers.push_back(&run);
  }
  return pointers;
}

TEST(CompareTunedLrTest, PicksTheLowestFinalTrainLoss) {
  const std::vector<RunOutcome> runs = WithLosses({0.5, 0.2, 0.3, 0.25});

  EXPECT_EQ(SelectLowestTrainLoss(Pointers(runs)), 1U);
}

TEST(CompareTunedLrTest, DivergedRunsNeverWin) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  const std::vector<RunOutcome> runs = WithLosses({nan, 0.9, inf, 0.4, nan});

  EXPECT_EQ(SelectLowestTrainLoss(Pointers(runs)), 3U);
}

TEST(CompareTunedLrTest, TiesGoToTheEarlierCandidate) {
  const std::vector<RunOutcome> runs = WithLosses({0.7, 0.3, 0.3});

  EXPECT_EQ(SelectLowestTrainLoss(Pointers(runs)), 1U);
}

}  // namespace
}  // namespace anchorage::compare
