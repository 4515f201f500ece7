#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <limits>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "common/algo/aggregator.h"
#include "common/algo/algorithm.h"
#include "common/base/enum_names.h"
#include "common/base/log.h"
#include "common/base/status.h"
#include "common/codec/codec.h"
#include "common/config/flags.h"
#include "common/config/run_config.h"
#include "common/data/dataset.h"

namespace anchorage::config {
namespace {

using ParseResult = StatusOr<std::optional<ParsedCommandLine>>;

const char* RoleName(Role role) {
  switch (role) {
    case Role::kServer:
      return "server";
    case Role::kWorker:
      return "worker";
    case Role::kDemo:
      return "demo";
    case Role::kSimulate:
      return "simulate";
    case Role::kCompare:
      return "compare";
  }
  return "?";
}

// Runs ParseCommandLine as `anchorage <role> args...`.
ParseResult Parse(Role role, const std::vector<std::string>& args) {
  std::vector<const char*> argv = {RoleName(role)};
  for (const std::string& arg : args) {
    argv.push_back(arg.c_str());
  }
  return ParseCommandLine(role, static_cast<int>(argv.size()), argv.data());
}

// Parses arguments that must succeed and returns the config.
RunConfig ParseOk(Role role, const std::vector<std::string>& args) {
  const ParseResult result = Parse(role, args);
  EXPECT_TRUE(result.ok()) << result.status().ToString();
  if (!result.ok()) return {};
  EXPECT_TRUE(result->has_value());
  if (!result->has_value()) return {};
  return (*result)->config;
}

// Parses arguments that must succeed and returns the flags given.
std::set<std::string> GivenFlags(Role role,
                                 const std::vector<std::string>& args) {
  const ParseResult result = Parse(role, args);
  EXPECT_TRUE(result.ok()) << result.status().ToString();
  if (!result.ok() || !result->has_value()) return {};
  return (*result)->given;
}

// Parses arguments that must fail and returns the error message.
std::string ParseError(Role role, const std::vector<std::string>& args) {
  const ParseResult result = Parse(role, args);
  EXPECT_FALSE(result.ok()) << "parsed without error";
  if (result.ok()) return "";
  EXPECT_EQ(result.status().code(), Status::Code::kInvalidArgument)
      << result.status().ToString();
  return result.status().message();
}

// Returns a file holding `contents`, unique to this test and process.
std::string WriteConfigFile(const std::string& contents) {
  const ::testing::TestInfo* info =
      ::testing::UnitTest::GetInstance()->current_test_info();
  const std::filesystem::path dir =
      std::filesystem::path(::testing::TempDir()) /
      ("config_" + std::string(info->test_suite_name()) + "_" + info->name() +
       "_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::string path = (dir / "run.yaml").string();
  std::ofstream out(path, std::ios::trunc);
  out << contents;
  EXPECT_TRUE(out.good()) << path;
  return path;
}

// Redirects std::cout into a string while it lives.
class CaptureStdout {
 public:
  CaptureStdout() : old_(std::cout.rdbuf(captured_.rdbuf())) {}
  ~CaptureStdout() { std::cout.rdbuf(old_); }
  CaptureStdout(const CaptureStdout&) = delete;
  CaptureStdout& operator=(const CaptureStdout&) = delete;
  CaptureStdout(CaptureStdout&&) = delete;
  CaptureStdout& operator=(CaptureStdout&&) = delete;

  std::string text() const { return captured_.str(); }

 private:
  std::ostringstream captured_;
  std::streambuf* old_;
};

bool StartsWith(const std::string& text, const std::string& prefix) {
  return text.rfind(prefix, 0) == 0;
}

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// ---------------------------------------------------------------------------
// RunConfig::Validate

TEST(ConfigTest, ShardFlagsReachTheServerAndTheWorker) {
  const RunConfig server =
      ParseOk(Role::kServer, {"--shards", "3", "--shard", "2"});
  EXPECT_EQ(server.server.shards, 3);
  EXPECT_EQ(server.server.shard, 2);
  const RunConfig worker =
      ParseOk(Role::kWorker, {"--servers", "tcp://a:1,tcp://b:2"});
  EXPECT_EQ(worker.worker.servers,
            (std::vector<std::string>{"tcp://a:1", "tcp://b:2"}));
  // The simulator models the same shards.
  EXPECT_EQ(ParseOk(Role::kSimulate, {"--shards", "4"}).server.shards, 4);
  EXPECT_FALSE(Parse(Role::kWorker, {"--shard", "1"}).ok());
}

TEST(ConfigTest, TheDemoFitsItsDefaultsToTheMachine) {
  const RunConfig demo = ParseOk(Role::kDemo, {});
  const int cores = static_cast<int>(std::thread::hardware_concurrency());
  EXPECT_EQ(demo.train.workers, std::clamp(cores, 2, 16));
  EXPECT_EQ(demo.train.batch_size, 128);
  EXPECT_DOUBLE_EQ(demo.train.lr, 0.1);
  EXPECT_DOUBLE_EQ(demo.server.start_wait_seconds, 10);
  // The flags still win, and the other roles keep the shared defaults.
  const RunConfig set =
      ParseOk(Role::kDemo, {"--workers=5", "--batch-size=32", "--lr=0.05"});
  EXPECT_EQ(set.train.workers, 5);
  EXPECT_EQ(set.train.batch_size, 32);
  EXPECT_DOUBLE_EQ(set.train.lr, 0.05);
  for (const Role role :
       {Role::kServer, Role::kWorker, Role::kSimulate, Role::kCompare}) {
    const RunConfig config = ParseOk(role, {});
    EXPECT_EQ(config.train.workers, TrainOptions{}.workers) << RoleName(role);
    EXPECT_EQ(config.train.batch_size, TrainOptions{}.batch_size)
        << RoleName(role);
    EXPECT_DOUBLE_EQ(config.train.lr, TrainOptions{}.lr) << RoleName(role);
    EXPECT_DOUBLE_EQ(config.server.start_wait_seconds, 0) << RoleName(role);
  }
}

TEST(RunConfigTest, EachShardsSliceHasItsOwnCodecStream) {
  const RunConfig config = ParseOk(Role::kWorker, {"--codec=qsgd"});
  const codec::CodecOptions whole = config.CodecSettings(3, 10);
  const codec::CodecOptions first = config.ShardCodecSettings(3, 10, 0);
  const codec::CodecOptions second = config.ShardCodecSettings(3, 10, 1);
  const codec::CodecOptions third = config.ShardCodecSettings(3, 10, 2);
  // Unsharded runs keep their stream; each further slice draws its own,
  // and apart from other workers' (sender 4's first slice).
  EXPECT_EQ(first.seed, whole.seed);
  EXPECT_NE(second.seed, first.seed);
  EXPECT_NE(third.seed, second.seed);
  EXPECT_NE(third.seed, first.seed);
  EXPECT_NE(second.seed, config.ShardCodecSettings(4, 10, 0).seed);
  // The sketches' hashes must match the shard's server: one seed for all.
  EXPECT_EQ(second.sketch_seed, whole.sketch_seed);
  EXPECT_EQ(second.dqsgd_total_steps, whole.dqsgd_total_steps);
}

TEST(RunConfigTest, DefaultsValidate) {
  const RunConfig config;

  const Status status = config.Validate();

  EXPECT_TRUE(status.ok()) << status.ToString();
}

struct BadValue {
  const char* what;
  std::function<void(RunConfig&)> apply;
  // The message must start with this.
  std::string prefix;
};

TEST(RunConfigTest, EachBadValueIsInvalidArgumentNamingTheFlag) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const std::vector<BadValue> cases = {
      {"workers 0", [](RunConfig& c) { c.train.workers = 0; }, "--workers:"},
      {"workers 4097", [](RunConfig& c) { c.train.workers = 4097; },
       "--workers:"},
      {"local steps 0", [](RunConfig& c) { c.train.local_steps = 0; },
       "--local-steps:"},
      {"local steps -3", [](RunConfig& c) { c.train.local_steps = -3; },
       "--local-steps:"},
      {"alpha -0.1", [](RunConfig& c) { c.train.alpha = -0.1; }, "--alpha:"},
      {"alpha 1.01", [](RunConfig& c) { c.train.alpha = 1.01; }, "--alpha:"},
      {"alpha nan", [nan](RunConfig& c) { c.train.alpha = nan; }, "--alpha:"},
      {"beta 1", [](RunConfig& c) { c.train.beta = 1.0; }, "--beta:"},
      {"beta -0.5", [](RunConfig& c) { c.train.beta = -0.5; }, "--beta:"},
      {"lr 0", [](RunConfig& c) { c.train.lr = 0.0; }, "--lr:"},
      {"lr -1", [](RunConfig& c) { c.train.lr = -1.0; }, "--lr:"},
      {"lr nan", [nan](RunConfig& c) { c.train.lr = nan; }, "--lr:"},
      {"lr inf",
       [](RunConfig& c) {
         c.train.lr = std::numeric_limits<double>::infinity();
       },
       "--lr:"},
      {"momentum 1", [](RunConfig& c) { c.train.momentum = 1.0; },
       "--momentum:"},
      {"weight decay -1e-4", [](RunConfig& c) { c.train.weight_decay = -1e-4; },
       "--weight-decay:"},
      {"batch size 0", [](RunConfig& c) { c.train.batch_size = 0; },
       "--batch-size:"},
      {"batch size 65537", [](RunConfig& c) { c.train.batch_size = 65537; },
       "--batch-size:"},
      {"warmup -1", [](RunConfig& c) { c.train.warmup_epochs = -1.0; },
       "--warmup-epochs:"},
      {"decay epochs decreasing",
       [](RunConfig& c) {
         c.train.decay_epochs = {2.0, 1.0};
       },
       "--decay-epochs:"},
      {"decay epochs repeated",
       [](RunConfig& c) {
         c.train.decay_epochs = {1.0, 1.0};
       },
       "--decay-epochs:"},
      {"decay epochs zero", [](RunConfig& c) { c.train.decay_epochs = {0.0}; },
       "--decay-epochs:"},
      {"decay factor 0", [](RunConfig& c) { c.train.decay_factor = 0.0; },
       "--decay-factor:"},
      {"decay factor 1.5", [](RunConfig& c) { c.train.decay_factor = 1.5; },
       "--decay-factor:"},
      {"epochs -1", [](RunConfig& c) { c.train.epochs = -1.0; }, "--epochs:"},
      {"max versions -1", [](RunConfig& c) { c.train.max_versions = -1; },
       "--max-versions:"},
      {"no end",
       [](RunConfig& c) {
         c.train.epochs = 0.0;
         c.train.max_versions = 0;
       },
       "--epochs and --max-versions are both 0"},
      {"partition", [](RunConfig& c) { c.train.partition = "zipf"; },
       "--partition"},
      {"partition alpha",
       [](RunConfig& c) { c.train.partition = "dirichlet:-1"; }, "--partition"},
      {"model", [](RunConfig& c) { c.train.model = "cnn"; }, "--model"},
      {"model width", [](RunConfig& c) { c.train.model = "mlp:0"; }, "--model"},
      {"codec", [](RunConfig& c) { c.train.codec = "nope"; }, "--codec"},
      {"qsgd bits",
       [](RunConfig& c) {
         c.train.codec = "qsgd";
         c.codec_options.bits = 1;
       },
       "--codec: codec qsgd: bits must be in [2, 16]"},
      {"qsgd bucket",
       [](RunConfig& c) {
         c.train.codec = "qsgd";
         c.codec_options.qsgd_bucket = -512;
       },
       "--codec: codec qsgd: qsgd_bucket must be >= 0 (0 = one bucket), got "
       "-512"},
      {"dqsgd mu",
       [](RunConfig& c) {
         c.train.codec = "dqsgd";
         c.codec_options.dqsgd_rule = codec::DqsgdRule::kStronglyConvex;
         c.codec_options.dqsgd_mu = 0;
       },
       "--codec: codec dqsgd: dqsgd_mu must be > 0, got 0"},
      {"dqsgd L below mu",
       [](RunConfig& c) {
         c.train.codec = "dqsgd";
         c.codec_options.dqsgd_rule = codec::DqsgdRule::kStronglyConvex;
         c.codec_options.dqsgd_mu = 0.5;
         c.codec_options.dqsgd_l = 0.25;
       },
       "--codec: codec dqsgd: dqsgd_l (L) must be >= dqsgd_mu (mu) = 0.5"},
      {"dqsgd lr against L",
       [](RunConfig& c) {
         c.train.codec = "dqsgd";
         c.codec_options.dqsgd_rule = codec::DqsgdRule::kStronglyConvex;
         c.codec_options.dqsgd_l = 50;
         c.train.lr = 0.05;
       },
       "--codec: codec dqsgd: dqsgd_learning_rate must be < 2 / dqsgd_l"},
      {"topk fraction",
       [](RunConfig& c) {
         c.train.codec = "topk";
         c.codec_options.topk_fraction = 0;
       },
       "--codec: codec topk: topk_fraction must be in (0, 1]"},
      {"sketch async",
       [](RunConfig& c) {
         c.train.codec = "sketch";
         c.train.algorithm = Algorithm::kOverlapLocalSgd;
         c.server.aggregation = algo::AggregationMode::kAsync;
       },
       "--codec: sketch sums every worker's message"},
      {"sketch rows",
       [](RunConfig& c) {
         c.train.codec = "fetchsgd";
         c.train.algorithm = Algorithm::kLocalSgd;
         c.codec_options.sketch_rows = 0;
       },
       "--codec: codec fetchsgd: sketch_rows must be in [1, 15]"},
      {"async local-sgd",
       [](RunConfig& c) {
         c.train.algorithm = Algorithm::kLocalSgd;
         c.server.aggregation = algo::AggregationMode::kAsync;
       },
       "--aggregation: async needs --algorithm overlap-local-sgd; local-sgd"},
      {"bind", [](RunConfig& c) { c.server.bind = ""; }, "--bind:"},
      {"round deadline",
       [](RunConfig& c) { c.server.round_deadline_seconds = 0.0; },
       "--round-deadline:"},
      {"quorum 0", [](RunConfig& c) { c.server.quorum = 0.0; }, "--quorum:"},
      {"quorum 1.5", [](RunConfig& c) { c.server.quorum = 1.5; }, "--quorum:"},
      {"reply wait 1", [](RunConfig& c) { c.server.reply_wait = 1.0; },
       "--reply-wait:"},
      {"push credits -1", [](RunConfig& c) { c.server.push_credits = -1; },
       "--push-credits:"},
      {"shards 0", [](RunConfig& c) { c.server.shards = 0; }, "--shards:"},
      {"shard = shards",
       [](RunConfig& c) {
         c.server.shards = 2;
         c.server.shard = 2;
       },
       "--shard: must be in [0, --shards) = [0, 2) (got 2)"},
      {"servers with an empty endpoint",
       [](RunConfig& c) {
         c.worker.servers = {"tcp://a:1", ""};
       },
       "--servers: an endpoint is empty"},
      {"reply wait -0.1", [](RunConfig& c) { c.server.reply_wait = -0.1; },
       "--reply-wait:"},
      {"start wait -1", [](RunConfig& c) { c.server.start_wait_seconds = -1; },
       "--start-wait:"},
      {"start wait past the workers' patience",
       [](RunConfig& c) {
         c.server.start_wait_seconds = 30;
         c.worker.server_timeout_seconds = 30;
       },
       "--start-wait 30 s must be below --server-timeout 30 s"},
      {"heartbeat interval",
       [](RunConfig& c) { c.server.heartbeat_interval_ms = 0; },
       "--heartbeat-interval-ms:"},
      {"heartbeat liveness",
       [](RunConfig& c) { c.server.heartbeat_liveness = 0; },
       "--heartbeat-liveness:"},
      {"eval interval",
       [](RunConfig& c) { c.server.eval_interval_seconds = -1.0; },
       "--eval-interval:"},
      {"eval examples", [](RunConfig& c) { c.server.eval_examples = -1; },
       "--eval-examples:"},
      {"worker id = workers",
       [](RunConfig& c) {
         c.train.workers = 4;
         c.worker.worker_id = 4;
       },
       "--worker-id:"},
      {"worker id -1", [](RunConfig& c) { c.worker.worker_id = -1; },
       "--worker-id:"},
      {"server timeout",
       [](RunConfig& c) { c.worker.server_timeout_seconds = 0.0; },
       "--server-timeout:"},
      {"min step time -0.1",
       [](RunConfig& c) { c.worker.min_step_seconds = -0.1; },
       "--min-step-time:"},
      {"min step time 10.5",
       [](RunConfig& c) { c.worker.min_step_seconds = 10.5; },
       "--min-step-time:"},
      {"min step time nan",
       [nan](RunConfig& c) { c.worker.min_step_seconds = nan; },
       "--min-step-time:"},
      {"metrics port 65536",
       [](RunConfig& c) { c.output.metrics_port = 65536; }, "--metrics-port:"},
      {"metrics port -1", [](RunConfig& c) { c.output.metrics_port = -1; },
       "--metrics-port:"},
      {"progress interval",
       [](RunConfig& c) { c.demo.progress_interval_seconds = -1.0; },
       "--progress-interval:"},
      {"demo timeout", [](RunConfig& c) { c.demo.timeout_seconds = 0.0; },
       "--timeout:"},
  };
  for (const BadValue& bad : cases) {
    RunConfig config;
    bad.apply(config);

    const Status status = config.Validate();

    EXPECT_EQ(status.code(), Status::Code::kInvalidArgument) << bad.what;
    EXPECT_TRUE(StartsWith(status.message(), bad.prefix))
        << bad.what << ": " << status.ToString();
  }
}

TEST(RunConfigTest, ErrorMessageShowsTheValue) {
  RunConfig config;
  config.train.local_steps = -17;

  const Status status = config.Validate();

  EXPECT_TRUE(Contains(status.message(), "-17")) << status.ToString();
}

TEST(RunConfigTest, AcceptsBoundaryValues) {
  RunConfig config;
  config.train.workers = 4096;
  config.worker.worker_id = 4095;
  config.train.algorithm = Algorithm::kLocalSgd;
  config.train.local_steps = 1;
  config.train.alpha = 1.0;
  config.train.beta = 0.0;
  config.train.momentum = 0.0;
  config.train.batch_size = 65536;
  config.train.decay_epochs = {0.5, 1.5, 3.0};
  config.train.decay_factor = 1.0;
  config.train.epochs = 0.0;
  config.train.max_versions = 1;
  config.train.dataset = data::DatasetKind::kSyntheticGaussian;
  config.train.partition = "dirichlet:0.5";
  config.train.model = "softmax";
  config.server.aggregation = algo::AggregationMode::kSync;
  config.server.quorum = 1.0;
  config.server.eval_interval_seconds = 0.0;
  config.output.metrics_port = 65535;
  config.output.log_level = LogLevel::kError;
  config.demo.progress_interval_seconds = 0.0;
  config.worker.min_step_seconds = 10.0;

  const Status status = config.Validate();

  EXPECT_TRUE(status.ok()) << status.ToString();
}

TEST(RunConfigTest, AlgorithmPicksItsNaturalAggregation) {
  using algo::AggregationMode;
  ServerOptions server;
  for (const EnumName<Algorithm>& entry : algo::kAlgorithmNames) {
    TrainOptions train;
    train.algorithm = entry.value;
    const AggregationMode natural = entry.value == Algorithm::kOverlapLocalSgd
                                        ? AggregationMode::kAsync
                                        : AggregationMode::kSync;
    EXPECT_EQ(server.ResolvedAggregation(train), natural) << entry.name;
  }
  TrainOptions overlap;
  TrainOptions local;
  local.algorithm = Algorithm::kLocalSgd;
  server.aggregation = AggregationMode::kSync;
  EXPECT_EQ(server.ResolvedAggregation(overlap), AggregationMode::kSync);
  server.aggregation = AggregationMode::kAsync;
  EXPECT_EQ(server.ResolvedAggregation(local), AggregationMode::kAsync);
}

TEST(RunConfigTest, AutoBaseBufferResetsForSlowMoOnly) {
  TrainOptions train;
  for (const EnumName<Algorithm>& entry : algo::kAlgorithmNames) {
    train.algorithm = entry.value;
    EXPECT_EQ(train.reset_base_buffer(), entry.value == Algorithm::kSlowMo)
        << entry.name;
  }
  train.base_buffer = BaseBuffer::kKeep;
  train.algorithm = Algorithm::kSlowMo;
  EXPECT_FALSE(train.reset_base_buffer());
  train.base_buffer = BaseBuffer::kReset;
  train.algorithm = Algorithm::kLocalSgd;
  EXPECT_TRUE(train.reset_base_buffer());
}

// ---------------------------------------------------------------------------
// ParseCommandLine

TEST(FlagsTest, NoArgumentsGiveDefaults) {
  const RunConfig config = ParseOk(Role::kWorker, {});
  const RunConfig defaults;

  EXPECT_EQ(config.train.workers, defaults.train.workers);
  EXPECT_EQ(config.train.lr, defaults.train.lr);
  EXPECT_EQ(config.train.model, defaults.train.model);
  EXPECT_EQ(config.worker.server, defaults.worker.server);
  EXPECT_FALSE(config.train.nesterov);
  EXPECT_TRUE(config.train.decay_epochs.empty());
}

TEST(FlagsTest, ParsesFlagsInBothSpellings) {
  const RunConfig config =
      ParseOk(Role::kWorker,
              {"--workers=8", "--worker-id", "7", "--lr", "0.01", "--nesterov",
               "--decay-epochs=1,2.5", "--server=tcp://10.0.0.1:6000", "--seed",
               "99", "--model=softmax", "--max-versions=5000000000",
               "--partition=dirichlet:0.3", "--log-level=debug"});

  EXPECT_EQ(config.train.workers, 8);
  EXPECT_EQ(config.worker.worker_id, 7);
  EXPECT_EQ(config.train.lr, 0.01);
  EXPECT_TRUE(config.train.nesterov);
  EXPECT_EQ(config.train.decay_epochs, (std::vector<double>{1.0, 2.5}));
  EXPECT_EQ(config.worker.server, "tcp://10.0.0.1:6000");
  EXPECT_EQ(config.train.seed, 99U);
  EXPECT_EQ(config.train.model, "softmax");
  EXPECT_EQ(config.train.max_versions, 5000000000);
  EXPECT_EQ(config.train.partition, "dirichlet:0.3");
  EXPECT_EQ(config.output.log_level, LogLevel::kDebug);
}

TEST(FlagsTest, QuantizerFlagsSetTheirCodecOptions) {
  const RunConfig config = ParseOk(
      Role::kSimulate,
      {"--codec=dqsgd", "--qsgd-bucket=2048", "--bit-budget", "4.5",
       "--dqsgd-rule=strongly-convex", "--dqsgd-mu", "0.2", "--dqsgd-l=4"});

  EXPECT_EQ(config.codec_options.qsgd_bucket, 2048);
  EXPECT_EQ(config.codec_options.bit_budget, 4.5);
  EXPECT_EQ(config.codec_options.dqsgd_mu, 0.2);
  EXPECT_EQ(config.codec_options.dqsgd_l, 4.0);
  EXPECT_EQ(RunConfig().codec_options.qsgd_bucket, 512);
}

TEST(FlagsTest, NamesBecomeTheirValues) {
  const RunConfig config = ParseOk(
      Role::kCompare, {"--algorithm=slowmo", "--aggregation=sync",
                       "--base-buffer=keep", "--dqsgd-rule=strongly-convex",
                       "--dataset=synthetic-logistic", "--log-level=warning",
                       "--study=woodworth", "--algorithms=diloco,local-sgd"});

  EXPECT_EQ(config.train.algorithm, Algorithm::kSlowMo);
  EXPECT_EQ(config.server.aggregation, algo::AggregationMode::kSync);
  EXPECT_EQ(config.train.base_buffer, BaseBuffer::kKeep);
  EXPECT_EQ(config.codec_options.dqsgd_rule, codec::DqsgdRule::kStronglyConvex);
  EXPECT_EQ(config.train.dataset, data::DatasetKind::kSyntheticLogistic);
  EXPECT_EQ(config.output.log_level, LogLevel::kWarning);
  EXPECT_EQ(config.compare.study, Study::kWoodworth);
  EXPECT_EQ(config.compare.algorithms,
            (std::vector<Algorithm>{Algorithm::kDiLoCo, Algorithm::kLocalSgd}));
}

TEST(FlagsTest, EachAlgorithmGetsItsPapersAlphaAndBeta) {
  struct Defaults {
    const char* algorithm;
    double alpha;
    double beta;
  };
  for (const Defaults& want :
       {Defaults{"minibatch-sgd", 1.0, 0.0}, Defaults{"local-sgd", 1.0, 0.0},
        Defaults{"overlap-local-sgd", 0.6, 0.0}, Defaults{"slowmo", 1.0, 0.5},
        Defaults{"diloco", 0.7, 0.9}}) {
    const std::string flag = std::string("--algorithm=") + want.algorithm;

    const RunConfig config = ParseOk(Role::kSimulate, {flag});
    const RunConfig alpha_given =
        ParseOk(Role::kSimulate, {flag, "--alpha=0.25"});
    const RunConfig beta_given = ParseOk(Role::kSimulate, {flag, "--beta=0.3"});

    EXPECT_EQ(config.train.alpha, want.alpha) << want.algorithm;
    EXPECT_EQ(config.train.beta, want.beta) << want.algorithm;
    EXPECT_EQ(alpha_given.train.alpha, 0.25) << want.algorithm;
    EXPECT_EQ(alpha_given.train.beta, want.beta) << want.algorithm;
    EXPECT_EQ(beta_given.train.alpha, want.alpha) << want.algorithm;
    EXPECT_EQ(beta_given.train.beta, 0.3) << want.algorithm;
  }
}

TEST(FlagsTest, ApplyDependentDefaultsKeepsTheGivenValues) {
  RunConfig config;
  config.train.algorithm = Algorithm::kDiLoCo;
  config.train.alpha = 0.25;
  config.train.beta = 0.125;

  ApplyDependentDefaults({"--alpha"}, &config);

  EXPECT_EQ(config.train.alpha, 0.25);
  EXPECT_EQ(config.train.beta, 0.9);

  config.train.algorithm = Algorithm::kMinibatchSgd;
  config.train.codec = "fetchsgd";
  config.train.momentum = 0.5;
  config.codec_options.sketch_momentum = 0.25;
  ApplyDependentDefaults({"--momentum"}, &config);
  EXPECT_EQ(config.train.momentum, 0.5);
  EXPECT_EQ(config.codec_options.sketch_momentum, 0.9);

  // Changing the codec back moves the momentum back to the optimizer.
  config.train.codec = "topk";
  ApplyDependentDefaults({}, &config);
  EXPECT_EQ(config.train.momentum, 0.9);
  EXPECT_EQ(config.codec_options.sketch_momentum, 0.0);
}

// FetchSGD with minibatch SGD keeps its momentum in sketch space on the
// server: --sketch-momentum 0.9 and --momentum 0 unless given. The local
// methods keep their workers' momentum, and the other codecs theirs.
TEST(FlagsTest, FetchSgdKeepsItsMomentumInSketchSpace) {
  struct Want {
    const char* algorithm;
    const char* codec;
    double momentum;
    double sketch_momentum;
  };
  for (const Want& want : {Want{"minibatch-sgd", "fetchsgd", 0.0, 0.9},
                           Want{"local-sgd", "fetchsgd", 0.9, 0.0},
                           Want{"overlap-local-sgd", "fetchsgd", 0.9, 0.0},
                           Want{"slowmo", "fetchsgd", 0.9, 0.0},
                           Want{"diloco", "fetchsgd", 0.9, 0.0},
                           Want{"local-sgd", "sketch", 0.9, 0.0},
                           Want{"minibatch-sgd", "topk", 0.9, 0.0}}) {
    const std::vector<std::string> flags = {
        std::string("--algorithm=") + want.algorithm,
        std::string("--codec=") + want.codec};
    const RunConfig config = ParseOk(Role::kSimulate, flags);
    EXPECT_EQ(config.train.momentum, want.momentum)
        << want.algorithm << " " << want.codec;
    EXPECT_EQ(config.codec_options.sketch_momentum, want.sketch_momentum)
        << want.algorithm << " " << want.codec;
  }
  // Either value given is kept; the other keeps its rule.
  const RunConfig momentum = ParseOk(
      Role::kWorker,
      {"--algorithm=minibatch-sgd", "--codec=fetchsgd", "--momentum=0.5"});
  EXPECT_EQ(momentum.train.momentum, 0.5);
  EXPECT_EQ(momentum.codec_options.sketch_momentum, 0.9);
  const RunConfig sketch = ParseOk(
      Role::kServer,
      {"--algorithm=minibatch-sgd", "--codec=fetchsgd", "--sketch-momentum=0"});
  EXPECT_EQ(sketch.train.momentum, 0.0);
  EXPECT_EQ(sketch.codec_options.sketch_momentum, 0.0);
  // A launcher passes the resolved values on: its children agree.
  const RunConfig demo =
      ParseOk(Role::kDemo, {"--algorithm=minibatch-sgd", "--codec=fetchsgd"});
  const RunConfig child =
      ParseOk(Role::kWorker, SharedFlags(demo, Role::kWorker));
  EXPECT_EQ(child.train.momentum, 0.0);
  EXPECT_EQ(child.codec_options.sketch_momentum, 0.9);
}

TEST(FlagsTest, AutoAggregationLeavesItUnset) {
  EXPECT_EQ(ParseOk(Role::kServer, {"--aggregation=auto"}).server.aggregation,
            std::nullopt);
  EXPECT_EQ(ParseOk(Role::kServer, {}).server.aggregation, std::nullopt);
}

struct BadName {
  Role role;
  std::string flag;
  std::string value;
  // Names the message must list.
  std::vector<std::string> known;
};

TEST(FlagsTest, UnknownNameIsAnErrorNamingTheFlagValueAndChoices) {
  const std::vector<BadName> cases = {
      {Role::kDemo,
       "--algorithm",
       "sgd-but-faster",
       {"minibatch-sgd", "local-sgd", "overlap-local-sgd", "slowmo", "diloco"}},
      {Role::kServer, "--aggregation", "maybe", {"auto", "async", "sync"}},
      {Role::kWorker, "--base-buffer", "drop", {"auto", "reset", "keep"}},
      {Role::kWorker,
       "--dqsgd-rule",
       "convex",
       {"nonconvex", "strongly-convex"}},
      {Role::kSimulate,
       "--dataset",
       "mnist",
       {"fashion-mnist", "fashion-mnist-binary", "synthetic-gaussian",
        "synthetic-logistic"}},
      {Role::kServer,
       "--log-level",
       "verbose",
       {"debug", "info", "warning", "error"}},
      {Role::kCompare,
       "--study",
       "bogus",
       {"custom", "woodworth", "overlap", "slowmo", "compression",
        "quantization"}},
      {Role::kCompare, "--algorithms", "sgd", {"local-sgd", "diloco"}},
  };
  for (const BadName& bad : cases) {
    const std::string message =
        ParseError(bad.role, {bad.flag + "=" + bad.value});

    EXPECT_TRUE(StartsWith(message, bad.flag + ": must be one of ")) << message;
    EXPECT_TRUE(Contains(message, "(got " + bad.value + ")")) << message;
    for (const std::string& name : bad.known) {
      EXPECT_TRUE(Contains(message, name)) << bad.flag << ": " << message;
    }
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  }
}

TEST(FlagsTest, UnknownNameInAListIsAnError) {
  const std::string message =
      ParseError(Role::kCompare, {"--algorithms=local-sgd,slowmo,sgd"});

  EXPECT_TRUE(StartsWith(message, "--algorithms: must be one of")) << message;
  EXPECT_TRUE(Contains(message, "(got sgd)")) << message;
}

TEST(FlagsTest, UnknownNameInConfigFileIsAnErrorNamingTheFlag) {
  const std::string path = WriteConfigFile("algorithm: sgd\n");

  const std::string message = ParseError(Role::kWorker, {"--config", path});

  EXPECT_TRUE(StartsWith(message, "--algorithm: must be one of")) << message;
  EXPECT_TRUE(Contains(message, "(got sgd)")) << message;
}

TEST(FlagsTest, SketchedCodecsDefaultToSyncAggregation) {
  auto kind = [](Role role, const std::string& codec) {
    const RunConfig config = ParseOk(role, {"--codec=" + codec});
    return config.server.ResolvedAggregation(config.train);
  };
  EXPECT_EQ(kind(Role::kDemo, "sketch"), algo::AggregationMode::kSync);
  EXPECT_EQ(kind(Role::kServer, "fetchsgd"), algo::AggregationMode::kSync);
  EXPECT_EQ(kind(Role::kDemo, "topk"), algo::AggregationMode::kAsync);
}

TEST(FlagsTest, EachRoleAcceptsOnlyItsFlags) {
  EXPECT_EQ(ParseOk(Role::kServer, {"--bind=tcp://127.0.0.1:7000"}).server.bind,
            "tcp://127.0.0.1:7000");
  EXPECT_EQ(ParseOk(Role::kDemo, {"--timeout=12"}).demo.timeout_seconds, 12.0);
  EXPECT_EQ(
      ParseOk(Role::kServer, {"--summary-json=s.json"}).output.summary_json,
      "s.json");
  EXPECT_EQ(ParseOk(Role::kWorker, {"--metrics-port=9100"}).output.metrics_port,
            9100);

  EXPECT_TRUE(
      Contains(ParseError(Role::kWorker, {"--bind=tcp://*:1"}), "--bind"));
  EXPECT_TRUE(
      Contains(ParseError(Role::kServer, {"--worker-id=1"}), "--worker-id"));
  EXPECT_TRUE(Contains(ParseError(Role::kWorker, {"--summary-json=x"}),
                       "--summary-json"));
  EXPECT_TRUE(Contains(ParseError(Role::kDemo, {"--metrics-port=1"}),
                       "--metrics-port"));
  EXPECT_TRUE(
      Contains(ParseError(Role::kServer, {"--timeout=5"}), "--timeout"));

  for (const Role role :
       {Role::kWorker, Role::kDemo, Role::kSimulate, Role::kCompare}) {
    EXPECT_EQ(ParseOk(role, {"--min-step-time=0.25"}).worker.min_step_seconds,
              0.25)
        << RoleName(role);
  }
  EXPECT_TRUE(Contains(ParseError(Role::kServer, {"--min-step-time=0.25"}),
                       "--min-step-time"));
  EXPECT_TRUE(StartsWith(ParseError(Role::kWorker, {"--min-step-time=11"}),
                         "--min-step-time: must be in [0, 10] seconds"));
}

TEST(FlagsTest, UnknownFlagIsAnError) {
  const std::string message = ParseError(Role::kServer, {"--no-such-flag=1"});

  EXPECT_TRUE(Contains(message, "--no-such-flag")) << message;
}

TEST(FlagsTest, PositionalArgumentIsAnError) {
  const std::string message = ParseError(Role::kWorker, {"stray"});

  EXPECT_TRUE(Contains(message, "stray")) << message;
}

TEST(FlagsTest, NonNumericValueIsAnErrorNamingTheFlag) {
  for (const std::string flag :
       {"--local-steps", "--lr", "--workers", "--seed", "--quorum"}) {
    const std::string message = ParseError(Role::kServer, {flag + "=abc"});

    EXPECT_TRUE(Contains(message, flag.substr(2))) << message;
  }
}

TEST(FlagsTest, MissingValueIsAnError) {
  const std::string message = ParseError(Role::kWorker, {"--lr"});

  EXPECT_TRUE(Contains(message, "lr")) << message;
}

TEST(FlagsTest, OutOfRangeValueIsValidated) {
  const std::string message = ParseError(Role::kWorker, {"--local-steps=0"});

  EXPECT_TRUE(StartsWith(message, "--local-steps")) << message;
}

TEST(FlagsTest, HelpReturnsNullopt) {
  for (const char* help : {"--help", "-h"}) {
    CaptureStdout capture;

    const ParseResult result = Parse(Role::kWorker, {help});

    ASSERT_TRUE(result.ok()) << help << ": " << result.status().ToString();
    EXPECT_FALSE(result->has_value()) << help;
    EXPECT_TRUE(Contains(capture.text(), "--local-steps")) << help;
  }
}

TEST(FlagsTest, ConfigFileSetsValues) {
  const std::string path = WriteConfigFile(
      "# a run\n"
      "local-steps: 7\n"
      "weight_decay: 0.001\n"
      "decay-epochs: [1.5, 3]\n"
      "nesterov: true\n"
      "model: \"mlp:64,32\"\n"
      "partition: dirichlet:0.3\n"
      "heartbeat_interval_ms: 125\n"
      "server: tcp://10.1.2.3:5555\n"
      "max_versions: 40\n");

  const RunConfig config = ParseOk(Role::kWorker, {"--config", path});

  EXPECT_EQ(config.train.local_steps, 7);
  EXPECT_EQ(config.train.weight_decay, 0.001);
  EXPECT_EQ(config.train.decay_epochs, (std::vector<double>{1.5, 3.0}));
  EXPECT_TRUE(config.train.nesterov);
  EXPECT_EQ(config.train.model, "mlp:64,32");
  EXPECT_EQ(config.train.partition, "dirichlet:0.3");
  EXPECT_EQ(config.server.heartbeat_interval_ms, 125);
  EXPECT_EQ(config.worker.server, "tcp://10.1.2.3:5555");
  EXPECT_EQ(config.train.max_versions, 40);
  // Keys the file does not mention keep their defaults.
  EXPECT_EQ(config.train.lr, RunConfig().train.lr);
}

TEST(FlagsTest, GivenHoldsTheFlagsOfTheCommandLine) {
  const std::set<std::string> given =
      GivenFlags(Role::kCompare, {"--workers", "8", "--lr=0.1", "--nesterov",
                                  "--study=overlap", "--seed=1"});

  // --seed is given even though 1 is its default.
  EXPECT_EQ(given, (std::set<std::string>{"--workers", "--lr", "--nesterov",
                                          "--study", "--seed"}));
  EXPECT_TRUE(GivenFlags(Role::kCompare, {}).empty());
}

TEST(FlagsTest, GivenHoldsTheKeysOfTheConfigFile) {
  const std::string path = WriteConfigFile(
      "local_steps: 4\n"
      "model: softmax\n"
      "decay-epochs: [1, 2]\n");

  const std::set<std::string> given =
      GivenFlags(Role::kCompare, {"--config=" + path, "--lr", "0.2"});

  EXPECT_EQ(given, (std::set<std::string>{"--local-steps", "--model",
                                          "--decay-epochs", "--lr"}));
}

TEST(FlagsTest, BlockListInConfigFileSetsDecayEpochs) {
  const std::string path = WriteConfigFile(
      "decay_epochs:\n"
      "  - 0.5\n"
      "  - 1\n"
      "  - 2.25\n");

  const RunConfig config = ParseOk(Role::kServer, {"--config=" + path});

  EXPECT_EQ(config.train.decay_epochs, (std::vector<double>{0.5, 1.0, 2.25}));
}

TEST(FlagsTest, CommandLineOverridesConfigFile) {
  const std::string path = WriteConfigFile(
      "local-steps: 7\n"
      "lr: 0.2\n"
      "decay-epochs: [1, 2]\n"
      "codec: dense\n");

  const RunConfig before = ParseOk(
      Role::kWorker, {"--local-steps=9", "--config", path, "--decay-epochs=5"});
  const RunConfig after =
      ParseOk(Role::kWorker, {"--config", path, "--local-steps", "9"});

  EXPECT_EQ(before.train.local_steps, 9);
  EXPECT_EQ(before.train.lr, 0.2);
  EXPECT_EQ(before.train.decay_epochs, std::vector<double>{5.0});
  EXPECT_EQ(after.train.local_steps, 9);
  EXPECT_EQ(after.train.lr, 0.2);
  EXPECT_EQ(after.train.decay_epochs, (std::vector<double>{1.0, 2.0}));
}

TEST(FlagsTest, ConfigFileValuesAreValidated) {
  const std::string path = WriteConfigFile("alpha: 1.5\n");

  const std::string message = ParseError(Role::kWorker, {"--config", path});

  EXPECT_TRUE(StartsWith(message, "--alpha")) << message;
}

TEST(FlagsTest, UnknownConfigKeyIsAnErrorNamingTheKey) {
  const std::string path = WriteConfigFile(
      "lr: 0.1\n"
      "learning_rat: 0.2\n");

  const std::string message = ParseError(Role::kWorker, {"--config", path});

  EXPECT_TRUE(Contains(message, "learning_rat")) << message;
}

TEST(FlagsTest, ConfigKeyOfAnotherRoleIsUnknown) {
  const std::string path = WriteConfigFile("bind: tcp://*:5555\n");

  const std::string message = ParseError(Role::kWorker, {"--config", path});

  EXPECT_TRUE(Contains(message, "bind")) << message;
}

TEST(FlagsTest, ConfigKeyInsideConfigFileIsAnError) {
  const std::string path = WriteConfigFile("config: other.yaml\n");

  const std::string message = ParseError(Role::kWorker, {"--config", path});

  EXPECT_TRUE(Contains(message, "config")) << message;
}

TEST(FlagsTest, InvalidYamlIsAnError) {
  for (const std::string contents :
       {"lr: [0.1, 0.2\n", "lr: 0.1\n  bad indent: [\n", "{unclosed: 1\n"}) {
    const std::string path = WriteConfigFile(contents);

    const std::string message = ParseError(Role::kWorker, {"--config", path});

    EXPECT_FALSE(message.empty()) << contents;
  }
}

TEST(FlagsTest, ConfigFileThatIsNotAMappingIsAnError) {
  const std::string path = WriteConfigFile("- lr\n- 0.1\n");

  const std::string message = ParseError(Role::kWorker, {"--config", path});

  EXPECT_TRUE(Contains(message, "mapping")) << message;
}

TEST(FlagsTest, NestedMappingValueIsAnError) {
  const std::string path = WriteConfigFile("lr:\n  value: 0.1\n");

  const std::string message = ParseError(Role::kWorker, {"--config", path});

  EXPECT_TRUE(Contains(message, "lr")) << message;
}

TEST(FlagsTest, NonNumericConfigValueIsAnErrorNamingTheKey) {
  const std::string path = WriteConfigFile("local_steps: many\n");

  const std::string message = ParseError(Role::kWorker, {"--config", path});

  EXPECT_TRUE(Contains(message, "local-steps") ||
              Contains(message, "local_steps"))
      << message;
}

// A list element that is itself a list or a mapping makes yaml-cpp throw
// YAML::TypedBadConversion from as<std::string>(); ParseCommandLine only
// catches CLI::ParseError, so the exception escapes instead of becoming an
// InvalidArgument.
TEST(FlagsTest, NonScalarListElementInConfigIsAnError) {
  for (const std::string contents :
       {"decay-epochs: [[1, 2], 3]\n", "decay-epochs: [{at: 1}]\n"}) {
    const std::string path = WriteConfigFile(contents);
    ParseResult result = Status::Internal("not run");

    EXPECT_NO_THROW(result = Parse(Role::kWorker, {"--config", path}))
        << contents;

    ASSERT_FALSE(result.ok()) << contents;
    EXPECT_EQ(result.status().code(), Status::Code::kInvalidArgument)
        << contents << result.status().ToString();
  }
}

TEST(FlagsTest, EmptyConfigFileKeepsDefaults) {
  const std::string path = WriteConfigFile("");

  const RunConfig config = ParseOk(Role::kWorker, {"--config", path});

  EXPECT_EQ(config.train.local_steps, RunConfig().train.local_steps);
}

TEST(FlagsTest, MissingConfigFileIsAnError) {
  const std::string path = ::testing::TempDir() + "/no-such-anchorage.yaml";

  const std::string message = ParseError(Role::kWorker, {"--config", path});

  EXPECT_TRUE(Contains(message, "no-such-anchorage.yaml")) << message;
}

// ---------------------------------------------------------------------------
// SharedFlags

void ExpectSameTrainOptions(const TrainOptions& got, const TrainOptions& want) {
  EXPECT_EQ(got.workers, want.workers);
  EXPECT_EQ(got.algorithm, want.algorithm);
  EXPECT_EQ(got.local_steps, want.local_steps);
  EXPECT_EQ(got.base_buffer, want.base_buffer);
  EXPECT_EQ(got.alpha, want.alpha);
  EXPECT_EQ(got.beta, want.beta);
  EXPECT_EQ(got.lr, want.lr);
  EXPECT_EQ(got.momentum, want.momentum);
  EXPECT_EQ(got.nesterov, want.nesterov);
  EXPECT_EQ(got.weight_decay, want.weight_decay);
  EXPECT_EQ(got.batch_size, want.batch_size);
  EXPECT_EQ(got.warmup_epochs, want.warmup_epochs);
  EXPECT_EQ(got.decay_epochs, want.decay_epochs);
  EXPECT_EQ(got.decay_factor, want.decay_factor);
  EXPECT_EQ(got.epochs, want.epochs);
  EXPECT_EQ(got.max_versions, want.max_versions);
  EXPECT_EQ(got.dataset, want.dataset);
  EXPECT_EQ(got.data_dir, want.data_dir);
  EXPECT_EQ(got.data_cache, want.data_cache);
  EXPECT_EQ(got.partition, want.partition);
  EXPECT_EQ(got.model, want.model);
  EXPECT_EQ(got.codec, want.codec);
  EXPECT_EQ(got.seed, want.seed);
}

void ExpectSameCodecOptions(const codec::CodecOptions& got,
                            const codec::CodecOptions& want) {
  EXPECT_EQ(got.bits, want.bits);
  EXPECT_EQ(got.dqsgd_rule, want.dqsgd_rule);
  EXPECT_EQ(got.bit_budget, want.bit_budget);
  EXPECT_EQ(got.qsgd_bucket, want.qsgd_bucket);
  EXPECT_EQ(got.dqsgd_mu, want.dqsgd_mu);
  EXPECT_EQ(got.dqsgd_l, want.dqsgd_l);
  EXPECT_EQ(got.topk_fraction, want.topk_fraction);
  EXPECT_EQ(got.sketch_rows, want.sketch_rows);
  EXPECT_EQ(got.sketch_columns, want.sketch_columns);
  EXPECT_EQ(got.sketch_columns_per_k, want.sketch_columns_per_k);
  EXPECT_EQ(got.sketch_candidates, want.sketch_candidates);
  EXPECT_EQ(got.sketch_momentum, want.sketch_momentum);
}

RunConfig UnusualConfig() {
  RunConfig config;
  TrainOptions& t = config.train;
  t.workers = 13;
  t.algorithm = Algorithm::kLocalSgd;
  t.local_steps = 17;
  t.alpha = 0.1234567890123;
  t.beta = 0.98765432109876543;
  t.lr = 0.1234567890123;
  t.momentum = 1.0 / 3.0;
  t.nesterov = true;
  t.standardize = true;
  t.weight_decay = std::nextafter(1e-4, 1.0);
  t.batch_size = 77;
  t.warmup_epochs = 0.1;
  t.decay_epochs = {1.5, 3};
  t.decay_factor = 0.3;
  t.epochs = std::nextafter(2.0, 3.0);
  t.max_versions = 123456789012;
  t.base_buffer = BaseBuffer::kKeep;
  t.dataset = data::DatasetKind::kSyntheticLogistic;
  t.data_dir = "/tmp/anchorage data";
  t.data_cache = "/tmp/anchorage cache";
  t.partition = "dirichlet:0.25";
  t.model = "mlp:17,9";
  t.codec = "dqsgd";
  codec::CodecOptions& o = config.codec_options;
  o.bits = 7;
  o.dqsgd_rule = codec::DqsgdRule::kStronglyConvex;
  o.bit_budget = 5.25;
  o.qsgd_bucket = 2048;
  o.dqsgd_mu = 0.0625;
  o.dqsgd_l = 3.0 / 7.0;
  o.topk_fraction = 1.0 / 7.0;
  o.sketch_rows = 3;
  o.sketch_columns = 12345;
  o.sketch_columns_per_k = 17;
  o.sketch_candidates = 6;
  o.sketch_momentum = 0.3;
  t.seed = std::numeric_limits<uint64_t>::max();
  ServerOptions& s = config.server;
  s.aggregation = algo::AggregationMode::kSync;
  s.round_deadline_seconds = 0.75;
  s.quorum = 2.0 / 3.0;
  s.reply_wait = 1.0 / 3.0;
  s.start_wait_seconds = 1.0 / 7.0;
  s.push_credits = 7;
  s.heartbeat_interval_ms = 37;
  s.heartbeat_liveness = 5;
  s.eval_interval_seconds = 0.0;
  s.eval_examples = 1000000007;
  config.worker.server_timeout_seconds = 12.345;
  config.worker.link_latency_seconds = 0.0123;
  config.worker.link_bandwidth_bytes = 1.5e6;
  config.worker.min_step_seconds = 1.0 / 3.0;
  config.output.log_level = LogLevel::kDebug;
  return config;
}

TEST(SharedFlagsTest, RoundTripReproducesTrainOptionsExactly) {
  const RunConfig config = UnusualConfig();
  ASSERT_TRUE(config.Validate().ok()) << config.Validate().ToString();

  const RunConfig parsed =
      ParseOk(Role::kWorker, SharedFlags(config, Role::kWorker));

  ExpectSameTrainOptions(parsed.train, config.train);
  ExpectSameCodecOptions(parsed.codec_options, config.codec_options);
}

TEST(SharedFlagsTest, RoundTripReproducesServerTuningAndTimeouts) {
  const RunConfig config = UnusualConfig();

  for (const Role role : {Role::kServer, Role::kWorker, Role::kDemo}) {
    const RunConfig parsed = ParseOk(role, SharedFlags(config, role));

    EXPECT_EQ(parsed.server.aggregation, config.server.aggregation);
    EXPECT_EQ(parsed.server.round_deadline_seconds,
              config.server.round_deadline_seconds);
    EXPECT_EQ(parsed.server.quorum, config.server.quorum);
    EXPECT_EQ(parsed.server.reply_wait, config.server.reply_wait);
    EXPECT_EQ(parsed.server.start_wait_seconds,
              config.server.start_wait_seconds);
    EXPECT_EQ(parsed.server.push_credits, config.server.push_credits);
    EXPECT_EQ(parsed.server.heartbeat_interval_ms,
              config.server.heartbeat_interval_ms);
    EXPECT_EQ(parsed.server.heartbeat_liveness,
              config.server.heartbeat_liveness);
    EXPECT_EQ(parsed.server.eval_interval_seconds,
              config.server.eval_interval_seconds);
    EXPECT_EQ(parsed.server.eval_examples, config.server.eval_examples);
    EXPECT_EQ(parsed.worker.server_timeout_seconds,
              config.worker.server_timeout_seconds);
    EXPECT_EQ(parsed.output.log_level, config.output.log_level);
    ExpectSameTrainOptions(parsed.train, config.train);
    ExpectSameCodecOptions(parsed.codec_options, config.codec_options);
  }
}

// The flag names in `arguments` ("--lr" for "--lr=0.05").
std::set<std::string> FlagNames(const std::vector<std::string>& arguments) {
  std::set<std::string> names;
  for (const std::string& argument : arguments) {
    names.insert(argument.substr(0, argument.find('=')));
  }
  return names;
}

TEST(SharedFlagsTest, PassesOnTheRunSettingsTheChildAccepts) {
  const std::vector<std::string> every_role = {"--workers",
                                               "--algorithm",
                                               "--local-steps",
                                               "--alpha",
                                               "--beta",
                                               "--base-buffer",
                                               "--lr",
                                               "--momentum",
                                               "--weight-decay",
                                               "--batch-size",
                                               "--warmup-epochs",
                                               "--decay-factor",
                                               "--epochs",
                                               "--max-versions",
                                               "--dataset",
                                               "--partition",
                                               "--model",
                                               "--codec",
                                               "--bits",
                                               "--dqsgd-rule",
                                               "--bit-budget",
                                               "--qsgd-bucket",
                                               "--dqsgd-mu",
                                               "--dqsgd-l",
                                               "--topk",
                                               "--sketch-rows",
                                               "--sketch-columns",
                                               "--sketch-columns-per-k",
                                               "--sketch-candidates",
                                               "--sketch-momentum",
                                               "--seed",
                                               "--round-deadline",
                                               "--quorum",
                                               "--aggregation-rule",
                                               "--max-update-norm",
                                               "--update-norm-factor",
                                               "--publish-every",
                                               "--max-staleness",
                                               "--reply-wait",
                                               "--start-wait",
                                               "--staleness-weight",
                                               "--anchor-codec",
                                               "--push-credits",
                                               "--heartbeat-interval-ms",
                                               "--heartbeat-liveness",
                                               "--eval-interval",
                                               "--eval-examples",
                                               "--server-timeout",
                                               "--log-level",
                                               "--link-latency",
                                               "--link-bandwidth"};
  // Flags whose unset value is the parser's default are left out.
  const std::vector<std::string> when_set = {
      "--nesterov",   "--standardize", "--decay-epochs", "--data-dir",
      "--data-cache", "--aggregation", "--slowdown"};
  RunConfig config = UnusualConfig();
  config.worker.slowdown = "0:2";

  for (const Role child : {Role::kServer, Role::kWorker, Role::kDemo}) {
    std::set<std::string> always(every_role.begin(), every_role.end());
    // The server does not step, so it takes no step-time floor.
    if (child != Role::kServer) always.insert("--min-step-time");
    std::set<std::string> all = always;
    all.insert(when_set.begin(), when_set.end());

    EXPECT_EQ(FlagNames(SharedFlags(RunConfig(), child)), always)
        << RoleName(child);
    EXPECT_EQ(FlagNames(SharedFlags(config, child)), all) << RoleName(child);
  }
}

TEST(SharedFlagsTest, RoundTripReproducesInjectedDelays) {
  RunConfig config = UnusualConfig();
  config.worker.slowdown = "0:4,3:2";

  for (const Role role : {Role::kWorker, Role::kDemo}) {
    const RunConfig parsed = ParseOk(role, SharedFlags(config, role));

    EXPECT_EQ(parsed.worker.link_latency_seconds,
              config.worker.link_latency_seconds);
    EXPECT_EQ(parsed.worker.link_bandwidth_bytes,
              config.worker.link_bandwidth_bytes);
    EXPECT_EQ(parsed.worker.slowdown, config.worker.slowdown);
    EXPECT_EQ(parsed.worker.min_step_seconds, config.worker.min_step_seconds);
  }
}

TEST(SharedFlagsTest, RoundTripOfDefaultsGivesDefaults) {
  const RunConfig config;

  const RunConfig parsed =
      ParseOk(Role::kWorker, SharedFlags(config, Role::kWorker));

  ExpectSameTrainOptions(parsed.train, config.train);
  ExpectSameCodecOptions(parsed.codec_options, config.codec_options);
  EXPECT_EQ(parsed.server.aggregation, std::nullopt);
}

TEST(SharedFlagsTest, OverridesAConfigFileWhenPassedAlongIt) {
  const RunConfig config = UnusualConfig();
  const std::string path = WriteConfigFile(
      "lr: 0.5\n"
      "nesterov: false\n"
      "decay-epochs: [7, 8, 9]\n");
  std::vector<std::string> args = SharedFlags(config, Role::kWorker);
  args.push_back("--config=" + path);

  const RunConfig parsed = ParseOk(Role::kWorker, args);

  ExpectSameTrainOptions(parsed.train, config.train);
  ExpectSameCodecOptions(parsed.codec_options, config.codec_options);
}

TEST(SharedFlagsTest, RandomValuesRoundTripExactly) {
  // Doubles drawn over the whole valid range, seeded.
  constexpr uint32_t kSeed = 31337;
  std::mt19937_64 random(kSeed);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  for (int trial = 0; trial < 200; ++trial) {
    RunConfig config;
    config.train.alpha = unit(random);
    config.train.beta = unit(random) * 0.999;
    config.train.lr = std::ldexp(unit(random) + 0.001, -(trial % 40));
    config.train.momentum = unit(random) * 0.999;
    config.train.weight_decay = std::ldexp(unit(random), -(trial % 60));
    config.train.epochs = unit(random) * 1000.0;
    config.server.quorum = unit(random) * 0.9 + 0.1;

    const RunConfig parsed =
        ParseOk(Role::kWorker, SharedFlags(config, Role::kWorker));

    ExpectSameTrainOptions(parsed.train, config.train);
    ExpectSameCodecOptions(parsed.codec_options, config.codec_options);
    EXPECT_EQ(parsed.server.quorum, config.server.quorum);
    if (::testing::Test::HasFailure()) {
      ADD_FAILURE() << "trial " << trial << " (seed " << kSeed << ")";
      break;
    }
  }
}

}  // namespace
}  // namespace anchorage::config
