// A sharded anchor service (`server --shard I --shards S`, workers'
// `--servers`): each shard holds a contiguous slice of the model, and the
// slices together run the unsharded round. Sync Local SGD gives the
// unsharded anchor bit for bit at every version for S = 1, 2 and 4;
// Overlap-Local-SGD reaches the unsharded accuracy; a worker that names
// the shards in the wrong order is refused by name; and with CURVE each
// shard has its own key pair.
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <future>
#include <map>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/algo/model_slice.h"
#include "common/config/flags.h"
#include "common/transport/curve.h"
#include "server/evaluator.h"
#include "simulator/run.h"
#include "tests/testing/service_fixture.h"
#include "tests/testing/temp_files.h"

namespace anchorage {
namespace {

using std::chrono::seconds;
using Anchors = std::map<uint64_t, std::vector<float>>;

struct Case {
  int shards;
  std::string codec;
};

void PrintTo(const Case& c, std::ostream* os) {
  *os << c.shards << " shards, " << c.codec;
}

class ShardedBitsTest : public ::testing::TestWithParam<Case> {};

TEST_P(ShardedBitsTest, SyncLocalSgdGivesTheUnshardedAnchorBits) {
  config::RunConfig config = testing::SmallRunConfig();
  config.train.workers = 3;
  config.train.algorithm = algo::Algorithm::kLocalSgd;
  config.train.codec = GetParam().codec;
  config.train.epochs = 0;
  config.train.max_versions = 6;
  config.train.local_steps = 3;
  config.train.momentum = 0.9;

  // The unsharded round, as the simulator runs it (equivalence_test.cc:
  // the same bits as the unsharded service).
  Anchors unsharded;
  StatusOr<simulator::SimulationResult<float>> result = simulator::SimulateRun(
      config, nullptr,
      {.on_anchor = [&](uint64_t version, std::span<const float> anchor) {
        unsharded[version].assign(anchor.begin(), anchor.end());
      }});
  ASSERT_TRUE(result.ok()) << result.status().ToString();

  const int shards = GetParam().shards;
  config.server.shards = shards;
  std::mutex mutex;
  std::vector<Anchors> sliced(static_cast<size_t>(shards));
  testing::ServiceFixture fixture(config);
  ASSERT_TRUE(fixture.StartServer());
  for (int s = 0; s < shards; ++s) {
    fixture.server(s).set_on_version(
        [&, s](uint64_t version, std::span<const float> anchor) {
          const std::lock_guard<std::mutex> lock(mutex);
          sliced[s][version].assign(anchor.begin(), anchor.end());
        });
  }
  for (int id = 0; id < config.train.workers; ++id) {
    ASSERT_TRUE(fixture.StartWorker(id));
  }
  const std::optional<std::vector<summary::RunSummary>> summaries =
      fixture.WaitForShards(seconds(60));
  ASSERT_TRUE(summaries.has_value());
  for (const summary::RunSummary& summary : *summaries) {
    EXPECT_EQ(summary.anchor_version, 6U);
    EXPECT_EQ(summary.pushes_stale, 0);
    EXPECT_EQ(summary.rejected_messages, 0);
  }
  for (const auto& result : fixture.WaitForWorkers(seconds(30))) {
    ASSERT_TRUE(result.has_value() && result->ok());
  }

  const std::lock_guard<std::mutex> lock(mutex);
  for (uint64_t version = 1; version <= 6; ++version) {
    ASSERT_TRUE(unsharded.contains(version)) << version;
    std::vector<float> whole;
    for (const Anchors& slice : sliced) {
      ASSERT_TRUE(slice.contains(version)) << version;
      whole.insert(whole.end(), slice.at(version).begin(),
                   slice.at(version).end());
    }
    const std::vector<float>& expected = unsharded.at(version);
    ASSERT_EQ(whole.size(), expected.size());
    EXPECT_EQ(std::memcmp(whole.data(), expected.data(),
                          whole.size() * sizeof(float)),
              0)
        << "anchor v" << version << " differs";
  }
}

// Lossless and a lossy elementwise codec; top-k and the sketches choose
// per slice, so their bits are not the unsharded run's (model_slice.h).
INSTANTIATE_TEST_SUITE_P(Shards, ShardedBitsTest,
                         ::testing::Values(Case{1, "dense"}, Case{2, "dense"},
                                           Case{4, "dense"}, Case{2, "fp16"},
                                           Case{4, "fp16"}),
                         [](const ::testing::TestParamInfo<Case>& param) {
                           return std::to_string(param.param.shards) + "_" +
                                  param.param.codec;
                         });

// Every algorithm and codec runs sharded: the sketches' second round per
// shard, the outer rules per slice, each slice's codec state its own.
struct Run {
  algo::Algorithm algorithm;
  std::string codec;
};

void PrintTo(const Run& run, std::ostream* os) {
  *os << algo::AlgorithmName(run.algorithm) << "/" << run.codec;
}

class ShardedCodecTest : public ::testing::TestWithParam<Run> {};

TEST_P(ShardedCodecTest, EveryShardCompletesTheRunWithoutARefusal) {
  config::RunConfig config = testing::SmallRunConfig();
  config.train.workers = 3;
  config.train.algorithm = GetParam().algorithm;
  config.train.codec = GetParam().codec;
  // Long enough for every worker to join before an async run ends.
  config.train.epochs = 2;
  config.codec_options.topk_fraction = 0.1;
  config::ApplyDependentDefaults({}, &config);
  config.server.shards = 2;
  testing::ServiceFixture fixture(config);
  ASSERT_TRUE(fixture.StartServer());
  for (int id = 0; id < config.train.workers; ++id) {
    ASSERT_TRUE(fixture.StartWorker(id));
  }
  const std::optional<std::vector<summary::RunSummary>> summaries =
      fixture.WaitForShards(seconds(60));
  ASSERT_TRUE(summaries.has_value());
  for (const summary::RunSummary& summary : *summaries) {
    EXPECT_NE(summary.stop_reason.find("epochs"), std::string::npos)
        << summary.stop_reason;
    EXPECT_GE(summary.anchor_version, 5U);
    EXPECT_EQ(summary.rejected_messages, 0);
  }
  for (const auto& result : fixture.WaitForWorkers(seconds(30))) {
    ASSERT_TRUE(result.has_value());
    EXPECT_TRUE(result->ok()) << result->status().ToString();
  }
}

INSTANTIATE_TEST_SUITE_P(
    Runs, ShardedCodecTest,
    ::testing::Values(Run{algo::Algorithm::kMinibatchSgd, "dense"},
                      Run{algo::Algorithm::kSlowMo, "dense"},
                      Run{algo::Algorithm::kDiLoCo, "bf16"},
                      Run{algo::Algorithm::kOverlapLocalSgd, "qsgd"},
                      Run{algo::Algorithm::kOverlapLocalSgd, "topk"},
                      Run{algo::Algorithm::kLocalSgd, "dqsgd"},
                      Run{algo::Algorithm::kLocalSgd, "sketch"},
                      Run{algo::Algorithm::kLocalSgd, "fetchsgd"},
                      Run{algo::Algorithm::kLocalSgd, "global-topk"}),
    [](const ::testing::TestParamInfo<Run>& param) {
      return testing::RunName(param.param.algorithm, param.param.codec);
    });

// The final anchor of every shard, assembled and evaluated on the test set.
double AssembledAccuracy(testing::ServiceFixture& fixture,
                         const config::RunConfig& config) {
  std::vector<float> whole;
  for (int s = 0; s < config.server.shards; ++s) {
    const std::span<const float> slice = fixture.server(s).anchor();
    whole.insert(whole.end(), slice.begin(), slice.end());
  }
  // InvalidArgument unless the slices make the whole model.
  const StatusOr<model::Evaluation> evaluation =
      server::EvaluateAnchor(config, whole);
  EXPECT_TRUE(evaluation.ok()) << evaluation.status().ToString();
  return evaluation.ok() ? evaluation->accuracy : 0.0;
}

std::optional<double> FinalAccuracy(const config::RunConfig& config) {
  testing::ServiceFixture fixture(config);
  if (!fixture.StartServer()) return std::nullopt;
  for (int id = 0; id < config.train.workers; ++id) {
    if (!fixture.StartWorker(id)) return std::nullopt;
  }
  const std::optional<std::vector<summary::RunSummary>> summaries =
      fixture.WaitForShards(seconds(120));
  if (!summaries) return std::nullopt;
  for (const summary::RunSummary& summary : *summaries) {
    EXPECT_NE(summary.stop_reason.find("epochs"), std::string::npos);
    EXPECT_EQ(summary.pushes_rejected, 0);
    // A shard cannot evaluate its slice, and says so.
    EXPECT_EQ(std::isnan(summary.test_accuracy), config.server.shards > 1);
  }
  for (const auto& result : fixture.WaitForWorkers(seconds(30))) {
    EXPECT_TRUE(result.has_value() && result->ok());
  }
  return AssembledAccuracy(fixture, config);
}

TEST(ShardedRunTest, OverlapLocalSgdReachesTheUnshardedAccuracy) {
  config::RunConfig config = testing::SmallRunConfig();
  config.train.workers = 3;
  config.train.algorithm = algo::Algorithm::kOverlapLocalSgd;
  config.train.epochs = 4;
  const std::optional<double> unsharded = FinalAccuracy(config);
  config.server.shards = 3;
  const std::optional<double> sharded = FinalAccuracy(config);
  ASSERT_TRUE(unsharded.has_value() && sharded.has_value());
  EXPECT_GT(*unsharded, 0.6);
  EXPECT_NEAR(*sharded, *unsharded, 0.03);
}

// Runs worker `id` of `config` against `servers` to its end.
Status RunWorker(config::RunConfig config, int id,
                 std::vector<std::string> servers) {
  config.worker.worker_id = id;
  config.worker.servers = std::move(servers);
  zmq::context_t context(1);
  prometheus::Registry registry;
  StatusOr<std::unique_ptr<worker::Worker>> worker =
      worker::Worker::Create(config, &context, &registry);
  if (!worker.ok()) return worker.status();
  StatusOr<worker::WorkerResult> result = (*worker)->Run();
  return result.ok() ? Status::Ok() : result.status();
}

TEST(ShardedRunTest, AWorkerNamingTheShardsOutOfOrderIsRefusedByName) {
  config::RunConfig config = testing::SmallRunConfig();
  config.server.shards = 2;
  config.worker.server_timeout_seconds = 10;
  testing::ServiceFixture fixture(config);
  ASSERT_TRUE(fixture.StartServer());
  std::future<Status> worker = std::async(std::launch::async, [&] {
    return RunWorker(
        config, 0,
        {fixture.server(1).endpoint(), fixture.server(0).endpoint()});
  });
  ASSERT_EQ(worker.wait_for(seconds(30)), std::future_status::ready);
  const Status status = worker.get();
  ASSERT_FALSE(status.ok());
  // Whichever shard refuses it first names both shards.
  const bool first =
      status.message().find("shard 0 of 2, but this server is shard 1 of 2") !=
      std::string::npos;
  const bool second =
      status.message().find("shard 1 of 2, but this server is shard 0 of 2") !=
      std::string::npos;
  EXPECT_TRUE(first || second) << status.message();
  EXPECT_NE(status.message().find("check the order of --servers"),
            std::string::npos);
}

class ShardedCurveTest : public ::testing::Test {
 protected:
  // Two shards, each with its own key pair, both admitting the workers'
  // keys (of dir 0).
  void SetUp() override {
    for (int s = 0; s < 2; ++s) {
      dirs_.push_back(
          testing::FreshTestDir("sharded_curve_" + std::to_string(s)));
      ASSERT_TRUE(transport::WriteCurveKeys(dirs_.back(), 2).ok());
    }
    for (int id = 0; id < 2; ++id) {
      const std::string name = "/worker-" + std::to_string(id) + ".pub";
      std::filesystem::copy_file(
          dirs_[0] + name, dirs_[1] + name,
          std::filesystem::copy_options::overwrite_existing);
    }
    config_ = testing::SmallRunConfig();
    config_.train.epochs = 2;
    config_.server.shards = 2;
    fixture_ = std::make_unique<testing::ServiceFixture>(config_);
    fixture_->set_shard_config([this](int shard, config::RunConfig* config) {
      config->security.curve_secret_key = dirs_[shard] + "/server.secret";
      config->security.curve_allowed_keys = dirs_[shard];
    });
    ASSERT_TRUE(fixture_->StartServer());
    config_.security.curve_secret_key = dirs_[0] + "/worker-0.secret";
  }

  std::vector<std::string> Endpoints() {
    return {fixture_->server(0).endpoint(), fixture_->server(1).endpoint()};
  }

  std::vector<std::string> dirs_;
  config::RunConfig config_;
  std::unique_ptr<testing::ServiceFixture> fixture_;
};

TEST_F(ShardedCurveTest, AWorkerTrainsWithEveryShardsKey) {
  std::vector<std::future<Status>> workers;
  for (int id = 0; id < 2; ++id) {
    config::RunConfig config = config_;
    config.security.curve_secret_key =
        dirs_[0] + "/worker-" + std::to_string(id) + ".secret";
    config.security.curve_server_key =
        dirs_[0] + "/server.pub," + dirs_[1] + "/server.pub";
    workers.push_back(std::async(std::launch::async, [this, config, id] {
      return RunWorker(config, id, Endpoints());
    }));
  }
  const std::optional<std::vector<summary::RunSummary>> summaries =
      fixture_->WaitForShards(seconds(120));
  ASSERT_TRUE(summaries.has_value());
  for (const summary::RunSummary& summary : *summaries) {
    EXPECT_NE(summary.stop_reason.find("epochs"), std::string::npos);
  }
  for (auto& worker : workers) {
    ASSERT_EQ(worker.wait_for(seconds(30)), std::future_status::ready);
    const Status status = worker.get();
    EXPECT_TRUE(status.ok()) << status.ToString();
  }
}

TEST_F(ShardedCurveTest, AWorkerWithOneShardsKeyForBothNeverJoinsTheOther) {
  config::RunConfig config = config_;
  config.worker.server_timeout_seconds = 2;
  config.security.curve_server_key = dirs_[0] + "/server.pub";
  std::future<Status> worker = std::async(
      std::launch::async, [&] { return RunWorker(config, 0, Endpoints()); });
  ASSERT_EQ(worker.wait_for(seconds(30)), std::future_status::ready);
  const Status status = worker.get();
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("unreachable"), std::string::npos)
      << status.message();
}

TEST(ShardedConfigTest, AServerRefusesMoreShardsThanParameters) {
  config::RunConfig config = testing::SmallRunConfig();
  config.train.model = "softmax";
  config.server.shards = 1000;
  config.server.shard = 999;
  zmq::context_t context(1);
  prometheus::Registry registry;
  StatusOr<std::unique_ptr<server::Server>> server =
      server::Server::Create(config, &context, &registry);
  ASSERT_FALSE(server.ok());
  EXPECT_NE(server.status().message().find("exceeds the model's"),
            std::string::npos)
      << server.status().message();
}

}  // namespace
}  // namespace anchorage
