// The simulator's failure model: worker crashes and server crashes that
// resume from the last checkpoint, driving the same round core the server
// runs. A soak of more than 1,000 worker failures and 20 server crashes
// loses nothing but what it counts, and reaches the failure-free run's
// accuracy.
#include <gtest/gtest.h>

#include "common/algo/algorithm.h"
#include "common/config/flags.h"
#include "common/config/run_config.h"
#include "common/data/dataset.h"
#include "simulator/run.h"

namespace anchorage::simulator {
namespace {

using algo::Algorithm;

// 8 workers of softmax regression for 300 epochs: long enough, in virtual
// time, for 0.5 crashes per worker-second to add up to more than 1,000.
config::RunConfig Soak(Algorithm algorithm) {
  config::RunConfig config;
  config.train.algorithm = algorithm;
  config.train.workers = 8;
  config.train.dataset = data::DatasetKind::kSyntheticGaussian;
  config.train.model = "softmax";
  config.train.epochs = 300;
  config::ApplyDependentDefaults({}, &config);
  config.simulate.eval_points = 5;
  return config;
}

config::RunConfig WithFailures(config::RunConfig config) {
  config.simulate.fail_rate = 0.5;
  config.simulate.server_fail_rate = 0.1;
  config.simulate.restart_seconds = 0.5;
  config.server.checkpoint_interval_seconds = 1.0;
  return config;
}

class FailureSoakTest : public ::testing::TestWithParam<Algorithm> {};

TEST_P(FailureSoakTest, LosesOnlyWhatItCountsAndReachesTheSameAccuracy) {
  const StatusOr<SimulationResult<float>> calm =
      SimulateRun(Soak(GetParam()), {});
  const StatusOr<SimulationResult<float>> soak =
      SimulateRun(WithFailures(Soak(GetParam())), {});
  ASSERT_TRUE(calm.ok() && soak.ok());
  ASSERT_TRUE(soak->stopped_early.empty()) << soak->stopped_early;

  const FailureCounts& failures = soak->failures;
  EXPECT_GE(failures.worker_failures, 1000);
  EXPECT_GE(failures.server_crashes, 20);
  EXPECT_EQ(soak->summary.restarts, failures.server_crashes);
  // Every push sent is accounted for: the final round core processed it
  // (applied, stale or refused), or it reached the server while it was
  // down, or a crash rolled it back to the checkpoint, or it was still on
  // the wire at the end.
  const summary::RunSummary& s = soak->summary;
  EXPECT_EQ(failures.pushes_sent,
            s.pushes_applied + s.pushes_stale + s.pushes_rejected +
                failures.pushes_lost_in_flight + failures.pushes_rolled_back +
                failures.pushes_in_flight_at_end);
  EXPECT_GT(failures.pushes_lost_in_flight, 0);
  EXPECT_GT(failures.pushes_rolled_back, 0);
  // The budget counts the examples the server accepted, so the run does
  // its full share of work, and lands where the failure-free run does.
  EXPECT_EQ(s.stop_reason, "reached the budget");
  EXPECT_NEAR(soak->summary.test_accuracy, calm->summary.test_accuracy, 0.01);
}

INSTANTIATE_TEST_SUITE_P(AsyncAndSync, FailureSoakTest,
                         ::testing::Values(Algorithm::kOverlapLocalSgd,
                                           Algorithm::kLocalSgd),
                         [](const auto& test) {
                           return test.param == Algorithm::kLocalSgd
                                      ? std::string("SyncLocalSgd")
                                      : std::string("AsyncOverlap");
                         });

TEST(FailureTest, TheSameSeedGivesTheSameFailuresAndResult) {
  config::RunConfig config = WithFailures(Soak(Algorithm::kOverlapLocalSgd));
  config.train.epochs = 30;
  const auto first = SimulateRun(config, {});
  const auto second = SimulateRun(config, {});
  config.train.seed = 2;
  const auto other = SimulateRun(config, {});
  ASSERT_TRUE(first.ok() && second.ok() && other.ok());

  EXPECT_GT(first->failures.worker_failures, 0);
  EXPECT_EQ(first->failures.worker_failures, second->failures.worker_failures);
  EXPECT_EQ(first->failures.server_crashes, second->failures.server_crashes);
  EXPECT_EQ(first->anchor, second->anchor);
  EXPECT_NE(first->anchor, other->anchor);
}

TEST(FailureTest, WithoutFailuresNothingIsLostOrCounted) {
  const auto calm = SimulateRun(Soak(Algorithm::kLocalSgd), {});
  ASSERT_TRUE(calm.ok());
  const FailureCounts& failures = calm->failures;

  EXPECT_EQ(failures.worker_failures + failures.server_crashes, 0);
  EXPECT_EQ(failures.pushes_lost_in_flight + failures.pushes_rolled_back, 0);
  EXPECT_EQ(failures.pushes_sent, calm->summary.pushes_applied +
                                      calm->summary.pushes_stale +
                                      failures.pushes_in_flight_at_end);
}

}  // namespace
}  // namespace anchorage::simulator
