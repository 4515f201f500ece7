#include "common/config/run_config.h"

#include <sstream>
#include <string>

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
  return Status::InvalidArgument(std::string(flag) + ": " + problem +
                                 " (got " + Show(value) + ")");
}

Status PrefixFlag(const char* flag, const Status& status) {
  if (status.ok()) return status;
  return Status::InvalidArgument(std::string(flag) + ": " + status.message());
}

Status ValidateTrain(const TrainOptions& t) {
  if (t.workers < 1 || t.workers > 4096) {
    return Bad("--workers", "must be in [1, 4096]", t.workers);
  }
  if (t.algorithm != "overlap-local-sgd" && t.algorithm != "local-sgd") {
    return Bad("--algorithm", "must be overlap-local-sgd or local-sgd",
               t.algorithm);
  }
  if (t.local_steps < 1) return Bad("--local-steps", "must be >= 1", t.local_steps);
  if (!(t.alpha >= 0.0 && t.alpha <= 1.0)) {
    return Bad("--alpha", "must be in [0, 1]", t.alpha);
  }
  if (!(t.beta >= 0.0 && t.beta < 1.0)) {
    return Bad("--beta", "must be in [0, 1)", t.beta);
  }
  if (!(t.lr > 0.0 && t.lr < 1e3)) return Bad("--lr", "must be > 0", t.lr);
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
  if (!(t.epochs >= 0.0)) return Bad("--epochs", "must be >= 0", t.epochs);
  if (t.max_versions < 0) {
    return Bad("--max-versions", "must be >= 0", t.max_versions);
  }
  if (t.epochs == 0.0 && t.max_versions == 0) {
    return Status::InvalidArgument(
        "--epochs and --max-versions are both 0: the run would never end");
  }
  if (t.dataset != "fashion-mnist" && t.dataset != "synthetic-gaussian" &&
      t.dataset != "synthetic-logistic") {
    return Bad("--dataset",
               "must be fashion-mnist, synthetic-gaussian or "
               "synthetic-logistic",
               t.dataset);
  }
  Status status = PrefixFlag("--partition", data::ValidatePartitionSpec(t.partition));
  if (!status.ok()) return status;
  status = PrefixFlag("--model", model::ValidateModelSpec(t.model));
  if (!status.ok()) return status;
  return PrefixFlag("--codec", codec::ValidateCodecName(t.codec));
}

Status ValidateServer(const ServerOptions& s) {
  if (s.bind.empty()) return Bad("--bind", "must not be empty", s.bind);
  if (!s.aggregation.empty() && s.aggregation != "async" &&
      s.aggregation != "sync") {
    return Bad("--aggregation", "must be async or sync", s.aggregation);
  }
  if (!(s.round_deadline_seconds > 0.0)) {
    return Bad("--round-deadline", "must be > 0", s.round_deadline_seconds);
  }
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
  return Status::Ok();
}

}  // namespace

Algorithm TrainOptions::algorithm_kind() const {
  return algorithm == "local-sgd" ? Algorithm::kLocalSgd
                                  : Algorithm::kOverlapLocalSgd;
}

Aggregation ServerOptions::aggregation_kind(Algorithm algorithm) const {
  if (aggregation == "sync") return Aggregation::kSync;
  if (aggregation == "async") return Aggregation::kAsync;
  return algorithm == Algorithm::kLocalSgd ? Aggregation::kSync
                                           : Aggregation::kAsync;
}

Status RunConfig::Validate() const {
  Status status = ValidateTrain(train);
  if (!status.ok()) return status;
  status = ValidateServer(server);
  if (!status.ok()) return status;
  if (worker.worker_id < 0 || worker.worker_id >= train.workers) {
    return Status::InvalidArgument(
        "--worker-id: must be in [0, --workers) = [0, " +
        std::to_string(train.workers) + ") (got " +
        std::to_string(worker.worker_id) + ")");
  }
  if (!(worker.server_timeout_seconds > 0.0)) {
    return Bad("--server-timeout", "must be > 0", worker.server_timeout_seconds);
  }
  if (output.metrics_port < 0 || output.metrics_port > 65535) {
    return Bad("--metrics-port", "must be in [0, 65535]", output.metrics_port);
  }
  if (output.log_level != "debug" && output.log_level != "info" &&
      output.log_level != "warning" && output.log_level != "error") {
    return Bad("--log-level", "must be debug, info, warning or error",
               output.log_level);
  }
  if (!(demo.progress_interval_seconds >= 0.0)) {
    return Bad("--progress-interval", "must be >= 0",
               demo.progress_interval_seconds);
  }
  if (!(demo.timeout_seconds > 0.0)) {
    return Bad("--timeout", "must be > 0", demo.timeout_seconds);
  }
  return Status::Ok();
}

}  // namespace anchorage::config
