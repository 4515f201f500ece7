// The verdict under each setting names the winner first, with the numbers
// that decide it.
#include "compare/verdict.h"

#include <cstdint>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace anchorage::compare {
namespace {

// A run whose accuracy first reaches 0.8 at `seconds_to_target` (never
// when negative), sampled every second up to 10 s.
RunOutcome MakeRun(const std::string& label, double seconds_to_target,
                   double final_accuracy, double sync_wait) {
  RunOutcome run;
  run.label = label;
  run.summary.algorithm = label;
  run.lr = 0.05;
  for (int t = 1; t <= 10; ++t) {
    TracePoint point;
    point.virtual_seconds = t;
    point.bytes_up = int64_t{1000000} * t;
    const bool reached = seconds_to_target > 0 && t >= seconds_to_target;
    point.test_accuracy = reached ? 0.8 : 0.5;
    run.trace.push_back(point);
  }
  run.trace.back().test_accuracy = final_accuracy;
  run.summary.test_accuracy = final_accuracy;
  run.summary.sync_wait_seconds_mean = sync_wait;
  return run;
}

TEST(CompareVerdictTest, TimeVerdictNamesTheFirstToReachTheTarget) {
  const RunOutcome local = MakeRun("local-sgd", 5, 0.86, 2.5);
  const RunOutcome overlap = MakeRun("overlap-local-sgd", 3, 0.85, 0.01);
  const RunOutcome minibatch = MakeRun("minibatch-sgd", -1, 0.7, 2.5);

  const std::string text =
      Verdict({&local, &overlap, &minibatch}, KeyMetric::kTimeToTarget, 0.8);

  EXPECT_EQ(text.rfind("overlap-local-sgd reaches 0.8 first: 3 s", 0), 0U)
      << text;
  EXPECT_NE(text.find("5 s for local-sgd"), std::string::npos) << text;
  EXPECT_NE(text.find("minibatch-sgd never does"), std::string::npos) << text;
  EXPECT_NE(text.find("0.01 s"), std::string::npos) << text;
  EXPECT_NE(text.find("local-sgd leads with 0.86"), std::string::npos) << text;
}

TEST(CompareVerdictTest, TimeVerdictCallsATieATie) {
  const RunOutcome local = MakeRun("local-sgd", 3, 0.86, 2.5);
  const RunOutcome overlap = MakeRun("overlap-local-sgd", 3, 0.85, 0.0);
  const RunOutcome minibatch = MakeRun("minibatch-sgd", 6, 0.8, 2.5);

  const std::string text =
      Verdict({&local, &overlap, &minibatch}, KeyMetric::kTimeToTarget, 0.8);

  EXPECT_EQ(text.rfind("local-sgd and overlap-local-sgd reach 0.8 at the same "
                       "time, 3 s vs 6 s for minibatch-sgd (2×)",
                       0),
            0U)
      << text;
}

TEST(CompareVerdictTest, TimeVerdictWhenNobodyReachesTheTarget) {
  const RunOutcome local = MakeRun("local-sgd", -1, 0.71, 1.0);
  const RunOutcome overlap = MakeRun("overlap-local-sgd", -1, 0.74, 0.0);

  const std::string text =
      Verdict({&local, &overlap}, KeyMetric::kTimeToTarget, 0.8);

  EXPECT_EQ(text.rfind("No run reaches 0.8", 0), 0U) << text;
  EXPECT_NE(text.find("overlap-local-sgd ends closest at 0.74"),
            std::string::npos)
      << text;
}

TEST(CompareVerdictTest, LossVerdictNamesTheLowestTrainingLoss) {
  RunOutcome local = MakeRun("local-sgd", 2, 0.9, 0);
  local.summary.train_loss = 0.3;
  local.lr = 0.1;
  RunOutcome minibatch = MakeRun("minibatch-sgd", 4, 0.88, 0);
  minibatch.summary.train_loss = 0.2;
  minibatch.lr = 1.0;

  const std::string text =
      Verdict({&local, &minibatch}, KeyMetric::kFinalTrainLoss, 0.8);

  EXPECT_EQ(
      text.rfind("minibatch-sgd reaches the lowest training loss, 0.2", 0), 0U)
      << text;
  EXPECT_NE(text.find("0.3 for local-sgd (50% higher)"), std::string::npos)
      << text;
  EXPECT_NE(text.find("step size 1 (local-sgd: 0.1)"), std::string::npos)
      << text;
  EXPECT_NE(text.find("local-sgd is ahead: 0.9"), std::string::npos) << text;
}

TEST(CompareVerdictTest, NoRunsNoVerdict) {
  EXPECT_EQ(Verdict({}, KeyMetric::kTimeToTarget, 0.8), "");
}

}  // namespace
}  // namespace anchorage::compare
