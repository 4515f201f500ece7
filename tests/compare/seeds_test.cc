// Several seeds of one configuration: their spread and their mean.
#include "compare/seeds.h"

#include <cmath>
#include <limits>
#include <vector>

#include <gtest/gtest.h>

namespace anchorage::compare {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

TEST(CompareSeedsTest, StatIsTheMeanAndSampleDeviationOfFiniteValues) {
  const Stat stat = StatOf({1.0, 2.0, 3.0, kNaN});
  EXPECT_DOUBLE_EQ(stat.mean, 2.0);
  EXPECT_DOUBLE_EQ(stat.std, 1.0);
  EXPECT_EQ(stat.count, 3);
  EXPECT_EQ(stat.of, 4);
  EXPECT_EQ(FormatStat(stat, 3), "2 ± 1 (3/4)");
  EXPECT_EQ(FormatStat(StatOf({0.8541}), 4), "0.8541");
  EXPECT_EQ(FormatStat(StatOf({kNaN, kNaN}), 4), "n/a");
}

RunOutcome MakeRun(double lr, double accuracy, double train_loss,
                   std::vector<double> times) {
  RunOutcome run;
  run.lr = lr;
  run.summary.test_accuracy = accuracy;
  run.summary.train_loss = train_loss;
  run.summary.wall_seconds = 10;
  run.summary.sync_wait_seconds_mean = 2;
  for (size_t i = 0; i < times.size(); ++i) {
    TracePoint point;
    point.virtual_seconds = times[i];
    point.test_accuracy = accuracy * static_cast<double>(i + 1) /
                          static_cast<double>(times.size());
    run.trace.push_back(point);
  }
  return run;
}

TEST(CompareSeedsTest, TheMeanAveragesSummariesAndTracesPointByPoint) {
  const RunOutcome a = MakeRun(0.1, 0.8, 0.4, {0, 1, 2});
  const RunOutcome b = MakeRun(0.1, 0.9, 0.2, {0, 3});
  const SeededRun seeded = MeanOverSeeds({&a, &b});
  EXPECT_DOUBLE_EQ(seeded.mean.summary.test_accuracy, 0.85);
  EXPECT_DOUBLE_EQ(seeded.mean.summary.train_loss, 0.3);
  // The shorter trace bounds the mean's.
  ASSERT_EQ(seeded.mean.trace.size(), 2U);
  EXPECT_DOUBLE_EQ(seeded.mean.trace[1].virtual_seconds, 2.0);
  EXPECT_DOUBLE_EQ(seeded.mean.trace[1].test_accuracy, (0.8 * 2 / 3 + 0.9) / 2);
  EXPECT_DOUBLE_EQ(CommunicationShare(seeded.mean), 0.2);
}

TEST(CompareSeedsTest, TuningPicksTheStepSizeWhoseSeedsDoBestOnAverage) {
  // lr 0.1 has the best single seed, lr 0.03 the best mean.
  const std::vector<RunOutcome> runs = {
      MakeRun(0.1, 0.8, 0.10, {0}), MakeRun(0.1, 0.8, 0.90, {0}),
      MakeRun(0.03, 0.8, 0.30, {0}), MakeRun(0.03, 0.8, 0.32, {0})};
  std::vector<const RunOutcome*> pointers;
  pointers.reserve(runs.size());
  for (const RunOutcome& run : runs) {
    pointers.push_back(&run);
  }
  const std::vector<SeededRun> by_lr = ByStepSize(pointers);
  ASSERT_EQ(by_lr.size(), 2U);
  EXPECT_EQ(by_lr[0].seeds.size(), 2U);
  EXPECT_DOUBLE_EQ(Tuned(by_lr).mean.lr, 0.03);
  std::vector<RunOutcome> labelled = runs;
  for (RunOutcome& run : labelled) {
    run.label = "local-sgd";
  }
  EXPECT_DOUBLE_EQ(TunedLearningRates(labelled).at("local-sgd"), 0.03);
}

TEST(CompareSeedsTest, FinalAccuracyIsTheMeanOfTheLastThreeEvaluations) {
  const RunOutcome run = MakeRun(0.1, 0.8, 0.1, {0, 1, 2, 3});
  // Accuracies 0.2, 0.4, 0.6, 0.8.
  EXPECT_NEAR(FinalAccuracy(run), 0.6, 1e-12);
  EXPECT_NEAR(FinalAccuracy(MakeRun(0.1, 0.8, 0.1, {0})), 0.8, 1e-12);
}

}  // namespace
}  // namespace anchorage::compare
