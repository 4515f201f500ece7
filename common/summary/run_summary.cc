#include "common/summary/run_summary.h"

#include <limits>

#include "common/codec/codec.h"
#include "common/io/json.h"

namespace anchorage::summary {
namespace {

using io::Json;

// A key written from other fields and ignored on reading; not written when
// empty.
struct Derived {
  std::optional<double> value;
};

// Calls visit(key, field) for every key of `summary` in the order written:
// one list for writing and reading, so the two cannot drift apart.
template <typename Summary, typename Visit>
void ForEachKey(Summary& s, const Visit& visit) {
  visit("algorithm", s.algorithm);
  visit("aggregation", s.aggregation);
  visit("workers", s.workers);
  visit("dataset", s.dataset);
  visit("model", s.model);
  visit("codec", s.codec);
  visit("partition", s.partition);
  visit("local_steps", s.local_steps);
  visit("alpha", s.alpha);
  visit("beta", s.beta);
  visit("lr", s.lr);
  visit("batch_size", s.batch_size);
  visit("seed", s.seed);
  visit("simulated", s.simulated);
  visit("anchor_version", s.anchor_version);
  visit("test_accuracy", s.test_accuracy);
  visit("test_loss", s.test_loss);
  visit("train_loss", s.train_loss);
  visit("wall_seconds", s.wall_seconds);
  visit("virtual_seconds",
        Derived{s.simulated ? std::optional(s.wall_seconds) : std::nullopt});
  visit("demo_wall_seconds", s.demo_wall_seconds);
  visit("training_seconds", s.training_seconds);
  visit("startup_seconds", s.startup_seconds);
  visit("first_steps_unix_seconds", s.first_steps_unix_seconds);
  visit("epochs", s.epochs);
  visit("samples", s.samples);
  visit("bytes_up", s.bytes_up);
  visit("bytes_down", s.bytes_down);
  visit("raw_bytes_up", s.raw_bytes_up);
  visit("compression_ratio", Derived{s.compression_ratio()});
  visit("quantization_bits_mean", s.quantization_bits_mean);
  visit("anchor_changes_mean", s.anchor_changes_mean);
  visit("pushes_applied", s.pushes_applied);
  visit("pushes_rejected", s.pushes_rejected);
  visit("pushes_stale", s.pushes_stale);
  visit("stale_dropped", s.stale_dropped);
  visit("rejected_messages", s.rejected_messages);
  visit("rejected_by_reason", s.rejected_by_reason);
  visit("staleness_mean", s.staleness_mean);
  visit("sync_wait_seconds_mean", s.sync_wait_seconds_mean);
  visit("compute_seconds_mean", s.compute_seconds_mean);
  visit("encode_seconds_mean", s.encode_seconds_mean);
  visit("lost_workers", s.lost_workers);
  visit("stop_reason", s.stop_reason);
  visit("restarts", s.restarts);
  visit("resumed_from_version", s.resumed_from_version);
  visit("evaluations", s.evaluations);
}

// A NaN or infinity is kept as such: dump() writes it as null.
template <typename T>
void Write(Json& json, const char* key, const T& value) {
  json[key] = value;
}

void Write(Json& json, const char* key, const std::optional<double>& value) {
  if (value) json[key] = *value;
}

void Write(Json& json, const char* key, const Derived& derived) {
  Write(json, key, derived.value);
}

// at() throws out_of_range naming a missing key, get_to() type_error
// naming the JSON pointer of a mistyped value.
template <typename T>
void Read(const Json& json, const char* key, T& value) {
  json.at(key).get_to(value);
}

void Read(const Json& json, const char* key, double& value) {
  const Json& number = json.at(key);
  value = number.is_null() ? std::numeric_limits<double>::quiet_NaN()
                           : number.get<double>();
}

void Read(const Json& json, const char* key, std::optional<double>& value) {
  value.reset();
  if (!json.contains(key)) return;
  Read(json, key, value.emplace());
}

// By value, so it is chosen over the template above for a Derived.
void Read(const Json& /*json*/, const char* /*key*/, Derived /*derived*/) {}

}  // namespace

double RunSummary::compression_ratio() const {
  return codec::CompressionRatio(raw_bytes_up, bytes_up);
}

double RunSummary::seconds_of_training() const {
  return training_seconds.value_or(wall_seconds);
}

double RunSummary::samples_per_second() const {
  const double seconds = seconds_of_training();
  return seconds > 0 ? static_cast<double>(samples) / seconds : 0;
}

void SetRunSettings(const config::RunConfig& config, RunSummary* summary) {
  const config::TrainOptions& train = config.train;
  summary->algorithm = algo::AlgorithmName(train.algorithm);
  summary->aggregation =
      algo::AggregationModeName(config.server.ResolvedAggregation(train));
  summary->workers = train.workers;
  summary->dataset = data::DatasetName(train.dataset);
  summary->model = train.model;
  summary->codec = train.codec;
  summary->partition = train.partition;
  summary->local_steps = train.local_steps;
  summary->alpha = train.alpha;
  summary->beta = train.beta;
  summary->lr = train.lr;
  summary->batch_size = train.batch_size;
  summary->seed = train.seed;
}

void SetRoundStats(const algo::RoundStats& stats, RunSummary* summary) {
  summary->anchor_version = stats.version;
  summary->epochs = stats.epochs;
  summary->samples = stats.samples;
  summary->raw_bytes_up = stats.raw_bytes_up;
  summary->pushes_applied = stats.pushes_applied;
  summary->pushes_rejected = stats.pushes_rejected;
  summary->pushes_stale = stats.pushes_stale;
  summary->stale_dropped = stats.stale_dropped;
  summary->rejected_messages = stats.refused_messages;
  summary->rejected_by_reason = stats.refusals;
  summary->staleness_mean = stats.staleness_mean;
  summary->compute_seconds_mean = stats.compute_seconds_mean;
  summary->sync_wait_seconds_mean = stats.sync_wait_seconds_mean;
  summary->encode_seconds_mean = stats.encode_seconds_mean;
  summary->quantization_bits_mean = stats.quantization_bits_mean;
  summary->train_loss = stats.train_loss;
  summary->lost_workers = stats.lost_workers;
  summary->startup_seconds.reset();
  summary->first_steps_unix_seconds.reset();
  if (stats.first_steps_unix_ns > 0) {
    summary->first_steps_unix_seconds =
        static_cast<double>(stats.first_steps_unix_ns) * 1e-9;
    if (stats.started_unix_ns > 0) {
      summary->startup_seconds = static_cast<double>(stats.first_steps_unix_ns -
                                                     stats.started_unix_ns) *
                                 1e-9;
    }
  }
}

Status WriteRunSummary(const std::string& path, const RunSummary& summary) {
  return io::WriteJsonFile(path, summary);
}

StatusOr<RunSummary> ReadRunSummary(const std::string& path) {
  return io::ReadJsonFile<RunSummary>(path);
}

void to_json(Json& json, const Evaluation& evaluation) {
  json = Json::object();
  Write(json, "seconds", evaluation.seconds);
  Write(json, "version", evaluation.version);
  Write(json, "accuracy", evaluation.accuracy);
  Write(json, "loss", evaluation.loss);
}

void from_json(const Json& json, Evaluation& evaluation) {
  Read(json, "seconds", evaluation.seconds);
  Read(json, "version", evaluation.version);
  Read(json, "accuracy", evaluation.accuracy);
  Read(json, "loss", evaluation.loss);
}

void to_json(Json& json, const RunSummary& summary) {
  json = Json::object();
  ForEachKey(summary, [&json](const char* key, const auto& field) {
    Write(json, key, field);
  });
}

void from_json(const Json& json, RunSummary& summary) {
  ForEachKey(summary, [&json](const char* key, auto&& field) {
    Read(json, key, field);
  });
}

}  // namespace anchorage::summary
