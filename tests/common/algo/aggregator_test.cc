#include "common/algo/aggregator.h"

#include <cstdint>
#include <random>
#include <vector>

#include <gtest/gtest.h>

namespace anchorage::algo {
namespace {

std::vector<float> RandomVector(size_t dim, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0.0F, 1.0F);
  std::vector<float> v(dim);
  for (float& x : v) {
    x = normal(rng);
  }
  return v;
}

std::vector<float> Mean(const std::vector<std::vector<float>>& vectors) {
  std::vector<double> sum(vectors.front().size(), 0.0);
  for (const auto& v : vectors) {
    for (size_t i = 0; i < v.size(); ++i) {
      sum[i] += v[i];
    }
  }
  std::vector<float> mean(sum.size());
  for (size_t i = 0; i < sum.size(); ++i) {
    mean[i] = static_cast<float>(sum[i] / static_cast<double>(vectors.size()));
  }
  return mean;
}

// Submits a copy of `contribution`, as the server submits a decoded push.
Status SubmitCopy(Aggregator& aggregator, uint32_t id, uint64_t round,
                  std::vector<float> contribution) {
  return aggregator.Submit(id, round, &contribution);
}

void ExpectNear(std::span<const float> a, std::span<const float> b,
                float tolerance) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    ASSERT_NEAR(a[i], b[i], tolerance) << "coordinate " << i;
  }
}

TEST(AggregatorTest, AsyncAnchorIsMeanOfLatestContributions) {
  constexpr size_t kDim = 257;
  const std::vector<float> initial = RandomVector(kDim, 1);
  Aggregator aggregator({.mode = AggregationMode::kAsync}, initial);
  for (uint32_t id = 0; id < 4; ++id) {
    ASSERT_TRUE(aggregator.AddWorker(id).ok());
  }
  // Joining does not move the anchor.
  ExpectNear(aggregator.anchor(), initial, 0.0F);

  std::vector<std::vector<float>> latest(4, initial);
  std::mt19937 order(7);
  for (int arrival = 0; arrival < 200; ++arrival) {
    const uint32_t id = order() % 4;
    latest[id] = RandomVector(kDim, 100 + static_cast<uint64_t>(arrival));
    ASSERT_TRUE(
        SubmitCopy(aggregator, id, static_cast<uint64_t>(arrival), latest[id])
            .ok());
    ExpectNear(aggregator.anchor(), Mean(latest), 1e-5F);
  }
  EXPECT_EQ(aggregator.version(), 200U);
}

TEST(AggregatorTest, AsyncRemovingAWorkerDropsItsContribution) {
  const std::vector<float> initial(8, 0.0F);
  Aggregator aggregator({.mode = AggregationMode::kAsync}, initial);
  ASSERT_TRUE(aggregator.AddWorker(0).ok());
  ASSERT_TRUE(aggregator.AddWorker(1).ok());
  const std::vector<float> a(8, 2.0F);
  const std::vector<float> b(8, 6.0F);
  ASSERT_TRUE(SubmitCopy(aggregator, 0, 0, a).ok());
  ASSERT_TRUE(SubmitCopy(aggregator, 1, 0, b).ok());
  ExpectNear(aggregator.anchor(), std::vector<float>(8, 4.0F), 0.0F);
  ASSERT_TRUE(aggregator.RemoveWorker(1).ok());
  ExpectNear(aggregator.anchor(), a, 0.0F);
  EXPECT_EQ(aggregator.num_workers(), 1);
  EXPECT_EQ(aggregator.RemoveWorker(1).code(), Status::Code::kNotFound);
}

TEST(AggregatorTest, SyncPublishesRoundMeanOnlyAtClose) {
  const std::vector<float> initial(16, 1.0F);
  Aggregator aggregator({.mode = AggregationMode::kSync}, initial);
  for (uint32_t id = 0; id < 3; ++id) {
    ASSERT_TRUE(aggregator.AddWorker(id).ok());
  }
  std::vector<std::vector<float>> round;
  for (uint32_t id = 0; id < 3; ++id) {
    round.push_back(RandomVector(16, id));
    ASSERT_TRUE(SubmitCopy(aggregator, id, 0, round.back()).ok());
    ExpectNear(aggregator.anchor(), initial, 0.0F);
  }
  EXPECT_EQ(aggregator.pending(), 3);
  aggregator.CloseRound();
  ExpectNear(aggregator.anchor(), Mean(round), 1e-6F);
  EXPECT_EQ(aggregator.version(), 1U);
  EXPECT_EQ(aggregator.round(), 1U);
  EXPECT_EQ(aggregator.pending(), 0);
}

TEST(AggregatorTest, SyncRejectsStaleRoundAndDuplicate) {
  Aggregator aggregator({.mode = AggregationMode::kSync},
                        std::vector<float>(4, 0.0F));
  ASSERT_TRUE(aggregator.AddWorker(0).ok());
  ASSERT_TRUE(aggregator.AddWorker(1).ok());
  const std::vector<float> x(4, 1.0F);
  ASSERT_TRUE(SubmitCopy(aggregator, 0, 0, x).ok());
  EXPECT_EQ(SubmitCopy(aggregator, 0, 0, x).code(),
            Status::Code::kFailedPrecondition);
  aggregator.CloseRound();
  EXPECT_EQ(SubmitCopy(aggregator, 1, 0, x).code(),
            Status::Code::kFailedPrecondition);
  EXPECT_EQ(aggregator.pending(), 0);
}

TEST(AggregatorTest, SyncWorkerLeavingMidRoundIsNotAveraged) {
  Aggregator aggregator({.mode = AggregationMode::kSync},
                        std::vector<float>(4, 0.0F));
  ASSERT_TRUE(aggregator.AddWorker(0).ok());
  ASSERT_TRUE(aggregator.AddWorker(1).ok());
  ASSERT_TRUE(SubmitCopy(aggregator, 0, 0, std::vector<float>(4, 3.0F)).ok());
  ASSERT_TRUE(SubmitCopy(aggregator, 1, 0, std::vector<float>(4, 9.0F)).ok());
  ASSERT_TRUE(aggregator.RemoveWorker(1).ok());
  aggregator.CloseRound();
  ExpectNear(aggregator.anchor(), std::vector<float>(4, 3.0F), 0.0F);
}

TEST(AggregatorTest, RejectsWrongDimensionAndUnknownWorkerWithoutChange) {
  const std::vector<float> initial(4, 0.5F);
  Aggregator aggregator({.mode = AggregationMode::kAsync}, initial);
  ASSERT_TRUE(aggregator.AddWorker(0).ok());
  EXPECT_EQ(SubmitCopy(aggregator, 0, 0, std::vector<float>(5, 1.0F)).code(),
            Status::Code::kInvalidArgument);
  EXPECT_EQ(SubmitCopy(aggregator, 9, 0, std::vector<float>(4, 1.0F)).code(),
            Status::Code::kNotFound);
  EXPECT_EQ(aggregator.AddWorker(0).code(), Status::Code::kFailedPrecondition);
  ExpectNear(aggregator.anchor(), initial, 0.0F);
  EXPECT_EQ(aggregator.version(), 0U);
}

TEST(AggregatorTest, AsyncSumDoesNotDriftOverManyArrivals) {
  constexpr size_t kDim = 64;
  Aggregator aggregator({.mode = AggregationMode::kAsync},
                        std::vector<float>(kDim, 0.0F));
  for (uint32_t id = 0; id < 3; ++id) {
    ASSERT_TRUE(aggregator.AddWorker(id).ok());
  }
  std::vector<std::vector<float>> latest(3, std::vector<float>(kDim, 0.0F));
  for (int arrival = 0; arrival < 3000; ++arrival) {
    const auto id = static_cast<uint32_t>(arrival % 3);
    latest[id] = RandomVector(kDim, static_cast<uint64_t>(arrival));
    for (float& x : latest[id]) {
      x *= 1000.0F;
    }
    ASSERT_TRUE(SubmitCopy(aggregator, id, 0, latest[id]).ok());
  }
  // Right after an exact re-sum (every 256 arrivals) the anchor is the
  // mean up to one rounding of the sum.
  ExpectNear(aggregator.anchor(), Mean(latest), 1e-3F);
}

TEST(AggregatorTest, MomentumFollowsHeavyBallRule) {
  // v ← βv + (z − x̄); z ← z − v, applied at each close.
  const double beta = 0.5;
  Aggregator aggregator(
      {.mode = AggregationMode::kSync,
       .outer = {.algorithm = Algorithm::kLocalSgd, .beta = beta}},
      std::vector<float>(1, 0.0F));
  ASSERT_TRUE(aggregator.AddWorker(0).ok());
  double z = 0.0;
  double v = 0.0;
  const float targets[] = {1.0F, 2.0F, 2.5F, 2.0F};
  for (uint64_t round = 0; round < 4; ++round) {
    ASSERT_TRUE(
        SubmitCopy(aggregator, 0, round, std::vector<float>(1, targets[round]))
            .ok());
    aggregator.CloseRound();
    v = beta * v + (z - targets[round]);
    z -= v;
    EXPECT_NEAR(aggregator.anchor()[0], z, 1e-6) << "round " << round;
  }
}

// Overlap-Local-SGD's anchor momentum in async mode (ALGORITHMS.md 1): m
// equal-speed workers arrive round by round, and after each round's last
// arrival the anchor is the official per-round recurrence on that round's
// contributions, computed here in double:
//   u ← β·u + (z − x̄)/γ ;  z ← z − γ·u
// Between those arrivals it follows each one (x̄ plus the last offset).
TEST(AggregatorTest, AsyncMomentumStepsOncePerRoundOfArrivals) {
  constexpr size_t kDim = 5;
  constexpr uint32_t kWorkers = 3;
  const double beta = 0.7;
  const double gamma = 0.1;
  const std::vector<float> initial = RandomVector(kDim, 12345);
  Aggregator aggregator(
      {.mode = AggregationMode::kAsync,
       .outer = {.algorithm = Algorithm::kOverlapLocalSgd, .beta = beta}},
      initial);
  aggregator.set_learning_rate(gamma);
  for (uint32_t id = 0; id < kWorkers; ++id) {
    ASSERT_TRUE(aggregator.AddWorker(id).ok());
  }
  std::vector<double> z(initial.begin(), initial.end());
  std::vector<double> u(kDim, 0.0);
  for (uint64_t round = 0; round < 6; ++round) {
    std::vector<std::vector<float>> contributions;
    for (uint32_t id = 0; id < kWorkers; ++id) {
      contributions.push_back(RandomVector(kDim, 100 * round + id));
      const std::vector<float> before(aggregator.anchor().begin(),
                                      aggregator.anchor().end());
      ASSERT_TRUE(SubmitCopy(aggregator, id, round, contributions.back()).ok());
      if (id + 1 < kWorkers) {
        // Mid-round the anchor moves with the target, by the change of the
        // mean: (new − old contribution) / m.
        EXPECT_NE(std::vector<float>(aggregator.anchor().begin(),
                                     aggregator.anchor().end()),
                  before);
      }
    }
    const std::vector<float> mean = Mean(contributions);
    for (size_t i = 0; i < kDim; ++i) {
      u[i] = beta * u[i] + (z[i] - mean[i]) / gamma;
      z[i] -= gamma * u[i];
    }
    const std::vector<float> expected(z.begin(), z.end());
    ExpectNear(aggregator.anchor(), expected, 2e-5F);
  }
  // The state, mid-round, saves and loads to the same next anchor.
  ASSERT_TRUE(SubmitCopy(aggregator, 0, 6, RandomVector(kDim, 9)).ok());
  ByteWriter out;
  aggregator.Save(&out);
  Aggregator restored(
      {.mode = AggregationMode::kAsync,
       .outer = {.algorithm = Algorithm::kOverlapLocalSgd, .beta = beta}},
      initial);
  ByteReader in(out.bytes());
  ASSERT_TRUE(restored.Load(&in).ok());
  for (Aggregator* a : {&aggregator, &restored}) {
    a->set_learning_rate(gamma);
    for (uint32_t id = 1; id < kWorkers; ++id) {
      ASSERT_TRUE(SubmitCopy(*a, id, 6, RandomVector(kDim, 10 + id)).ok());
    }
  }
  EXPECT_EQ(
      std::vector<float>(restored.anchor().begin(), restored.anchor().end()),
      std::vector<float>(aggregator.anchor().begin(),
                         aggregator.anchor().end()));
}

// A round of five contributions, one of them far off, through each rule.
float CombinedFirstCoordinate(const std::string& rule) {
  AggregatorOptions options;
  options.mode = AggregationMode::kSync;
  options.outer.algorithm = Algorithm::kLocalSgd;
  EXPECT_TRUE(ParseCombineRule(rule, &options).ok()) << rule;
  Aggregator aggregator(options, std::vector<float>(3, 0.0F));
  const std::vector<float> values = {1, 2, 3, 4, 1000};
  for (uint32_t id = 0; id < values.size(); ++id) {
    EXPECT_TRUE(aggregator.AddWorker(id).ok());
    std::vector<float> contribution(3, values[id]);
    EXPECT_TRUE(aggregator.Submit(id, 0, &contribution).ok());
  }
  EXPECT_TRUE(aggregator.CloseRound());
  EXPECT_EQ(aggregator.anchor()[0], aggregator.anchor()[2]);
  return aggregator.anchor()[0];
}

TEST(CombineRuleTest, RobustRulesIgnoreAnOutlier) {
  EXPECT_FLOAT_EQ(CombinedFirstCoordinate("mean"), 202.0F);
  EXPECT_FLOAT_EQ(CombinedFirstCoordinate("median"), 3.0F);
  EXPECT_FLOAT_EQ(CombinedFirstCoordinate("trimmed-mean:0.2"), 3.0F);
  // 0.1 of five cuts nothing: the mean again.
  EXPECT_FLOAT_EQ(CombinedFirstCoordinate("trimmed-mean:0.1"), 202.0F);
}

TEST(CombineRuleTest, TheMedianOfAnEvenCountIsTheMiddlePair) {
  AggregatorOptions options;
  options.mode = AggregationMode::kSync;
  options.outer.algorithm = Algorithm::kLocalSgd;
  options.combine = CombineRule::kMedian;
  Aggregator aggregator(options, std::vector<float>(300, 0.0F));
  for (uint32_t id = 0; id < 4; ++id) {
    ASSERT_TRUE(aggregator.AddWorker(id).ok());
    std::vector<float> contribution(300, static_cast<float>(id * id));
    ASSERT_TRUE(aggregator.Submit(id, 0, &contribution).ok());
  }
  ASSERT_TRUE(aggregator.CloseRound());
  for (const float value : aggregator.anchor()) {
    EXPECT_FLOAT_EQ(value, 2.5F);
  }
}

TEST(CombineRuleTest, BadRulesAreRefusedByName) {
  AggregatorOptions options;
  for (const std::string bad : {"avg", "trimmed-mean", "trimmed-mean:0.5",
                                "trimmed-mean:-1", "trimmed-mean:x"}) {
    const Status status = ParseCombineRule(bad, &options);
    EXPECT_FALSE(status.ok()) << bad;
    EXPECT_NE(status.message().find(bad), std::string::npos);
  }
}

}  // namespace
}  // namespace anchorage::algo
