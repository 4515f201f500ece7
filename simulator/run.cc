#include "simulator/run.h"

#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/algo/trainer.h"
#include "common/codec/codec.h"
#include "common/config/round_settings.h"
#include "common/config/train_data.h"
#include "common/data/dataset.h"
#include "common/data/partition.h"
#include "common/io/file.h"
#include "common/model/model.h"

namespace anchorage::simulator {
namespace {

std::string Exact(double value) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.17g", value);
  return text;
}

DelayOptions DelaysFor(const config::RunConfig& config) {
  DelayOptions delay;
  delay.step_seconds = config.simulate.step_seconds;
  delay.step_jitter = config.simulate.step_jitter;
  delay.slowdown = config.worker.slowdown;
  delay.link_latency_seconds = config.worker.link_latency_seconds;
  delay.link_bandwidth_bytes = config.worker.link_bandwidth_bytes;
  delay.shards = config.server.shards;
  delay.server_bandwidth_bytes = config.simulate.server_bandwidth_bytes;
  if (!config.simulate.random_slowdown.empty()) {
    config::ParseRandomSlowdown(config.simulate.random_slowdown,
                                &delay.random_slowdown_probability,
                                &delay.random_slowdown_factor);
  }
  return delay;
}

}  // namespace

StatusOr<SimulationResult<float>> SimulateRun(
    const config::RunConfig& config,
    const std::function<void(const TracePoint&)>& on_trace,
    SimulationObserver<float> observer) {
  const config::TrainOptions& train = config.train;
  StatusOr<data::TrainTest> loaded = config::LoadTrainingData(train);
  if (!loaded.ok()) return loaded.status();
  const data::TrainTest data = std::move(loaded).value();
  StatusOr<data::Partition> partition = data::MakePartition(
      train.partition, data.train, train.workers, train.seed);
  if (!partition.ok()) return partition.status();
  StatusOr<std::unique_ptr<model::Model>> eval_model =
      model::MakeModel(train.model, data.train.dim(), data.train.num_classes);
  if (!eval_model.ok()) return eval_model.status();
  std::vector<float> initial(static_cast<size_t>((*eval_model)->dim()));
  (*eval_model)->Initialize(train.seed, initial);

  const optim::SgdOptions sgd =
      train.LocalOptimizer(train.StepsPerEpoch(data.train.size()));
  Status status = sgd.Validate();
  if (!status.ok()) return status;
  std::vector<std::unique_ptr<algo::Learner<float>>> learners;
  learners.reserve(static_cast<size_t>(train.workers));
  for (int id = 0; id < train.workers; ++id) {
    learners.push_back(std::make_unique<algo::Trainer>(
        model::MakeModel(train.model, data.train.dim(), data.train.num_classes)
            .value(),
        &data.train, std::move((*partition)[static_cast<size_t>(id)]),
        train.batch_size, sgd, initial, algo::WorkerSeed(train.seed, id)));
  }

  // Evaluate on the first eval_examples test rows (all by default).
  RowMatrix eval_features;
  std::vector<int32_t> eval_labels;
  const int64_t examples = config.server.eval_examples;
  const bool subset = examples > 0 && examples < data.test.size();
  if (subset) {
    eval_features = data.test.features.topRows(examples);
    eval_labels.assign(data.test.labels.begin(),
                       data.test.labels.begin() + examples);
  }
  model::Model* evaluator = eval_model->get();
  auto evaluate = [&](std::span<const float> anchor) {
    const model::Evaluation evaluation =
        subset
            ? evaluator->Evaluate(anchor, eval_features, eval_labels)
            : evaluator->Evaluate(anchor, data.test.features, data.test.labels);
    return Simulator<float>::Evaluation{evaluation.loss, evaluation.accuracy};
  };

  // Each worker encodes with its own codec (its own error-feedback state and
  // random stream); the server decodes with one more.
  const int64_t dim = static_cast<int64_t>(initial.size());
  const int64_t planned = train.PlannedPushes(data.train.size());
  for (const int sender : {0, Simulator<float>::kServer}) {
    StatusOr<std::unique_ptr<codec::Codec>> codec = codec::MakeCodec(
        train.codec, dim, config.CodecSettings(sender, planned));
    if (!codec.ok()) return codec.status();
  }
  auto make_codec = [&](int sender) {
    return codec::MakeCodec(train.codec, dim,
                            config.CodecSettings(std::max(sender, 0), planned))
        .value();
  };

  SimulationOptions options;
  options.round = {.algorithm = train.algorithm,
                   .local_steps = train.local_steps,
                   .alpha = train.alpha,
                   .reset_momentum = train.reset_base_buffer()};
  options.server = config::RoundSettings(config, data.train.size());
  options.eval_points = config.simulate.eval_points;
  options.delay = DelaysFor(config);
  options.failures = {
      .worker_rate = config.simulate.fail_rate,
      .server_rate = config.simulate.server_fail_rate,
      .restart_seconds = config.simulate.restart_seconds,
      .checkpoint_seconds = config.server.checkpoint_interval_seconds,
      .liveness_seconds = config.server.heartbeat_interval_ms * 1e-3 *
                          config.server.heartbeat_liveness};
  options.seed = train.seed;
  StatusOr<std::unique_ptr<Simulator<float>>> simulator =
      Simulator<float>::Create(options, std::move(learners), initial, evaluate,
                               make_codec);
  if (!simulator.ok()) return simulator.status();
  if (on_trace) (*simulator)->set_on_trace(on_trace);
  (*simulator)->set_observer(std::move(observer));
  SimulationResult<float> result = (*simulator)->Run();
  summary::SetRunSettings(config, &result.summary);
  return result;
}

Status WriteTraceCsv(const std::string& path,
                     const std::vector<TracePoint>& trace) {
  std::string csv =
      "virtual_seconds,version,examples,epoch,train_loss,test_loss,"
      "test_accuracy,bytes_up,bytes_down,sync_wait_seconds_mean\n";
  for (const TracePoint& p : trace) {
    csv += Exact(p.virtual_seconds) + "," + std::to_string(p.version) + "," +
           std::to_string(p.examples) + "," + Exact(p.epoch) + "," +
           Exact(p.train_loss) + "," + Exact(p.test_loss) + "," +
           Exact(p.test_accuracy) + "," + std::to_string(p.bytes_up) + "," +
           std::to_string(p.bytes_down) + "," +
           Exact(p.sync_wait_seconds_mean) + "\n";
  }
  return io::WriteFileAtomically(path, csv);
}

}  // namespace anchorage::simulator
