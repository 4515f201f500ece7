#include "compare/process_runner.h"

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <optional>
#include <system_error>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "common/algo/algorithm.h"
#include "common/config/flags.h"
#include "launcher/process.h"

namespace anchorage::compare {
namespace {

constexpr double kUnknown = std::numeric_limits<double>::quiet_NaN();

std::string Exact(double value) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.17g", value);
  return text;
}

// Reads the demo's summary JSON (yaml-cpp reads JSON) into an outcome whose
// trace is the server's evaluations. Counts known only in total are spread
// over the evaluations in proportion to the anchor version: every version
// costs the same pushes with a dense codec.
StatusOr<RunOutcome> ReadDemoSummary(const std::string& path) {
  RunOutcome outcome;
  try {
    const YAML::Node root = YAML::LoadFile(path);
    const auto final_version = root["anchor_version"].as<double>();
    const auto samples = root["samples"].as<double>();
    const auto epochs = root["epochs"].as<double>();
    const auto bytes_up = root["bytes_up"].as<int64_t>();
    const auto bytes_down = root["bytes_down"].as<int64_t>();
    const auto wall = root["wall_seconds"].as<double>();
    outcome.final_test_accuracy = root["test_accuracy"].as<double>();
    outcome.final_test_loss = root["test_loss"].as<double>();
    outcome.final_train_loss = root["train_loss"].as<double>();
    outcome.sync_wait_seconds = root["sync_wait_seconds_mean"].as<double>();
    outcome.seconds = wall;
    outcome.bytes_up = bytes_up;
    outcome.bytes_down = bytes_down;
    for (const YAML::Node& e : root["evaluations"]) {
      TracePoint point;
      point.virtual_seconds = e["seconds"].as<double>();
      point.version = e["version"].as<uint64_t>();
      const double share =
          final_version > 0 ? static_cast<double>(point.version) / final_version
                            : (wall > 0 ? point.virtual_seconds / wall : 1.0);
      point.examples = std::llround(samples * share);
      point.epoch = epochs * share;
      point.bytes_up = std::llround(static_cast<double>(bytes_up) * share);
      point.bytes_down = std::llround(static_cast<double>(bytes_down) * share);
      point.test_accuracy = e["accuracy"].as<double>();
      point.test_loss = e["loss"].as<double>();
      point.train_loss = kUnknown;
      point.sync_wait_seconds_mean = kUnknown;
      outcome.trace.push_back(point);
    }
  } catch (const YAML::Exception& e) {
    return Status::DataLoss("cannot read the demo's summary " + path + ": " +
                            e.what());
  }
  if (outcome.trace.empty()) {
    return Status::DataLoss("the demo's summary " + path +
                            " has no evaluations");
  }
  outcome.trace.back().train_loss = outcome.final_train_loss;
  outcome.trace.back().sync_wait_seconds_mean = outcome.sync_wait_seconds;
  return outcome;
}

}  // namespace

StatusOr<RunOutcome> RunAsProcess(const RunSpec& spec,
                                  const ProcessRunOptions& options, int index) {
  const std::string dir = options.work_dir + "/run-" + std::to_string(index);
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error) {
    return Status::Unavailable("cannot create " + dir + ": " + error.message());
  }
  const std::string summary = dir + "/summary.json";
  std::filesystem::remove(summary, error);
  std::vector<std::string> argv = {options.executable, "demo"};
  for (std::string& flag :
       config::SharedFlags(spec.config, config::Role::kDemo)) {
    argv.push_back(std::move(flag));
  }
  argv.insert(argv.end(), {"--summary-json=" + summary, "--progress-interval=0",
                           "--timeout=" + Exact(options.timeout_seconds)});
  const std::string log = dir + "/demo.log";
  StatusOr<launcher::ChildProcess> child =
      launcher::ChildProcess::Spawn(argv, log);
  if (!child.ok()) return child.status();
  // The demo enforces its own timeout; the margin covers its teardown.
  const auto deadline = std::chrono::milliseconds(
      std::llround((options.timeout_seconds + 60.0) * 1000.0));
  std::optional<int> code = child->WaitFor(deadline);
  if (!code) {
    child->Stop(std::chrono::milliseconds(5000));
    return Status::Unavailable("anchorage demo did not finish in time; see " +
                               log);
  }
  if (*code != 0) {
    return Status::Unavailable("anchorage demo exited with code " +
                               std::to_string(*code) + "; see " + log + ":\n" +
                               launcher::TailOfFile(log, 5));
  }
  StatusOr<RunOutcome> outcome = ReadDemoSummary(summary);
  if (!outcome.ok()) return outcome.status();
  outcome->setting = spec.setting;
  outcome->label = spec.label;
  outcome->algorithm = algo::AlgorithmName(spec.config.train.algorithm);
  outcome->lr = spec.config.train.lr;
  return outcome;
}

}  // namespace anchorage::compare
