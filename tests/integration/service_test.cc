// Server and workers as threads over tcp://127.0.0.1: training end to end,
// the Local SGD identity, late joiners and lost workers.
#include <chrono>
#include <future>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "common/algo/algorithm.h"
#include "common/algo/trainer.h"
#include "common/config/train_data.h"
#include "common/data/dataset.h"
#include "common/data/partition.h"
#include "common/transport/socket.h"
#include "tests/testing/registry_values.h"
#include "tests/testing/service_fixture.h"
#include "tests/testing/wait_for.h"

namespace anchorage {
namespace {

using std::chrono::seconds;
using testing::MetricValue;
using testing::ServiceFixture;
using testing::SmallRunConfig;
using testing::WaitFor;

// Runs every worker of `fixture`'s config to the end of the budget and
// checks that the run completed with every worker done and none lost or
// refused; the server's summary, or nullopt (with a failure).
std::optional<summary::RunSummary> RunToCompletion(ServiceFixture& fixture) {
  if (!fixture.StartServer()) return std::nullopt;
  for (int id = 0; id < fixture.config().train.workers; ++id) {
    if (!fixture.StartWorker(id)) return std::nullopt;
  }
  std::optional<summary::RunSummary> summary =
      fixture.WaitForServer(seconds(60));
  if (!summary.has_value()) return std::nullopt;
  EXPECT_GE(summary->epochs, 5.0);
  EXPECT_GT(summary->test_accuracy, 0.75);
  EXPECT_GT(summary->pushes_applied, 0);
  EXPECT_EQ(summary->pushes_rejected, 0);
  EXPECT_TRUE(summary->lost_workers.empty());
  for (const auto& result : fixture.WaitForWorkers(seconds(30))) {
    EXPECT_TRUE(result.has_value() && result->ok() &&
                (*result)->local_steps > 0);
  }
  return summary;
}

TEST(ServiceTest, OverlapLocalSgdTrainsToCompletion) {
  config::RunConfig config = SmallRunConfig();
  config.train.workers = 3;
  ServiceFixture fixture(config);
  const std::optional<summary::RunSummary> summary = RunToCompletion(fixture);
  ASSERT_TRUE(summary.has_value());
  EXPECT_GT(summary->bytes_up, summary->raw_bytes_up);
  // Each contribution is at most as stale as the versions the other
  // workers can add while it is in flight (one round each, plus slack).
  EXPECT_LT(summary->staleness_mean, 3.0 * 2);

  const prometheus::Registry& registry = fixture.server_registry();
  EXPECT_EQ(MetricValue(registry, "anchorage_server_staleness_versions"),
            static_cast<double>(summary->pushes_applied));
  EXPECT_EQ(MetricValue(registry, "anchorage_server_push_delay_seconds"),
            static_cast<double>(summary->pushes_applied));
  EXPECT_EQ(MetricValue(registry, "anchorage_server_pushes_total",
                        {{"outcome", "applied"}}),
            static_cast<double>(summary->pushes_applied));
}

// With α = 1 and blocking workers in sync mode, the service must compute
// exactly Local SGD: every round, each worker takes τ steps from the
// average and the new anchor is the average of the results.
// Lossy codecs carry the pseudo-gradient against the worker's base anchor;
// the server rebuilds the models and training still converges, at a
// fraction of the dense bytes. (At this model's 698 parameters a count
// sketch is no smaller than the vector; the sketches' compression is
// checked in the simulator's codec test and the compare study.)
struct CompressedRun {
  algo::Algorithm algorithm;
  std::string codec;
  double min_compression;
  int quantization_bits;
};

void PrintTo(const CompressedRun& run, std::ostream* os) {
  *os << algo::AlgorithmName(run.algorithm) << "/" << run.codec;
}

class CompressedServiceTest : public ::testing::TestWithParam<CompressedRun> {};

TEST_P(CompressedServiceTest, TrainsAtAFractionOfTheBytes) {
  const CompressedRun& run = GetParam();
  config::RunConfig config = SmallRunConfig();
  config.train.algorithm = run.algorithm;
  config.train.codec = run.codec;
  config.codec_options.topk_fraction = 0.05;
  ServiceFixture fixture(config);
  ASSERT_TRUE(fixture.StartServer());
  for (int id = 0; id < 2; ++id) {
    ASSERT_TRUE(fixture.StartWorker(id));
  }
  const std::optional<summary::RunSummary> summary =
      fixture.WaitForServer(seconds(60));
  ASSERT_TRUE(summary.has_value());
  EXPECT_GT(summary->test_accuracy, 0.7);
  EXPECT_EQ(summary->pushes_rejected, 0);
  EXPECT_GT(static_cast<double>(summary->raw_bytes_up),
            run.min_compression * static_cast<double>(summary->bytes_up));
  for (const auto& result : fixture.WaitForWorkers(seconds(30))) {
    ASSERT_TRUE(result.has_value());
    ASSERT_TRUE(result->ok()) << result->status().ToString();
  }
  const double bits = MetricValue(fixture.worker_registry(0),
                                  "anchorage_worker_quantization_bits");
  if (run.quantization_bits > 0) {
    EXPECT_EQ(bits, run.quantization_bits);
  } else if (run.codec == "dqsgd") {
    EXPECT_GE(bits, 2.0);
    EXPECT_LE(bits, 16.0);
  } else {
    EXPECT_EQ(bits, 0.0);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Codecs, CompressedServiceTest,
    ::testing::Values(
        CompressedRun{algo::Algorithm::kOverlapLocalSgd, "qsgd", 4.0, 4},
        CompressedRun{algo::Algorithm::kLocalSgd, "topk", 4.0, 0},
        CompressedRun{algo::Algorithm::kOverlapLocalSgd, "dqsgd", 3.0, -1},
        CompressedRun{algo::Algorithm::kMinibatchSgd, "fp16", 1.5, 0},
        CompressedRun{algo::Algorithm::kLocalSgd, "sketch", 0.0, 0},
        CompressedRun{algo::Algorithm::kMinibatchSgd, "fetchsgd", 0.0, 0}),
    [](const ::testing::TestParamInfo<CompressedRun>& param) {
      return testing::RunName(param.param.algorithm, param.param.codec);
    });

// Anchors travelling as fp16 or bf16: the bytes down halve, relative
// pushes are rebuilt from the rounded anchors the workers pulled toward
// (none is refused), and the run trains.
TEST(ServiceTest, HalfWidthAnchorsHalveTheBytesDown) {
  for (const std::string anchor_codec : {"fp16", "bf16"}) {
    SCOPED_TRACE(anchor_codec);
    config::RunConfig config = SmallRunConfig();
    config.train.codec = "fp16";
    config.server.anchor_codec = anchor_codec;
    ServiceFixture fixture(config);
    ASSERT_TRUE(fixture.StartServer());
    for (int id = 0; id < 2; ++id) {
      ASSERT_TRUE(fixture.StartWorker(id));
    }
    const std::optional<summary::RunSummary> summary =
        fixture.WaitForServer(seconds(60));
    ASSERT_TRUE(summary.has_value());
    EXPECT_GT(summary->test_accuracy, 0.7);
    EXPECT_EQ(summary->pushes_rejected, 0);
    EXPECT_EQ(summary->rejected_messages, 0);
    // One anchor answers each push, and one each Welcome: 2 bytes a
    // parameter and an envelope of well under 1 KB (dense: 4 bytes).
    const int64_t dim = fixture.server().model_dim();
    const int64_t anchors = summary->pushes_applied + summary->pushes_stale + 4;
    EXPECT_LT(summary->bytes_down, anchors * (2 * dim + 1024));
    EXPECT_LT(2 * dim + 1024, 4 * dim);
    for (const auto& result : fixture.WaitForWorkers(seconds(30))) {
      ASSERT_TRUE(result.has_value());
      ASSERT_TRUE(result->ok()) << result->status().ToString();
    }
  }
}

// Held replies on the real clock: the server wakes for each one's time, so
// a run with a slowed worker, whose rounds never complete with the others',
// still trains to completion, every worker answered.
TEST(ServiceTest, HeldRepliesLeaveOnTimeAndTheRunCompletes) {
  config::RunConfig config = SmallRunConfig();
  config.train.workers = 3;
  config.server.reply_wait = 0.5;
  config.server.staleness_weight = algo::StalenessWeight::kRounds;
  config.worker.slowdown = "0:4";
  ServiceFixture fixture(config);
  EXPECT_TRUE(RunToCompletion(fixture).has_value());
}

TEST(ServiceTest, BlockingLocalSgdMatchesInProcessAveraging) {
  config::RunConfig config = SmallRunConfig();
  config.train.algorithm = algo::Algorithm::kLocalSgd;
  config.train.epochs = 0;
  config.train.max_versions = 5;
  config.train.local_steps = 3;
  config.train.momentum = 0.9;
  ServiceFixture fixture(config);
  ASSERT_TRUE(fixture.StartServer());
  ASSERT_TRUE(fixture.StartWorker(0));
  ASSERT_TRUE(fixture.StartWorker(1));
  const std::optional<summary::RunSummary> summary =
      fixture.WaitForServer(seconds(60));
  ASSERT_TRUE(summary.has_value());
  ASSERT_EQ(summary->anchor_version, 5U);

  const data::TrainTest data = config::LoadTrainingData(config.train).value();
  const data::Partition partition =
      data::MakePartition(config.train.partition, data.train, 2,
                          config.train.seed)
          .value();
  auto init_model = model::MakeModel(config.train.model, data.train.dim(),
                                     data.train.num_classes)
                        .value();
  std::vector<float> average(static_cast<size_t>(init_model->dim()));
  init_model->Initialize(config.train.seed, average);
  const optim::SgdOptions sgd{
      .lr = static_cast<float>(config.train.lr),
      .momentum = static_cast<float>(config.train.momentum)};
  std::vector<algo::Trainer> trainers;
  trainers.reserve(2);
  for (int id = 0; id < 2; ++id) {
    trainers.emplace_back(model::MakeModel(config.train.model, data.train.dim(),
                                           data.train.num_classes)
                              .value(),
                          &data.train, partition[static_cast<size_t>(id)],
                          config.train.batch_size, sgd, average,
                          algo::WorkerSeed(config.train.seed, id));
  }
  for (int round = 0; round < 5; ++round) {
    std::vector<float> sum(average.size(), 0.0F);
    for (algo::Trainer& trainer : trainers) {
      for (int step = 0; step < config.train.local_steps; ++step) {
        trainer.Step();
      }
      for (size_t i = 0; i < sum.size(); ++i) {
        sum[i] += trainer.params()[i];
      }
    }
    for (size_t i = 0; i < sum.size(); ++i) {
      average[i] = sum[i] * 0.5F;
    }
    for (algo::Trainer& trainer : trainers) {
      trainer.Adopt(average);
    }
  }
  const std::span<const float> anchor = fixture.server().anchor();
  ASSERT_EQ(anchor.size(), average.size());
  for (size_t i = 0; i < average.size(); ++i) {
    ASSERT_EQ(anchor[i], average[i]) << "coordinate " << i;
  }
}

TEST(ServiceTest, SyncRoundsWaitForEveryExpectedWorker) {
  config::RunConfig config = SmallRunConfig();
  config.train.algorithm = algo::Algorithm::kLocalSgd;
  config.train.epochs = 0;
  config.train.max_versions = 3;
  ServiceFixture fixture(config);
  ASSERT_TRUE(fixture.StartServer());
  ASSERT_TRUE(fixture.StartWorker(0));
  // Once worker 0's round-0 push is in, it alone must not close round 0.
  ASSERT_TRUE(WaitFor([&] {
    return MetricValue(fixture.server_registry(),
                       "anchorage_server_samples_total") != 0;
  }));
  EXPECT_EQ(
      MetricValue(fixture.server_registry(), "anchorage_server_anchor_version"),
      0.0);
  ASSERT_TRUE(fixture.StartWorker(1));
  const std::optional<summary::RunSummary> summary =
      fixture.WaitForServer(seconds(60));
  ASSERT_TRUE(summary.has_value());
  EXPECT_EQ(summary->anchor_version, 3U);
  EXPECT_EQ(summary->pushes_stale, 0);
}

// With --start-wait, the workers that joined first wait for the last
// one, past their liveness window, and then all begin from the first
// anchor; each Welcome reaches its own worker although all leave on the
// last worker's join.
TEST(ServiceTest, TheStartWaitBeginsEveryWorkerTogether) {
  config::RunConfig config = SmallRunConfig();
  config.train.workers = 3;
  config.server.start_wait_seconds = 15;
  ServiceFixture fixture(config);
  ASSERT_TRUE(fixture.StartServer());
  ASSERT_TRUE(fixture.StartWorker(0));
  ASSERT_TRUE(fixture.StartWorker(1));
  ASSERT_TRUE(WaitFor([&] {
    return MetricValue(fixture.server_registry(),
                       "anchorage_server_workers_connected") >= 2;
  }));
  // Twice the 0.5 s liveness window: nothing trained, nobody lost.
  std::this_thread::sleep_for(std::chrono::seconds(1));
  EXPECT_EQ(
      MetricValue(fixture.server_registry(), "anchorage_server_samples_total"),
      0.0);
  EXPECT_EQ(MetricValue(fixture.server_registry(),
                        "anchorage_server_workers_connected"),
            2.0);

  ASSERT_TRUE(fixture.StartWorker(2));
  const std::optional<summary::RunSummary> summary =
      fixture.WaitForServer(seconds(60));
  ASSERT_TRUE(summary.has_value());
  EXPECT_TRUE(summary->lost_workers.empty());
  const auto results = fixture.WaitForWorkers(seconds(30));
  ASSERT_EQ(results.size(), 3U);
  for (const auto& result : results) {
    ASSERT_TRUE(result.has_value());
    ASSERT_TRUE(result->ok()) << result->status().ToString();
    EXPECT_EQ((*result)->joined_at_version, 0U);
  }
}

TEST(ServiceTest, LateJoinerStartsFromCurrentAnchor) {
  config::RunConfig config = SmallRunConfig();
  config.train.epochs = 10;
  ServiceFixture fixture(config);
  ASSERT_TRUE(fixture.StartServer());
  ASSERT_TRUE(fixture.StartWorker(0));
  ASSERT_TRUE(WaitFor([&] {
    return MetricValue(fixture.server_registry(),
                       "anchorage_server_anchor_version") >= 20;
  }));
  ASSERT_TRUE(fixture.StartWorker(1));
  const std::optional<summary::RunSummary> summary =
      fixture.WaitForServer(seconds(60));
  ASSERT_TRUE(summary.has_value());
  EXPECT_TRUE(summary->lost_workers.empty());
  const auto results = fixture.WaitForWorkers(seconds(30));
  ASSERT_EQ(results.size(), 2U);
  for (const auto& result : results) {
    ASSERT_TRUE(result.has_value());
    ASSERT_TRUE(result->ok()) << result->status().ToString();
  }
  EXPECT_EQ((*results[0])->joined_at_version, 0U);
  EXPECT_GE((*results[1])->joined_at_version, 20U);
}

}  // namespace
}  // namespace anchorage

namespace anchorage {
namespace {

// Returns a loopback endpoint whose port was free a moment ago.
std::string FreeEndpoint() {
  zmq::context_t context(1);
  zmq::socket_t probe =
      transport::BindRouter(context, "tcp://127.0.0.1:*", {}).value();
  return transport::LastEndpoint(probe);
}

TEST(ReconnectTest, WorkerStartedBeforeTheServerJoinsWhenItComesUp) {
  config::RunConfig config = testing::SmallRunConfig();
  config.train.workers = 1;
  config.server.bind = FreeEndpoint();
  config.worker.server = config.server.bind;

  zmq::context_t worker_context(1);
  prometheus::Registry worker_registry;
  std::unique_ptr<worker::Worker> worker =
      worker::Worker::Create(config, &worker_context, &worker_registry).value();
  auto worker_run =
      std::async(std::launch::async, [&] { return worker->Run(); });
  // Let the worker find nobody for a few reconnect periods.
  ASSERT_TRUE(WaitFor([&] {
    return testing::MetricValue(worker_registry,
                                "anchorage_worker_reconnects_total") >= 2;
  }));

  ServiceFixture fixture(config);
  ASSERT_TRUE(fixture.StartServer());
  const std::optional<summary::RunSummary> summary =
      fixture.WaitForServer(seconds(60));
  ASSERT_TRUE(summary.has_value());
  EXPECT_GE(summary->epochs, 5.0);
  ASSERT_EQ(worker_run.wait_for(seconds(30)), std::future_status::ready);
  const StatusOr<worker::WorkerResult> result = worker_run.get();
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_GT(result->local_steps, 0);
}

TEST(ReconnectTest, WorkerGivesUpWhenTheServerNeverComes) {
  config::RunConfig config = testing::SmallRunConfig();
  config.train.workers = 1;
  config.worker.server = FreeEndpoint();
  config.worker.server_timeout_seconds = 0.5;
  zmq::context_t context(1);
  prometheus::Registry registry;
  std::unique_ptr<worker::Worker> worker =
      worker::Worker::Create(config, &context, &registry).value();
  auto run = std::async(std::launch::async, [&] { return worker->Run(); });
  ASSERT_EQ(run.wait_for(seconds(30)), std::future_status::ready);
  const StatusOr<worker::WorkerResult> result = run.get();
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), Status::Code::kUnavailable);
  EXPECT_NE(result.status().message().find("unreachable"), std::string::npos);
}

}  // namespace
}  // namespace anchorage
