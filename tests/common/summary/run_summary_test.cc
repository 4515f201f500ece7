#include "common/summary/run_summary.h"

#include <cmath>
#include <filesystem>
#include <limits>
#include <string>

#include <gtest/gtest.h>

#include "common/config/run_config.h"
#include "common/io/json.h"
#include "tests/testing/temp_files.h"

namespace anchorage::summary {
namespace {

std::string TestDir() {
  return testing::FreshTestDir("summary");
}

using testing::ReadAll;
using testing::WriteAll;

// A summary with every field set to a value unlike its default.
RunSummary Full() {
  RunSummary s;
  s.algorithm = "overlap-local-sgd";
  s.aggregation = "async";
  s.workers = 3;
  s.dataset = "synthetic-gaussian";
  s.model = "mlp:32";
  s.codec = "qsgd:4";
  s.partition = "dirichlet:0.5";
  s.local_steps = 8;
  s.alpha = 0.6;
  s.beta = 0.7;
  s.lr = 0.05;
  s.batch_size = 32;
  s.seed = 18446744073709551615ULL;
  s.anchor_version = 123;
  s.test_accuracy = 0.8125;
  s.test_loss = 0.43;
  s.train_loss = 0.1 + 0.2;  // not exactly 0.3: needs all 17 digits
  s.wall_seconds = 12.5;
  s.demo_wall_seconds = 14.25;
  s.training_seconds = 11.75;
  s.startup_seconds = 0.75;
  s.first_steps_unix_seconds = 1700000000.5;
  s.epochs = 3.01;
  s.samples = 90300;
  s.bytes_up = 1000;
  s.bytes_down = 5000;
  s.raw_bytes_up = 4000;
  s.quantization_bits_mean = 4.5;
  s.anchor_changes_mean = 812.25;
  s.pushes_applied = 40;
  s.pushes_rejected = 2;
  s.pushes_stale = 1;
  s.stale_dropped = 1;
  s.rejected_messages = 3;
  s.staleness_mean = 1.5;
  s.sync_wait_seconds_mean = 1e-9;
  s.compute_seconds_mean = 9.5;
  s.encode_seconds_mean = 0.25;
  s.restarts = 2;
  s.resumed_from_version = 120;
  s.lost_workers = {1, 2};
  s.stop_reason = "reached 3 epochs";
  s.evaluations = {{0.0, 0, 0.1, 2.3}, {12.5, 123, 0.8125, 0.43}};
  return s;
}

TEST(RunSummaryTest, RoundTripsEveryField) {
  const std::string dir = TestDir();
  const std::string path = dir + "/summary.json";
  const RunSummary written = Full();

  ASSERT_TRUE(WriteRunSummary(path, written).ok());
  const StatusOr<RunSummary> read = ReadRunSummary(path);

  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_TRUE(*read == written);
  EXPECT_EQ(testing::ListDir(dir), std::vector<std::string>{"summary.json"});
}

TEST(RunSummaryTest, WritesEveryKeyOfTheReadmeAsKeySpaceValue) {
  const std::string path = TestDir() + "/summary.json";
  ASSERT_TRUE(WriteRunSummary(path, Full()).ok());
  const std::string text = ReadAll(path);

  for (const char* key : {"algorithm",
                          "aggregation",
                          "workers",
                          "dataset",
                          "model",
                          "codec",
                          "partition",
                          "local_steps",
                          "alpha",
                          "beta",
                          "lr",
                          "batch_size",
                          "seed",
                          "anchor_version",
                          "test_accuracy",
                          "test_loss",
                          "train_loss",
                          "wall_seconds",
                          "epochs",
                          "samples",
                          "bytes_up",
                          "bytes_down",
                          "raw_bytes_up",
                          "compression_ratio",
                          "quantization_bits_mean",
                          "anchor_changes_mean",
                          "pushes_applied",
                          "pushes_rejected",
                          "pushes_stale",
                          "stale_dropped",
                          "rejected_messages",
                          "staleness_mean",
                          "restarts",
                          "resumed_from_version",
                          "sync_wait_seconds_mean",
                          "compute_seconds_mean",
                          "encode_seconds_mean",
                          "lost_workers",
                          "stop_reason",
                          "evaluations",
                          "demo_wall_seconds",
                          "training_seconds",
                          "startup_seconds",
                          "first_steps_unix_seconds",
                          "simulated"}) {
    EXPECT_NE(text.find("\"" + std::string(key) + "\": "), std::string::npos)
        << key << " in\n"
        << text;
  }
  EXPECT_NE(text.find("\"workers\": 3,"), std::string::npos) << text;
  EXPECT_NE(text.find("\"compression_ratio\": 4.0,"), std::string::npos)
      << text;
  EXPECT_EQ(text.find("virtual_seconds"), std::string::npos) << text;
  EXPECT_EQ(text.back(), '\n');
}

TEST(RunSummaryTest, NanLossIsWrittenAsNullAndReadBackAsNan) {
  const std::string path = TestDir() + "/summary.json";
  RunSummary written = Full();
  written.test_loss = std::numeric_limits<double>::quiet_NaN();
  written.train_loss = -std::numeric_limits<double>::quiet_NaN();
  written.staleness_mean = std::numeric_limits<double>::infinity();
  written.evaluations.back().loss = std::numeric_limits<double>::quiet_NaN();

  ASSERT_TRUE(WriteRunSummary(path, written).ok());
  const std::string text = ReadAll(path);
  const io::Json parsed = io::Json::parse(text);
  const StatusOr<RunSummary> read = ReadRunSummary(path);

  EXPECT_TRUE(parsed.at("test_loss").is_null());
  EXPECT_TRUE(parsed.at("train_loss").is_null());
  EXPECT_TRUE(parsed.at("staleness_mean").is_null());
  EXPECT_TRUE(parsed.at("evaluations").at(1).at("loss").is_null());
  EXPECT_EQ(text.find("nan"), std::string::npos) << text;
  EXPECT_EQ(text.find("inf"), std::string::npos) << text;
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_TRUE(std::isnan(read->test_loss));
  EXPECT_TRUE(std::isnan(read->train_loss));
  EXPECT_TRUE(std::isnan(read->staleness_mean));
  EXPECT_TRUE(std::isnan(read->evaluations.back().loss));
  EXPECT_EQ(read->test_accuracy, written.test_accuracy);
}

TEST(RunSummaryTest, StringsAreEscaped) {
  const std::string path = TestDir() + "/summary.json";
  RunSummary written = Full();
  written.stop_reason = "worker \"3\" said:\n\tC:\\dir\x01";

  ASSERT_TRUE(WriteRunSummary(path, written).ok());
  const io::Json parsed = io::Json::parse(ReadAll(path));
  const StatusOr<RunSummary> read = ReadRunSummary(path);

  EXPECT_EQ(parsed.at("stop_reason"), written.stop_reason);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(read->stop_reason, written.stop_reason);
}

TEST(RunSummaryTest,
     SimulatedRunsAddVirtualSecondsAndDemoWallSecondsIsOptional) {
  const std::string path = TestDir() + "/summary.json";
  RunSummary written = Full();
  written.simulated = true;
  written.demo_wall_seconds.reset();
  written.training_seconds.reset();
  written.startup_seconds.reset();
  written.first_steps_unix_seconds.reset();

  ASSERT_TRUE(WriteRunSummary(path, written).ok());
  const io::Json parsed = io::Json::parse(ReadAll(path));
  const StatusOr<RunSummary> read = ReadRunSummary(path);

  EXPECT_EQ(parsed.at("simulated"), true);
  EXPECT_EQ(parsed.at("virtual_seconds"), written.wall_seconds);
  EXPECT_FALSE(parsed.contains("demo_wall_seconds"));
  EXPECT_FALSE(parsed.contains("training_seconds"));
  EXPECT_FALSE(parsed.contains("startup_seconds"));
  EXPECT_FALSE(parsed.contains("first_steps_unix_seconds"));
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_TRUE(*read == written);
}

TEST(RunSummaryTest, StartUpIsFromTheStartToTheLastFirstStep) {
  algo::RoundStats stats;
  stats.started_unix_ns = int64_t{1700000000} * 1000000000;
  stats.first_steps_unix_ns = stats.started_unix_ns + 750000000;
  RunSummary summary;

  SetRoundStats(stats, &summary);

  ASSERT_TRUE(summary.startup_seconds.has_value());
  EXPECT_DOUBLE_EQ(*summary.startup_seconds, 0.75);
  ASSERT_TRUE(summary.first_steps_unix_seconds.has_value());
  EXPECT_NEAR(*summary.first_steps_unix_seconds, 1700000000.75, 1e-6);
  // Until every worker has stepped, or in a simulation, it is unknown.
  stats.first_steps_unix_ns = 0;
  SetRoundStats(stats, &summary);
  EXPECT_FALSE(summary.startup_seconds.has_value());
  EXPECT_FALSE(summary.first_steps_unix_seconds.has_value());
}

TEST(RunSummaryTest, SamplesPerSecondAreOverTheTrainingSeconds) {
  RunSummary summary;
  summary.samples = 90000;
  summary.wall_seconds = 12.0;
  summary.training_seconds = 9.0;
  EXPECT_DOUBLE_EQ(summary.seconds_of_training(), 9.0);
  EXPECT_DOUBLE_EQ(summary.samples_per_second(), 10000.0);
  // A simulation, or a run no worker stepped in: the run's seconds.
  summary.training_seconds.reset();
  EXPECT_DOUBLE_EQ(summary.seconds_of_training(), 12.0);
  EXPECT_DOUBLE_EQ(summary.samples_per_second(), 7500.0);
  summary.wall_seconds = 0;
  EXPECT_DOUBLE_EQ(summary.samples_per_second(), 0.0);
}

TEST(RunSummaryTest, MissingFileIsDataLossNamingThePath) {
  const std::string path = TestDir() + "/absent.json";

  const StatusOr<RunSummary> read = ReadRunSummary(path);

  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.status().code(), Status::Code::kDataLoss);
  EXPECT_NE(read.status().message().find(path), std::string::npos)
      << read.status().ToString();
}

TEST(RunSummaryTest, TextThatIsNotJsonIsDataLoss) {
  const std::string path = TestDir() + "/summary.json";
  WriteAll(path, "{\"algorithm\": \"local-sgd\", \"test_loss\": -nan}");

  const StatusOr<RunSummary> read = ReadRunSummary(path);

  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.status().code(), Status::Code::kDataLoss);
  EXPECT_NE(read.status().message().find(path), std::string::npos);
  EXPECT_NE(read.status().message().find("parse error"), std::string::npos)
      << read.status().ToString();
}

TEST(RunSummaryTest, MissingKeyIsDataLossNamingTheKey) {
  const std::string path = TestDir() + "/summary.json";
  io::Json json = Full();
  json.erase("bytes_up");
  WriteAll(path, json.dump(2));

  const StatusOr<RunSummary> read = ReadRunSummary(path);

  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.status().code(), Status::Code::kDataLoss);
  EXPECT_NE(read.status().message().find(path), std::string::npos);
  EXPECT_NE(read.status().message().find("bytes_up"), std::string::npos)
      << read.status().ToString();
}

TEST(RunSummaryTest, MistypedKeyIsDataLossNamingTheKey) {
  const std::string path = TestDir() + "/summary.json";
  io::Json json = Full();
  json["evaluations"][1]["accuracy"] = "high";
  WriteAll(path, json.dump(2));

  const StatusOr<RunSummary> read = ReadRunSummary(path);

  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.status().code(), Status::Code::kDataLoss);
  EXPECT_NE(read.status().message().find(path), std::string::npos);
  EXPECT_NE(read.status().message().find("/evaluations/1/accuracy"),
            std::string::npos)
      << read.status().ToString();
}

TEST(RunSummaryTest, WriteToMissingDirectoryIsUnavailable) {
  const std::string path = TestDir() + "/missing/summary.json";

  const Status status = WriteRunSummary(path, Full());

  EXPECT_EQ(status.code(), Status::Code::kUnavailable);
}

TEST(RunSummaryTest, SetRunSettingsCopiesTheConfigAndNothingElse) {
  config::RunConfig config;
  config.train.algorithm = algo::Algorithm::kLocalSgd;
  config.train.workers = 5;
  config.train.dataset = data::DatasetKind::kSyntheticGaussian;
  config.train.model = "softmax";
  config.train.codec = "topk:0.01";
  config.train.partition = "iid";
  config.train.local_steps = 4;
  config.train.alpha = 0.5;
  config.train.beta = 0.25;
  config.train.lr = 0.1;
  config.train.batch_size = 16;
  config.train.seed = 7;
  config.server.aggregation = algo::AggregationMode::kSync;
  RunSummary summary;
  summary.anchor_version = 9;

  SetRunSettings(config, &summary);

  EXPECT_EQ(summary.algorithm, "local-sgd");
  EXPECT_EQ(summary.aggregation, "sync");
  EXPECT_EQ(summary.workers, 5);
  EXPECT_EQ(summary.dataset, "synthetic-gaussian");
  EXPECT_EQ(summary.model, "softmax");
  EXPECT_EQ(summary.codec, "topk:0.01");
  EXPECT_EQ(summary.partition, "iid");
  EXPECT_EQ(summary.local_steps, 4);
  EXPECT_EQ(summary.alpha, 0.5);
  EXPECT_EQ(summary.beta, 0.25);
  EXPECT_EQ(summary.lr, 0.1);
  EXPECT_EQ(summary.batch_size, 16);
  EXPECT_EQ(summary.seed, 7U);
  EXPECT_EQ(summary.anchor_version, 9U);
}

TEST(RunSummaryTest, DefaultAggregationFollowsTheAlgorithm) {
  config::RunConfig config;
  config.train.algorithm = algo::Algorithm::kOverlapLocalSgd;
  RunSummary summary;

  SetRunSettings(config, &summary);

  EXPECT_EQ(summary.aggregation, "async");
}

}  // namespace
}  // namespace anchorage::summary
