#include "common/config/run_config.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <sstream>
#include <string>

#include "common/algo/anchor_round.h"
#include "common/base/check.h"
#include "common/base/seed.h"
#include "common/codec/codec.h"
#include "common/data/partition.h"
#include "common/model/model.h"

namespace anchorage::config {
namespace {

// Formats a value the way a user typed it.
template <typename T>
std::string Show(const T& value) {
  std::ostringstream out;
  out << value;
  return out.str();
}

template <typename T>
Status Bad(const char* flag, const char* problem, const T& value) {
  return Status::InvalidArgument(std::string(flag) + ": " + problem + " (got " +
                                 Show(value) + ")");
}

Status PrefixFlag(const char* flag, const Status& status) {
  if (status.ok()) return status;
  return Status::InvalidArgument(std::string(flag) + ": " + status.message());
}

// The local optimizer and its schedule.
Status ValidateOptimizer(const TrainOptions& t) {
  if (!(t.lr > 0.0 && t.lr < 1e3)) {
    return Bad("--lr", "must be in (0, 1000)", t.lr);
  }
  if (!(t.momentum >= 0.0 && t.momentum < 1.0)) {
    return Bad("--momentum", "must be in [0, 1)", t.momentum);
  }
  if (!(t.weight_decay >= 0.0)) {
    return Bad("--weight-decay", "must be >= 0", t.weight_decay);
  }
  if (t.batch_size < 1 || t.batch_size > 65536) {
    return Bad("--batch-size", "must be in [1, 65536]", t.batch_size);
  }
  if (!(t.warmup_epochs >= 0.0)) {
    return Bad("--warmup-epochs", "must be >= 0", t.warmup_epochs);
  }
  for (size_t i = 0; i < t.decay_epochs.size(); ++i) {
    if (!(t.decay_epochs[i] > 0.0) ||
        (i > 0 && t.decay_epochs[i] <= t.decay_epochs[i - 1])) {
      return Bad("--decay-epochs", "must be positive and increasing",
                 t.decay_epochs[i]);
    }
  }
  if (!(t.decay_factor > 0.0 && t.decay_factor <= 1.0)) {
    return Bad("--decay-factor", "must be in (0, 1]", t.decay_factor);
  }
  return Status::Ok();
}

Status ValidateTrain(const TrainOptions& t) {
  if (t.workers < 1 || t.workers > 4096) {
    return Bad("--workers", "must be in [1, 4096]", t.workers);
  }
  if (t.local_steps < 1) {
    return Bad("--local-steps", "must be >= 1", t.local_steps);
  }
  if (!(t.alpha >= 0.0 && t.alpha <= 1.0) &&
      !(algo::TraitsOf(t.algorithm).alpha_is_outer_lr && t.alpha > 0.0 &&
        t.alpha <= 10.0)) {
    return Bad("--alpha", "must be in [0, 1] (outer lr: (0, 10])", t.alpha);
  }
  if (!(t.beta >= 0.0 && t.beta < 1.0)) {
    return Bad("--beta", "must be in [0, 1)", t.beta);
  }
  if (algo::TraitsOf(t.algorithm).alpha_is_outer_lr && !(t.alpha > 0.0)) {
    return Bad("--alpha", "(the outer learning rate) must be > 0", t.alpha);
  }
  if (t.algorithm == algo::Algorithm::kOverlapLocalSgd && t.alpha == 1.0) {
    return Bad("--alpha",
               "must be < 1 for overlap-local-sgd: at 1 every pulled model "
               "is the anchor, so the anchor never moves (local-sgd averages "
               "fully)",
               t.alpha);
  }
  Status status = ValidateOptimizer(t);
  if (!status.ok()) return status;
  if (!(t.epochs >= 0.0)) return Bad("--epochs", "must be >= 0", t.epochs);
  if (t.max_versions < 0) {
    return Bad("--max-versions", "must be >= 0", t.max_versions);
  }
  if (t.epochs == 0.0 && t.max_versions == 0) {
    return Status::InvalidArgument(
        "--epochs and --max-versions are both 0: the run would never end");
  }
  status = PrefixFlag("--partition", data::ValidatePartitionSpec(t.partition));
  if (!status.ok()) return status;
  return PrefixFlag("--model", model::ValidateModelSpec(t.model));
}

// The server's waits for its workers: at the start and for a reply.
Status ValidateWaits(const ServerOptions& s) {
  if (!(s.start_wait_seconds >= 0.0 && s.start_wait_seconds < 3600)) {
    return Bad("--start-wait", "must be in [0, 3600) seconds",
               s.start_wait_seconds);
  }
  if (!(s.reply_wait >= 0.0 && s.reply_wait < 1.0)) {
    return Bad("--reply-wait", "must be in [0, 1) (0 = reply at once)",
               s.reply_wait);
  }
  return Status::Ok();
}

Status ValidateServer(const ServerOptions& s) {
  if (s.bind.empty()) return Bad("--bind", "must not be empty", s.bind);
  if (!(s.round_deadline_seconds > 0.0)) {
    return Bad("--round-deadline", "must be > 0", s.round_deadline_seconds);
  }
  if (!(s.max_update_norm >= 0.0 && std::isfinite(s.max_update_norm))) {
    return Bad("--max-update-norm", "must be finite and >= 0",
               s.max_update_norm);
  }
  if (!(s.update_norm_factor == 0.0 ||
        (s.update_norm_factor >= 1.0 && std::isfinite(s.update_norm_factor)))) {
    return Bad("--update-norm-factor", "must be 0 (off) or finite and >= 1",
               s.update_norm_factor);
  }
  if (!algo::IsAnchorCodec(s.anchor_codec)) {
    return Status::InvalidArgument(
        "--anchor-codec: must be dense, fp16 or bf16 (got " + s.anchor_codec +
        ")");
  }
  if (s.publish_every < 0) {
    return Bad("--publish-every", "must be >= 0 (0 = auto)", s.publish_every);
  }
  if (s.push_credits < 0) {
    return Bad("--push-credits", "must be >= 0 (0 = auto)", s.push_credits);
  }
  if (s.shards < 1 || s.shards > 1024) {
    return Bad("--shards", "must be in [1, 1024]", s.shards);
  }
  if (s.shard < 0 || s.shard >= s.shards) {
    return Status::InvalidArgument("--shard: must be in [0, --shards) = [0, " +
                                   std::to_string(s.shards) + ") (got " +
                                   std::to_string(s.shard) + ")");
  }
  if (s.max_staleness < 0) {
    return Bad("--max-staleness", "must be >= 0 (0 = no bound)",
               s.max_staleness);
  }
  Status waits = ValidateWaits(s);
  if (!waits.ok()) return waits;
  if (!(s.quorum > 0.0 && s.quorum <= 1.0)) {
    return Bad("--quorum", "must be in (0, 1]", s.quorum);
  }
  if (s.heartbeat_interval_ms < 1) {
    return Bad("--heartbeat-interval-ms", "must be >= 1",
               s.heartbeat_interval_ms);
  }
  if (s.heartbeat_liveness < 1) {
    return Bad("--heartbeat-liveness", "must be >= 1", s.heartbeat_liveness);
  }
  if (!(s.eval_interval_seconds >= 0.0)) {
    return Bad("--eval-interval", "must be >= 0", s.eval_interval_seconds);
  }
  if (s.eval_examples < 0) {
    return Bad("--eval-examples", "must be >= 0", s.eval_examples);
  }
  if (!(s.checkpoint_interval_seconds > 0.0)) {
    return Bad("--checkpoint-interval", "must be > 0",
               s.checkpoint_interval_seconds);
  }
  if (!(s.idle_timeout_seconds >= 0.0)) {
    return Bad("--idle-timeout", "must be >= 0", s.idle_timeout_seconds);
  }
  return Status::Ok();
}

}  // namespace

optim::SgdOptions TrainOptions::LocalOptimizer(int64_t steps_per_epoch) const {
  optim::SgdOptions sgd;
  sgd.lr = static_cast<float>(lr);
  sgd.momentum = static_cast<float>(momentum);
  sgd.nesterov = nesterov;
  sgd.weight_decay = static_cast<float>(weight_decay);
  const auto per_epoch = static_cast<double>(steps_per_epoch);
  sgd.warmup_steps =
      static_cast<int64_t>(std::llround(warmup_epochs * per_epoch));
  for (const double epoch : decay_epochs) {
    sgd.decay_steps.push_back(
        static_cast<int64_t>(std::llround(epoch * per_epoch)));
  }
  sgd.decay_factor = static_cast<float>(decay_factor);
  return sgd;
}

int64_t TrainOptions::StepsPerEpoch(int64_t train_size) const {
  return std::max<int64_t>(1, train_size / workers / batch_size);
}

codec::CodecOptions RunConfig::CodecSettings(int sender,
                                             int64_t planned_encodes) const {
  codec::CodecOptions options = codec_options;
  options.dqsgd_total_steps = std::max<int64_t>(1, planned_encodes);
  options.dqsgd_learning_rate = train.lr;
  options.seed =
      MixSeed(train.seed, 0xc0dec000 + static_cast<uint64_t>(sender));
  options.sketch_seed = MixSeed(train.seed, 0x5ce7c400);
  return options;
}

codec::CodecOptions RunConfig::ShardCodecSettings(int sender,
                                                  int64_t planned_encodes,
                                                  int shard) const {
  codec::CodecOptions options = CodecSettings(sender, planned_encodes);
  if (shard > 0) {
    options.seed = MixSeed(options.seed, static_cast<uint64_t>(shard));
  }
  return options;
}

int64_t TrainOptions::PlannedPushes(int64_t train_size) const {
  if (epochs > 0) {
    return std::max<int64_t>(
        1, static_cast<int64_t>(std::ceil(
               epochs * static_cast<double>(StepsPerEpoch(train_size)) /
               local_steps)));
  }
  return std::max<int64_t>(1, max_versions / workers);
}

bool TrainOptions::reset_base_buffer() const {
  switch (base_buffer) {
    case BaseBuffer::kAuto:
      return algorithm == Algorithm::kSlowMo;
    case BaseBuffer::kReset:
      return true;
    case BaseBuffer::kKeep:
      return false;
  }
  return false;
}

algo::AggregationMode ServerOptions::ResolvedAggregation(
    const TrainOptions& train) const {
  if (aggregation) return *aggregation;
  return algo::TraitsOf(train.algorithm).overlapped &&
                 !codec::DecidesOnTheRound(train.codec)
             ? algo::AggregationMode::kAsync
             : algo::AggregationMode::kSync;
}

bool ParseRandomSlowdown(const std::string& spec, double* probability,
                         double* factor) {
  const size_t colon = spec.find(':');
  if (colon == std::string::npos) return false;
  char* end = nullptr;
  *probability = std::strtod(spec.c_str(), &end);
  if (end != spec.c_str() + colon) return false;
  *factor = std::strtod(spec.c_str() + colon + 1, &end);
  return *end == '\0' && *probability >= 0.0 && *probability <= 1.0 &&
         *factor >= 1.0 && *factor <= 1000.0;
}

algo::AggregatorOptions AggregatorSettings(const RunConfig& config) {
  const TrainOptions& train = config.train;
  const Algorithm algorithm = train.algorithm;
  algo::AggregatorOptions options = {
      .mode = config.server.ResolvedAggregation(train),
      .outer = {.algorithm = algorithm,
                .alpha = algo::TraitsOf(algorithm).alpha_is_outer_lr
                             ? train.alpha
                             : 1.0,
                .beta = train.beta,
                .momentum = train.momentum,
                .nesterov = train.nesterov,
                .weight_decay = train.weight_decay}};
  // Validated with the config: a bad rule has stopped the run already.
  Status status =
      algo::ParseCombineRule(config.server.aggregation_rule, &options);
  ANCHORAGE_CHECK(status.ok(), "an unvalidated --aggregation-rule");
  return options;
}

Status ValidateSlowdown(const std::string& spec) {
  if (spec.empty()) return Status::Ok();
  const auto bad = [&spec](const std::string& why) {
    return Status::InvalidArgument("--slowdown: " + why + " (got " + spec +
                                   "); use F or i:F,j:G with factors >= 1");
  };
  size_t start = 0;
  while (start <= spec.size()) {
    size_t end = spec.find(',', start);
    if (end == std::string::npos) end = spec.size();
    const std::string item = spec.substr(start, end - start);
    const size_t colon = item.find(':');
    const std::string factor =
        colon == std::string::npos ? item : item.substr(colon + 1);
    if (colon != std::string::npos) {
      char* parse_end = nullptr;
      const int64_t id = std::strtoll(item.c_str(), &parse_end, 10);
      if (parse_end != item.c_str() + colon || id < 0) {
        return bad("bad worker id '" + item.substr(0, colon) + "'");
      }
    } else if (spec.find(',') != std::string::npos) {
      return bad("a list needs i:F items");
    }
    char* parse_end = nullptr;
    const double value = std::strtod(factor.c_str(), &parse_end);
    if (factor.empty() || *parse_end != '\0' || !(value >= 1.0) ||
        value > 1000.0) {
      return bad("bad factor '" + factor + "'");
    }
    start = end + 1;
  }
  return Status::Ok();
}

double WorkerOptions::SlowdownFor(int id) const {
  if (slowdown.empty()) return 1.0;
  if (slowdown.find(':') == std::string::npos) {
    return std::strtod(slowdown.c_str(), nullptr);
  }
  size_t start = 0;
  while (start < slowdown.size()) {
    size_t end = slowdown.find(',', start);
    if (end == std::string::npos) end = slowdown.size();
    const std::string item = slowdown.substr(start, end - start);
    const size_t colon = item.find(':');
    if (colon != std::string::npos &&
        std::strtol(item.c_str(), nullptr, 10) == id) {
      return std::strtod(item.c_str() + colon + 1, nullptr);
    }
    start = end + 1;
  }
  return 1.0;
}

namespace {

Status ValidateWorker(const WorkerOptions& worker, int workers) {
  if (worker.worker_id < 0 || worker.worker_id >= workers) {
    return Status::InvalidArgument(
        "--worker-id: must be in [0, --workers) = [0, " +
        std::to_string(workers) + ") (got " + std::to_string(worker.worker_id) +
        ")");
  }
  if (!(worker.server_timeout_seconds > 0.0)) {
    return Bad("--server-timeout", "must be > 0",
               worker.server_timeout_seconds);
  }
  if (!(worker.link_latency_seconds >= 0.0 &&
        worker.link_latency_seconds < 3600)) {
    return Bad("--link-latency", "must be in [0, 3600) seconds",
               worker.link_latency_seconds);
  }
  if (!(worker.link_bandwidth_bytes >= 0.0)) {
    return Bad("--link-bandwidth", "must be >= 0 bytes/s (0 = unlimited)",
               worker.link_bandwidth_bytes);
  }
  if (worker.servers.size() > 1024) {
    return Bad("--servers", "names at most 1024 shards",
               static_cast<int64_t>(worker.servers.size()));
  }
  for (const std::string& server : worker.servers) {
    if (server.empty()) {
      return Status::InvalidArgument("--servers: an endpoint is empty");
    }
  }
  Status status = ValidateSlowdown(worker.slowdown);
  if (!status.ok()) return status;
  if (!(worker.min_step_seconds >= 0.0 && worker.min_step_seconds <= 10.0)) {
    return Bad("--min-step-time", "must be in [0, 10] seconds",
               worker.min_step_seconds);
  }
  return Status::Ok();
}

Status ValidateOutputs(const OutputOptions& output, const DemoOptions& demo,
                       const SimulateOptions& simulate) {
  if (output.metrics_port < 0 || output.metrics_port > 65535) {
    return Bad("--metrics-port", "must be in [0, 65535]", output.metrics_port);
  }
  if (!(demo.progress_interval_seconds >= 0.0)) {
    return Bad("--progress-interval", "must be >= 0",
               demo.progress_interval_seconds);
  }
  if (!(demo.timeout_seconds > 0.0)) {
    return Bad("--timeout", "must be > 0", demo.timeout_seconds);
  }
  if (!(demo.chaos_interval_seconds >= 0.1)) {
    return Bad("--chaos-interval", "must be >= 0.1 seconds",
               demo.chaos_interval_seconds);
  }
  if (!(simulate.step_seconds > 0.0)) {
    return Bad("--step-time", "must be > 0 seconds", simulate.step_seconds);
  }
  if (!(simulate.server_bandwidth_bytes >= 0.0)) {
    return Bad("--server-bandwidth", "must be >= 0 bytes/s (0 = unlimited)",
               simulate.server_bandwidth_bytes);
  }
  if (!(simulate.step_jitter >= 0.0 && simulate.step_jitter <= 10.0)) {
    return Bad("--step-jitter", "must be in [0, 10]", simulate.step_jitter);
  }
  if (simulate.eval_points < 1 || simulate.eval_points > 100000) {
    return Bad("--eval-points", "must be in [1, 100000]", simulate.eval_points);
  }
  return Status::Ok();
}

Status ValidateCompare(const CompareOptions& compare) {
  if (compare.algorithms.empty()) {
    return Status::InvalidArgument("--algorithms: name at least one");
  }
  if (compare.out_dir.empty()) {
    return Status::InvalidArgument("--out-dir: must not be empty");
  }
  if (!(compare.target_accuracy > 0.0 && compare.target_accuracy <= 1.0)) {
    return Bad("--target-accuracy", "must be in (0, 1]",
               compare.target_accuracy);
  }
  if (compare.jobs < 0 || compare.jobs > 256) {
    return Bad("--jobs", "must be in [0, 256] (0 = one per core)",
               compare.jobs);
  }
  for (size_t i = 0; i < compare.seeds.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (compare.seeds[i] == compare.seeds[j]) {
        return Bad("--seeds", "must not repeat a seed", compare.seeds[i]);
      }
    }
  }
  return Status::Ok();
}

}  // namespace

Status RunConfig::Validate() const {
  Status status = ValidateTrain(train);
  if (!status.ok()) return status;
  status = PrefixFlag(
      "--codec", codec::ValidateCodecOptions(train.codec, CodecSettings(0, 1)));
  if (!status.ok()) return status;
  status = ValidateServer(server);
  if (!status.ok()) return status;
  status = ValidateWorker(worker, train.workers);
  if (!status.ok()) return status;
  if (server.start_wait_seconds >= worker.server_timeout_seconds) {
    return Status::InvalidArgument(
        "--start-wait " + Show(server.start_wait_seconds) +
        " s must be below --server-timeout " +
        Show(worker.server_timeout_seconds) +
        " s, or the workers give up joining before they are welcomed");
  }
  if (security.curve_secret_key.empty() &&
      (!security.curve_allowed_keys.empty() ||
       !security.curve_server_key.empty())) {
    return Status::InvalidArgument(
        "--curve-allowed-keys and --curve-server-key need --curve-secret-key");
  }
  if (server.aggregation == algo::AggregationMode::kAsync &&
      !algo::TraitsOf(train.algorithm).overlapped) {
    return Status::InvalidArgument(
        "--aggregation: async needs --algorithm overlap-local-sgd; " +
        std::string(algo::AlgorithmName(train.algorithm)) +
        " runs in sync rounds");
  }
  algo::AggregatorOptions combine;
  status =
      PrefixFlag("--aggregation-rule",
                 algo::ParseCombineRule(server.aggregation_rule, &combine));
  if (!status.ok()) return status;
  if (combine.combine != algo::CombineRule::kMean &&
      server.ResolvedAggregation(train) != algo::AggregationMode::kSync) {
    return Status::InvalidArgument(
        "--aggregation-rule: " + server.aggregation_rule +
        " combines a whole round, so it needs --aggregation sync");
  }
  if (codec::DecidesOnTheRound(train.codec) &&
      server.ResolvedAggregation(train) == algo::AggregationMode::kAsync) {
    return Status::InvalidArgument(
        "--codec: " + train.codec +
        " sums every worker's message of a round on the server, so it needs "
        "--aggregation sync");
  }
  status = ValidateOutputs(output, demo, simulate);
  if (!status.ok()) return status;
  status = ValidateCompare(compare);
  if (!status.ok()) return status;
  if (!(simulate.fail_rate >= 0.0)) {
    return Bad("--fail-rate", "must be >= 0 per second", simulate.fail_rate);
  }
  if (!(simulate.server_fail_rate >= 0.0)) {
    return Bad("--server-fail-rate", "must be >= 0 per second",
               simulate.server_fail_rate);
  }
  if (!(simulate.restart_seconds > 0.0)) {
    return Bad("--restart-time", "must be > 0 seconds",
               simulate.restart_seconds);
  }
  if (!simulate.random_slowdown.empty()) {
    double probability = 0;
    double factor = 0;
    if (!ParseRandomSlowdown(simulate.random_slowdown, &probability, &factor)) {
      return Bad("--random-slowdown", "must be P:F with P in [0,1], F >= 1",
                 simulate.random_slowdown);
    }
  }
  return Status::Ok();
}

}  // namespace anchorage::config
