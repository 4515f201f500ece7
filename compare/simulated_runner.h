// Runs one planned run of `anchorage compare` in process on the simulator's
// virtual clock (the default mode).
//
// Not thread-safe: runs execute one after another on the caller's thread.
#pragma once

#include <memory>
#include <string>

#include "common/base/status.h"
#include "compare/outcome.h"
#include "compare/study.h"

namespace anchorage::data {
struct TrainTest;
}  // namespace anchorage::data

namespace anchorage::compare {

// Runs specs with SimulateRun and evaluates each final anchor on the whole
// training set (the objective; the trace's train loss is the workers'
// recent minibatch loss) and the whole test set. Keeps the last dataset it
// loaded for that evaluation, so a study on one dataset loads it once.
class SimulatedRunner {
 public:
  SimulatedRunner();
  ~SimulatedRunner();
  SimulatedRunner(const SimulatedRunner&) = delete;
  SimulatedRunner& operator=(const SimulatedRunner&) = delete;

  // Returns the outcome of `spec`, or the simulation's, loader's or
  // model's error.
  StatusOr<RunOutcome> Run(const RunSpec& spec);

 private:
  std::string dataset_key_;
  std::unique_ptr<data::TrainTest> dataset_;
};

}  // namespace anchorage::compare
