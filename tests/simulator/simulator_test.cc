// The simulator as `anchorage simulate` runs it: reproducible to the byte,
// and its delay model behaves as the algorithms' papers say.
#include <fstream>
#include <map>
#include <set>
#include <span>
#include <sstream>
#include <string>
#include <utility>

#include <gtest/gtest.h>

#include "common/algo/algorithm.h"
#include "common/base/enum_names.h"
#include "common/config/flags.h"
#include "common/data/dataset.h"
#include "common/io/npy.h"
#include "common/summary/run_summary.h"
#include "simulator/run.h"

namespace anchorage::simulator {
namespace {

using algo::Algorithm;

config::RunConfig Small(Algorithm algorithm) {
  config::RunConfig config;
  config.train.algorithm = algorithm;
  config.train.workers = 4;
  config.train.dataset = data::DatasetKind::kSyntheticGaussian;
  config.train.model = "mlp:16";
  config.train.local_steps = 4;
  config.train.epochs = 2;
  config.train.alpha = algorithm == Algorithm::kOverlapLocalSgd ? 0.6 : 1.0;
  config.simulate.eval_points = 4;
  config.simulate.step_seconds = 0.01;
  return config;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(SimulateRunTest, SameSeedGivesByteIdenticalTraceAndModel) {
  config::RunConfig config = Small(Algorithm::kOverlapLocalSgd);
  config.worker.link_latency_seconds = 0.03;
  config.simulate.step_jitter = 0.3;
  const std::string dir = ::testing::TempDir();
  for (int run = 0; run < 2; ++run) {
    StatusOr<SimulationResult<float>> result = SimulateRun(config, {});
    ASSERT_TRUE(result.ok()) << result.status().ToString();
    const std::string trace_path =
        dir + (run == 0 ? "/trace0.csv" : "/trace1.csv");
    const std::string model_path =
        dir + (run == 0 ? "/model0.npy" : "/model1.npy");
    ASSERT_TRUE(WriteTraceCsv(trace_path, result->trace).ok());
    ASSERT_TRUE(io::WriteNpy(model_path, result->anchor).ok());
  }
  const std::string trace = ReadFile(dir + "/trace0.csv");
  EXPECT_EQ(trace, ReadFile(dir + "/trace1.csv"));
  EXPECT_EQ(ReadFile(dir + "/model0.npy"), ReadFile(dir + "/model1.npy"));
  EXPECT_GT(std::count(trace.begin(), trace.end(), '\n'), 4);

  config.train.seed = 2;
  StatusOr<SimulationResult<float>> other = SimulateRun(config, {});
  ASSERT_TRUE(other.ok());
  ASSERT_TRUE(WriteTraceCsv(dir + "/trace2.csv", other->trace).ok());
  EXPECT_NE(trace, ReadFile(dir + "/trace2.csv"));
}

// Simulated workers all join at time 0, so a start wait welcomes them all
// with the last join, and the run is the one without it, to the bit.
TEST(SimulateRunTest, AStartWaitWelcomesEveryWorkerAtTheStart) {
  config::RunConfig config = Small(Algorithm::kOverlapLocalSgd);
  StatusOr<SimulationResult<float>> plain = SimulateRun(config, {});
  config.server.start_wait_seconds = 5;
  StatusOr<SimulationResult<float>> waited = SimulateRun(config, {});

  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  ASSERT_TRUE(waited.ok()) << waited.status().ToString();
  EXPECT_EQ(waited->anchor, plain->anchor);
  EXPECT_EQ(waited->summary.samples, plain->summary.samples);
  EXPECT_GT(waited->summary.samples, 0);
}

TEST(SimulateRunTest, OverlapHidesLatencyThatStallsLocalSgd) {
  // τ steps take 4 × 0.01 s; a 0.015 s one-way latency (0.03 s round trip)
  // fits inside them.
  config::RunConfig overlap = Small(Algorithm::kOverlapLocalSgd);
  overlap.worker.link_latency_seconds = 0.015;
  config::RunConfig local = Small(Algorithm::kLocalSgd);
  local.worker.link_latency_seconds = 0.015;
  const auto overlapped = SimulateRun(overlap, {});
  const auto blocking = SimulateRun(local, {});
  ASSERT_TRUE(overlapped.ok() && blocking.ok());
  EXPECT_LT(overlapped->summary.sync_wait_seconds_mean,
            0.05 * blocking->summary.sync_wait_seconds_mean);
  EXPECT_LT(overlapped->summary.wall_seconds, blocking->summary.wall_seconds);
  // Local SGD waits one round trip per round.
  const double rounds = static_cast<double>(blocking->summary.anchor_version);
  EXPECT_NEAR(blocking->summary.sync_wait_seconds_mean, rounds * 0.03,
              rounds * 0.005);
}

TEST(SimulateRunTest, StragglerStallsSyncRoundsButNotAsyncOverlap) {
  config::RunConfig overlap = Small(Algorithm::kOverlapLocalSgd);
  overlap.worker.slowdown = "0:4";
  config::RunConfig local = Small(Algorithm::kLocalSgd);
  local.worker.slowdown = "0:4";
  const auto overlapped = SimulateRun(overlap, {});
  const auto blocking = SimulateRun(local, {});
  ASSERT_TRUE(overlapped.ok() && blocking.ok());
  // In sync rounds the three fast workers wait for the slow one.
  EXPECT_GT(blocking->summary.sync_wait_seconds_mean,
            0.4 * blocking->summary.compute_seconds_mean);
  EXPECT_LT(overlapped->summary.sync_wait_seconds_mean,
            0.05 * overlapped->summary.compute_seconds_mean);
  EXPECT_LT(overlapped->summary.wall_seconds, blocking->summary.wall_seconds);
}

// Held replies (--reply-wait): with equal workers every reply of a round
// carries the whole round, so the pushes of a round share one base; without
// them each worker's reply has the pushes that landed before its own. Within
// a round of compute, the hold costs the workers no wait.
TEST(SimulateRunTest, HeldRepliesCarryTheWholeRoundAtNoWait) {
  auto bases_per_round = [](double reply_wait, const std::string& slowdown) {
    config::RunConfig config = Small(Algorithm::kOverlapLocalSgd);
    config.server.aggregation = algo::AggregationMode::kAsync;
    config.server.reply_wait = reply_wait;
    config.worker.slowdown = slowdown;
    std::map<uint64_t, std::set<uint64_t>> bases;
    SimulationObserver<float> observer;
    observer.on_push = [&bases](int, uint64_t round, uint64_t base,
                                std::span<const float>) {
      if (round >= 2) bases[round].insert(base);
    };
    StatusOr<SimulationResult<float>> result =
        SimulateRun(config, {}, std::move(observer));
    EXPECT_TRUE(result.ok()) << result.status().ToString();
    EXPECT_EQ(result->summary.sync_wait_seconds_mean, 0.0);
    size_t most = 0;
    for (const auto& [round, distinct] : bases) {
      most = std::max(most, distinct.size());
    }
    return std::make_pair(bases.size(), most);
  };
  const auto [held_rounds, held_most] = bases_per_round(0.5, "");
  EXPECT_GT(held_rounds, 10U);
  EXPECT_EQ(held_most, 1U);
  EXPECT_GT(bases_per_round(0.0, "").second, 1U);
  // A 4× straggler neither stalls the others nor is waited for.
  EXPECT_GT(bases_per_round(0.5, "0:4").first, 10U);
}

// Shards divide the server's traffic: with the server's interface the
// bottleneck, S shards carry a round's pushes and anchors about S times
// faster. Sync rounds wait for every worker whatever the timing, so the
// anchors are the same bits at every S.
TEST(SimulateRunTest, ShardsDivideTheServersTraffic) {
  std::vector<double> seconds;
  std::vector<std::vector<float>> anchors;
  for (const int shards : {1, 2, 4}) {
    config::RunConfig config = Small(Algorithm::kLocalSgd);
    config.train.alpha = 1.0;
    config.server.shards = shards;
    // Four workers' dense pushes and anchors of the 16-unit MLP take about
    // 0.75 s a round through one interface, against 0.04 s of compute.
    config.simulate.server_bandwidth_bytes = 2e4;
    StatusOr<SimulationResult<float>> result = SimulateRun(config, {});
    ASSERT_TRUE(result.ok()) << result.status().ToString();
    seconds.push_back(result->summary.wall_seconds);
    anchors.push_back(result->anchor);
  }
  EXPECT_EQ(anchors[1], anchors[0]);
  EXPECT_EQ(anchors[2], anchors[0]);
  EXPECT_LT(seconds[1], 0.6 * seconds[0]);
  EXPECT_LT(seconds[2], 0.6 * seconds[1]);
}

TEST(SimulateRunTest, BandwidthCostsTimeInProportionToBytes) {
  config::RunConfig config = Small(Algorithm::kLocalSgd);
  const auto fast = SimulateRun(config, {});
  config.worker.link_bandwidth_bytes = 1e6;
  const auto slow = SimulateRun(config, {});
  ASSERT_TRUE(fast.ok() && slow.ok());
  EXPECT_EQ(fast->summary.bytes_up, slow->summary.bytes_up);
  // Every round moves one model up and one down per worker, serially.
  const double rounds = static_cast<double>(slow->summary.anchor_version);
  const double per_round =
      static_cast<double>(slow->summary.bytes_up + slow->summary.bytes_down) /
      4.0 / rounds / 1e6;
  EXPECT_NEAR(slow->summary.wall_seconds - fast->summary.wall_seconds,
              rounds * per_round, rounds * per_round * 0.05);
}

TEST(SimulateRunTest, EveryAlgorithmLearns) {
  for (const EnumName<Algorithm>& entry : algo::kAlgorithmNames) {
    const Algorithm algorithm = entry.value;
    config::RunConfig config = Small(algorithm);
    if (algorithm == Algorithm::kSlowMo) config.train.beta = 0.5;
    if (algorithm == Algorithm::kDiLoCo) {
      config.train.alpha = 0.7;
      config.train.beta = 0.9;
    }
    const auto result = SimulateRun(config, {});
    ASSERT_TRUE(result.ok()) << entry.name;
    EXPECT_GT(result->trace.back().test_accuracy, 0.6) << entry.name;
    EXPECT_GT(result->trace.back().test_accuracy,
              result->trace.front().test_accuracy + 0.3)
        << entry.name;
  }
}

TEST(SimulateRunTest, EveryCodecLearnsAtItsByteCost) {
  // An MLP of 5,514 parameters. The sketches keep k = 28 coordinates a
  // round, with 10 k columns; the momentum is where the command line puts
  // it (minibatch SGD with FetchSGD: the server's, in sketch space).
  const struct {
    const char* codec;
    Algorithm algorithm;
    int64_t sketch_columns;
    double min_compression;  // least dense/wire ratio of the upward bytes
  } runs[] = {{"dense", Algorithm::kLocalSgd, 0, 0.9},
              {"fp16", Algorithm::kOverlapLocalSgd, 0, 1.8},
              {"bf16", Algorithm::kMinibatchSgd, 0, 1.8},
              {"qsgd", Algorithm::kLocalSgd, 0, 6.0},
              {"dqsgd", Algorithm::kOverlapLocalSgd, 0, 3.0},
              {"topk", Algorithm::kLocalSgd, 0, 30.0},
              {"sketch", Algorithm::kMinibatchSgd, 0, 3.0},
              {"sketch", Algorithm::kLocalSgd, 0, 3.0},
              {"fetchsgd", Algorithm::kLocalSgd, 280, 3.0},
              {"fetchsgd", Algorithm::kMinibatchSgd, 280, 3.0},
              {"global-topk", Algorithm::kMinibatchSgd, 0, 0.9}};
  for (const auto& run : runs) {
    config::RunConfig config = Small(run.algorithm);
    config.train.model = "mlp:128";
    config.train.codec = run.codec;
    config.codec_options.topk_fraction = 0.005;
    config.codec_options.sketch_columns = run.sketch_columns;
    config::ApplyDependentDefaults({}, &config);
    const auto result = SimulateRun(config, {});
    ASSERT_TRUE(result.ok()) << run.codec;
    EXPECT_GT(result->trace.back().test_accuracy, 0.7)
        << run.codec << " " << algo::AlgorithmName(run.algorithm);
    EXPECT_GT(
        static_cast<double>(result->summary.raw_bytes_up),
        run.min_compression * static_cast<double>(result->summary.bytes_up))
        << run.codec << " " << algo::AlgorithmName(run.algorithm);
  }
}

// The coordinates each anchor version changes, with minibatch SGD and no
// server momentum: nearly all of them with dense gradients; with local
// top-k the union of the workers' k each, so between k and m k; with the
// sketch and its exact control the k a round applies at most.
TEST(SimulateRunTest, AnchorChangesCountTheCoordinatesEachVersionMoves) {
  constexpr double kDim = 5514;  // mlp:128 on the synthetic data
  constexpr double kK = 28;      // 0.5 %
  const struct {
    const char* codec;
    double at_least;
    double at_most;
  } runs[] = {{"dense", 0.5 * kDim, kDim},
              {"topk", kK + 1, 4 * kK},
              {"sketch", 0.9 * kK, kK},
              {"global-topk", 0.9 * kK, kK}};
  for (const auto& run : runs) {
    config::RunConfig config = Small(Algorithm::kMinibatchSgd);
    config.train.model = "mlp:128";
    config.train.local_steps = 1;
    config.train.epochs = 0.5;
    config.train.momentum = 0;
    config.train.codec = run.codec;
    config.codec_options.topk_fraction = 0.005;
    const auto result = SimulateRun(config, {});
    ASSERT_TRUE(result.ok()) << run.codec;
    EXPECT_GE(result->summary.anchor_changes_mean, run.at_least) << run.codec;
    EXPECT_LE(result->summary.anchor_changes_mean, run.at_most) << run.codec;
  }
}

TEST(SimulateRunTest, DivergedTrainingStopsWithAClearError) {
  config::RunConfig config = Small(Algorithm::kLocalSgd);
  config.train.codec = "qsgd";
  config.train.lr = 1e30;
  const auto result = SimulateRun(config, {});
  ASSERT_TRUE(result.ok());
  EXPECT_NE(result->stopped_early.find("training diverged"), std::string::npos)
      << result->stopped_early;
  EXPECT_LT(result->summary.samples, 2 * 20000);  // before 2 epochs of 20,000
  // Its summary, non-finite losses included, is JSON that reads back.
  const std::string path = ::testing::TempDir() + "/diverged-summary.json";
  ASSERT_TRUE(summary::WriteRunSummary(path, result->summary).ok());
  const StatusOr<summary::RunSummary> read = summary::ReadRunSummary(path);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_NE(read->stop_reason.find("training diverged"), std::string::npos)
      << read->stop_reason;
}

// A worker whose push the contribution bound refuses joins again and goes
// on, as the service's does; a bound that refuses every push ends the run
// naming the flags rather than running forever, and an honest straggler
// across a decayed schedule is not refused into one.
TEST(SimulateRunTest, ABoundRefusingEveryPushStopsButStragglersPass) {
  config::RunConfig config = Small(Algorithm::kOverlapLocalSgd);
  config.server.max_update_norm = 1e-9;
  const auto refusing = SimulateRun(config, {});
  ASSERT_TRUE(refusing.ok());
  EXPECT_NE(refusing->stopped_early.find("--max-update-norm"),
            std::string::npos)
      << refusing->stopped_early;
  EXPECT_EQ(refusing->summary.pushes_applied, 0);

  // A straggler across a decayed schedule: its pushes, made at the rate
  // its peers decayed from, are honest and the run completes.
  config.server.max_update_norm = 0;
  config.worker.slowdown = "0:4";
  config.train.decay_epochs = {1.0};
  config.train.epochs = 3;
  config.server.max_staleness = 16;
  const auto straggler = SimulateRun(config, {});
  ASSERT_TRUE(straggler.ok());
  EXPECT_EQ(straggler->stopped_early, "");
  EXPECT_GE(straggler->summary.epochs, 3.0);
  EXPECT_GT(straggler->summary.test_accuracy, 0.5);
}

TEST(SimulateRunTest, SummaryHoldsTheSettingsAndEveryEvaluation) {
  const config::RunConfig config = Small(Algorithm::kLocalSgd);
  const auto result = SimulateRun(config, {});
  ASSERT_TRUE(result.ok());
  const summary::RunSummary& s = result->summary;

  EXPECT_TRUE(s.simulated);
  EXPECT_EQ(s.algorithm, "local-sgd");
  EXPECT_EQ(s.aggregation, "sync");
  EXPECT_EQ(s.workers, 4);
  EXPECT_EQ(s.model, "mlp:16");
  EXPECT_EQ(s.local_steps, 4);
  EXPECT_EQ(s.stop_reason, "reached the budget");
  EXPECT_EQ(s.pushes_rejected, 0);
  EXPECT_GE(s.epochs, 2.0);
  ASSERT_EQ(s.evaluations.size(), result->trace.size());
  for (size_t i = 0; i < s.evaluations.size(); ++i) {
    EXPECT_EQ(s.evaluations[i].seconds, result->trace[i].virtual_seconds);
    EXPECT_EQ(s.evaluations[i].version, result->trace[i].version);
    EXPECT_EQ(s.evaluations[i].accuracy, result->trace[i].test_accuracy);
  }
  EXPECT_EQ(s.test_accuracy, result->trace.back().test_accuracy);
  EXPECT_EQ(s.wall_seconds, result->trace.back().virtual_seconds);
  EXPECT_EQ(s.samples, result->trace.back().examples);
}

}  // namespace
}  // namespace anchorage::simulator
