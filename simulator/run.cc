#include "simulator/run.h"

#include <cstdio>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/algo/algorithm.h"
#include "common/algo/push_codec.h"
#include "common/algo/sketch_step.h"
#include "common/algo/trainer.h"
#include "common/codec/codec.h"
#include "common/codec/sketch_codec.h"
#include "common/data/dataset.h"
#include "common/data/partition.h"
#include "common/io/json.h"
#include "common/model/model.h"
#include "common/service/startup.h"

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
  if (!config.simulate.random_slowdown.empty()) {
    config::ParseRandomSlowdown(config.simulate.random_slowdown,
                                &delay.random_slowdown_probability,
                                &delay.random_slowdown_factor);
  }
  return delay;
}

// One round of the sketched codecs between in-process workers, every one
// of which pushed `encoded` this round: sum the sketches, the second round
// (sketch), the k-sparse update into the aggregator, the workers' zeroing.
// Its messages are charged their bytes; the simulator does not delay the
// round by the second round trip.
Simulator<float>::RoundTraffic SketchRound(
    algo::SketchStep& step, std::vector<algo::PushEncoder>& encoders,
    const std::vector<std::vector<uint8_t>>& encoded, int64_t envelope_bytes,
    algo::Aggregator* aggregator) {
  Simulator<float>::RoundTraffic traffic;
  step.Begin();
  for (const std::vector<uint8_t>& sketch : encoded) {
    ANCHORAGE_CHECK(step.AddSketch(sketch).ok(), "summing simulated sketches");
  }
  const auto workers = static_cast<int64_t>(encoders.size());
  if (step.asks_exact_values()) {
    const std::vector<uint32_t>& candidates = step.Candidates();
    std::vector<float> values(candidates.size());
    for (algo::PushEncoder& encoder : encoders) {
      const auto& codec =
          dynamic_cast<const codec::SketchCodec&>(encoder.codec());
      ANCHORAGE_CHECK(codec.ExactValues(candidates, values).ok(),
                      "exact values of a simulated worker");
      ANCHORAGE_CHECK(
          step.AddExact({reinterpret_cast<const uint8_t*>(values.data()),
                         values.size() * sizeof(float)})
              .ok(),
          "summing simulated exact values");
    }
    const auto query_bytes =
        static_cast<int64_t>(candidates.size() * sizeof(float)) +
        envelope_bytes;
    traffic.down += workers * query_bytes;
    traffic.up += workers * query_bytes;
  }
  const std::vector<uint32_t>& applied = step.Finish(aggregator);
  if (step.asks_exact_values()) {
    for (algo::PushEncoder& encoder : encoders) {
      auto& codec = dynamic_cast<codec::SketchCodec&>(encoder.codec());
      ANCHORAGE_CHECK(codec.Applied(applied).ok(), "zeroing applied values");
    }
    traffic.down +=
        workers * static_cast<int64_t>(applied.size() * sizeof(uint32_t));
  }
  return traffic;
}

}  // namespace

StatusOr<SimulationResult<float>> SimulateRun(
    const config::RunConfig& config,
    const std::function<void(const TracePoint&)>& on_trace) {
  const config::TrainOptions& train = config.train;
  StatusOr<data::TrainTest> loaded =
      data::LoadDataset(train.dataset, train.data_dir, train.seed);
  if (!loaded.ok()) return loaded.status();
  const data::TrainTest data = std::move(loaded).value();
  StatusOr<data::Partition> partition =
      data::MakePartition(train.partition, data.train.labels,
                          data.train.num_classes, train.workers, train.seed);
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
  std::vector<algo::PushEncoder> encoders;
  for (int id = 0; id < train.workers; ++id) {
    StatusOr<std::unique_ptr<codec::Codec>> codec =
        codec::MakeCodec(train.codec, dim, train.CodecSettings(id, planned));
    if (!codec.ok()) return codec.status();
    encoders.emplace_back(train.algorithm, std::move(codec).value());
  }
  const std::unique_ptr<codec::Codec> decoder =
      codec::MakeCodec(train.codec, dim, train.CodecSettings(0, planned))
          .value();
  // The sketched codecs decode per round (algo/sketch_step.h): each push's
  // sketch waits for the round hook, the aggregator gets a placeholder.
  const std::unique_ptr<algo::SketchStep> step = algo::SketchStep::For(
      *decoder, encoders.front().relative(), train.sketch_momentum);
  std::vector<std::vector<uint8_t>> encoded(encoders.size());
  auto transmit = [&](int worker, std::span<const float> base,
                      std::span<float> contribution) {
    algo::PushEncoder& encoder = encoders[static_cast<size_t>(worker)];
    std::vector<uint8_t>& bytes = encoded[static_cast<size_t>(worker)];
    Status encode = encoder.Encode(base, contribution, &bytes);
    if (!encode.ok()) {
      return StatusOr<int64_t>(Status::FailedPrecondition(
          "worker " + std::to_string(worker) + ": " + encode.message()));
    }
    if (step != nullptr) {
      step->Placeholder(base, contribution);
    } else {
      ANCHORAGE_CHECK(algo::DecodePush(*decoder, encoder.relative(), base,
                                       bytes, contribution)
                          .ok(),
                      "decoding a simulated push");
    }
    return StatusOr<int64_t>(static_cast<int64_t>(bytes.size()));
  };

  SimulationOptions options;
  options.round = {.algorithm = train.algorithm,
                   .local_steps = train.local_steps,
                   .alpha = train.alpha,
                   .reset_momentum = train.reset_base_buffer()};
  options.aggregator = config::AggregatorSettings(config);
  options.schedule = sgd;
  options.examples_per_epoch = data.train.size();
  options.epochs = train.epochs;
  options.max_versions = train.max_versions;
  options.eval_points = config.simulate.eval_points;
  options.delay = DelaysFor(config);
  options.seed = train.seed;
  Simulator<float> simulator(options, std::move(learners), initial, evaluate,
                             transmit);
  if (on_trace) simulator.set_on_trace(on_trace);
  if (step != nullptr) {
    simulator.set_round_hook([&](algo::Aggregator& aggregator) {
      return SketchRound(*step, encoders, encoded, options.envelope_bytes,
                         &aggregator);
    });
  }
  return simulator.Run();
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

Status WriteSimulationSummary(const std::string& path,
                              const config::RunConfig& config,
                              const SimulationResult<float>& result) {
  const TracePoint& last = result.trace.back();
  io::JsonObject json;
  json.Add("algorithm",
           std::string(algo::AlgorithmName(config.train.algorithm)))
      .Add("simulated", true);
  service::AddRunSettings(config, &json);
  json.Add("anchor_version", result.anchor_version)
      .Add("test_accuracy", last.test_accuracy)
      .Add("test_loss", last.test_loss)
      .Add("train_loss", result.train_loss)
      .Add("wall_seconds", result.virtual_seconds)
      .Add("virtual_seconds", result.virtual_seconds)
      .Add("epochs", last.epoch)
      .Add("samples", result.examples);
  service::AddTraffic(result.bytes_up, result.bytes_down, result.raw_bytes_up,
                      &json);
  json.Add("pushes_applied", result.pushes_applied)
      .Add("pushes_stale", result.pushes_stale)
      .Add("staleness_mean", result.staleness_mean)
      .Add("sync_wait_seconds_mean", result.sync_wait_seconds_mean)
      .Add("compute_seconds_mean", result.compute_seconds_mean);
  return io::WriteFileAtomically(path, json.ToString());
}

}  // namespace anchorage::simulator
