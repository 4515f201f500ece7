// The simulator and the services run the same round: a seeded Local SGD
// run (sync rounds, so the order of events does not matter) gives the same
// anchor, bit for bit, at every version through the simulator and through
// a real server and workers over tcp://127.0.0.1.
#include <chrono>
#include <cstring>
#include <map>
#include <mutex>
#include <span>
#include <vector>

#include <gtest/gtest.h>

#include "simulator/run.h"
#include "tests/testing/service_fixture.h"

namespace anchorage {
namespace {

using Anchors = std::map<uint64_t, std::vector<float>>;

struct Case {
  algo::Algorithm algorithm;
  std::string codec;
};

void PrintTo(const Case& c, std::ostream* os) {
  *os << algo::AlgorithmName(c.algorithm) << "/" << c.codec;
}

class EquivalenceTest : public ::testing::TestWithParam<Case> {};

TEST_P(EquivalenceTest, SimulatorAndServiceProduceTheSameAnchorBits) {
  config::RunConfig config = testing::SmallRunConfig();
  config.train.workers = 3;
  config.train.algorithm = GetParam().algorithm;
  config.train.codec = GetParam().codec;
  config.codec_options.topk_fraction = 0.1;
  config.train.epochs = 0;
  config.train.max_versions = 6;
  config.train.local_steps = 3;
  config.train.momentum = 0.9;

  Anchors simulated;
  StatusOr<simulator::SimulationResult<float>> result = simulator::SimulateRun(
      config, nullptr,
      {.on_anchor = [&](uint64_t version, std::span<const float> anchor) {
        simulated[version].assign(anchor.begin(), anchor.end());
      }});
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  ASSERT_EQ(result->summary.anchor_version, 6U);

  Anchors served;
  std::mutex mutex;
  testing::ServiceFixture fixture(config);
  ASSERT_TRUE(fixture.StartServer());
  fixture.server().set_on_version(
      [&](uint64_t version, std::span<const float> anchor) {
        const std::lock_guard<std::mutex> lock(mutex);
        served[version].assign(anchor.begin(), anchor.end());
      });
  for (int id = 0; id < config.train.workers; ++id) {
    ASSERT_TRUE(fixture.StartWorker(id));
  }
  const std::optional<summary::RunSummary> summary =
      fixture.WaitForServer(std::chrono::seconds(60));
  ASSERT_TRUE(summary.has_value());
  ASSERT_EQ(summary->anchor_version, 6U);
  EXPECT_EQ(summary->pushes_stale, 0);

  const std::lock_guard<std::mutex> lock(mutex);
  for (uint64_t version = 1; version <= 6; ++version) {
    ASSERT_TRUE(simulated.contains(version)) << version;
    ASSERT_TRUE(served.contains(version)) << version;
    const std::vector<float>& a = simulated.at(version);
    const std::vector<float>& b = served.at(version);
    ASSERT_EQ(a.size(), b.size());
    // Bit for bit, not within a tolerance.
    EXPECT_EQ(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)), 0)
        << "anchor v" << version << " differs";
  }
}

// Dense (the model itself, lossless), a lossy codec with error feedback
// and relative pushes, and SlowMo's outer momentum.
INSTANTIATE_TEST_SUITE_P(
    Runs, EquivalenceTest,
    ::testing::Values(Case{algo::Algorithm::kLocalSgd, "dense"},
                      Case{algo::Algorithm::kLocalSgd, "topk"},
                      Case{algo::Algorithm::kSlowMo, "dense"}),
    [](const ::testing::TestParamInfo<Case>& param) {
      return testing::RunName(param.param.algorithm, param.param.codec);
    });

}  // namespace
}  // namespace anchorage
