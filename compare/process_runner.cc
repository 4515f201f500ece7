#include "compare/process_runner.h"

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <optional>
#include <system_error>
#include <utility>
#include <vector>

#include "common/config/flags.h"
#include "common/summary/run_summary.h"
#include "launcher/process.h"

namespace anchorage::compare {
namespace {

constexpr double kUnknown = std::numeric_limits<double>::quiet_NaN();

std::string Exact(double value) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.17g", value);
  return text;
}

// Reads the demo's summary into an outcome whose trace is the server's
// evaluations. Counts known only in total are spread over the evaluations
// in proportion to the anchor version: every version costs the same pushes
// with a dense codec.
StatusOr<RunOutcome> ReadDemoSummary(const std::string& path) {
  StatusOr<summary::RunSummary> read = summary::ReadRunSummary(path);
  if (!read.ok()) return read.status();
  RunOutcome outcome;
  outcome.summary = std::move(read).value();
  const summary::RunSummary& s = outcome.summary;
  if (s.evaluations.empty()) {
    return Status::DataLoss("the demo's summary " + path +
                            " has no evaluations");
  }
  const auto final_version = static_cast<double>(s.anchor_version);
  for (const summary::Evaluation& e : s.evaluations) {
    TracePoint point;
    point.virtual_seconds = e.seconds;
    point.version = e.version;
    const double share =
        final_version > 0
            ? static_cast<double>(e.version) / final_version
            : (s.wall_seconds > 0 ? e.seconds / s.wall_seconds : 1.0);
    point.examples = std::llround(static_cast<double>(s.samples) * share);
    point.epoch = s.epochs * share;
    point.bytes_up = std::llround(static_cast<double>(s.bytes_up) * share);
    point.bytes_down = std::llround(static_cast<double>(s.bytes_down) * share);
    point.test_accuracy = e.accuracy;
    point.test_loss = e.loss;
    point.train_loss = kUnknown;
    point.sync_wait_seconds_mean = kUnknown;
    outcome.trace.push_back(point);
  }
  outcome.trace.back().train_loss = s.train_loss;
  outcome.trace.back().sync_wait_seconds_mean = s.sync_wait_seconds_mean;
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
  outcome->lr = spec.config.train.lr;
  outcome->seed = spec.config.train.seed;
  return outcome;
}

}  // namespace anchorage::compare
