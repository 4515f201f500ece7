#include "compare/simulated_runner.h"

#include <cstdint>
#include <limits>
#include <utility>

#include "common/algo/algorithm.h"
#include "common/config/train_data.h"
#include "common/data/dataset.h"
#include "common/model/model.h"
#include "compare/traffic.h"
#include "simulator/run.h"

namespace anchorage::compare {

SimulatedRunner::SimulatedRunner() = default;
SimulatedRunner::~SimulatedRunner() = default;

StatusOr<RunOutcome> SimulatedRunner::Run(const RunSpec& spec) {
  const config::TrainOptions& train = spec.config.train;
  StatusOr<simulator::SimulationResult<float>> result =
      simulator::SimulateRun(spec.config, nullptr);
  if (!result.ok()) return result.status();
  if (result->trace.empty()) {
    return Status::Internal("the simulation recorded no evaluation");
  }

  // Synthetic data depends on the seed, so the key includes it.
  const std::string key = std::string(data::DatasetName(train.dataset)) + "\n" +
                          train.data_dir + "\n" + std::to_string(train.seed) +
                          (train.standardize ? "\nstandardized" : "");
  if (dataset_ == nullptr || key != dataset_key_) {
    StatusOr<data::TrainTest> loaded = config::LoadTrainingData(train);
    if (!loaded.ok()) return loaded.status();
    dataset_ = std::make_unique<data::TrainTest>(std::move(loaded).value());
    dataset_key_ = key;
  }
  StatusOr<std::unique_ptr<model::Model>> model = model::MakeModel(
      train.model, dataset_->train.dim(), dataset_->train.num_classes);
  if (!model.ok()) return model.status();
  const model::Evaluation on_train = (*model)->Evaluate(
      result->anchor, dataset_->train.features, dataset_->train.labels);
  const model::Evaluation on_test = (*model)->Evaluate(
      result->anchor, dataset_->test.features, dataset_->test.labels);

  RunOutcome outcome;
  outcome.setting = spec.setting;
  outcome.label = spec.label;
  outcome.lr = train.lr;
  outcome.seed = train.seed;
  outcome.trace = std::move(result->trace);
  // Before any local step there is no training loss to report; waits
  // below a nanosecond are rounding residue of the virtual clock.
  for (TracePoint& point : outcome.trace) {
    if (point.examples == 0) {
      point.train_loss = std::numeric_limits<double>::quiet_NaN();
    }
    if (point.sync_wait_seconds_mean < 1e-9) point.sync_wait_seconds_mean = 0;
  }
  outcome.summary = std::move(result->summary);
  outcome.summary.test_accuracy = on_test.accuracy;
  outcome.summary.test_loss = on_test.loss;
  outcome.summary.train_loss = on_train.loss;
  if (outcome.summary.sync_wait_seconds_mean < 1e-9) {
    outcome.summary.sync_wait_seconds_mean = 0;
  }
  outcome.stopped_early = result->stopped_early;
  outcome.paper_compression =
      PaperCompression(spec.config, static_cast<int64_t>(result->anchor.size()),
                       outcome.summary.anchor_changes_mean);
  return outcome;
}

}  // namespace anchorage::compare
