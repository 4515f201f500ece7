#include "compare/compare_command.h"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <system_error>
#include <vector>

#include "common/config/flags.h"
#include "common/report/table.h"
#include "compare/outcome.h"
#include "compare/process_runner.h"
#include "compare/report.h"
#include "compare/simulated_runner.h"
#include "compare/study.h"
#include "launcher/process.h"

namespace anchorage::compare {
namespace {

using report::FormatNumber;

// The command as a user would type it, for summary.md.
std::string CommandLine(int argc, const char* const* argv) {
  std::string text = "anchorage";
  for (int i = 0; i < argc; ++i) {
    const std::string arg = argv[i];
    const bool quote =
        arg.empty() || arg.find_first_of(" \t'\"") != std::string::npos;
    text += " " + (quote ? "'" + arg + "'" : arg);
  }
  return text;
}

std::string RunName(const RunSpec& spec) {
  return spec.setting + " · " + spec.label + " (lr " +
         FormatNumber(spec.config.train.lr, 3) + ")";
}

// Runs every planned run in order, with a progress line on stderr as each
// starts and ends. Returns the outcomes, or nullopt after printing which
// run failed and why.
std::optional<std::vector<RunOutcome>> RunAll(const StudyPlan& plan,
                                              const config::RunConfig& base) {
  SimulatedRunner simulated;
  const ProcessRunOptions process{
      .executable = launcher::SelfExecutable(),
      .work_dir = base.compare.out_dir + "/real-runs",
      .timeout_seconds = base.demo.timeout_seconds};
  const char* clock = base.compare.real ? "wall" : "virtual";
  std::vector<RunOutcome> outcomes;
  const int total = static_cast<int>(plan.runs.size());
  for (int i = 0; i < total; ++i) {
    const RunSpec& spec = plan.runs[static_cast<size_t>(i)];
    const std::string name = RunName(spec);
    std::fprintf(stderr, "[%d/%d] %s: started\n", i + 1, total, name.c_str());
    const auto start = std::chrono::steady_clock::now();
    StatusOr<RunOutcome> outcome = base.compare.real
                                       ? RunAsProcess(spec, process, i + 1)
                                       : simulated.Run(spec);
    if (!outcome.ok()) {
      std::fprintf(stderr, "anchorage compare: run %d/%d (%s) failed: %s\n",
                   i + 1, total, name.c_str(),
                   outcome.status().message().c_str());
      return std::nullopt;
    }
    const double wall =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
            .count();
    std::fprintf(stderr,
                 "[%d/%d] %s: finished: test accuracy %.4f, train loss %.4f, "
                 "%.2f %s s, sync wait %.3f s (%.1f s wall)\n",
                 i + 1, total, name.c_str(), outcome->summary.test_accuracy,
                 outcome->summary.train_loss, outcome->summary.wall_seconds,
                 clock, outcome->summary.sync_wait_seconds_mean, wall);
    if (!outcome->stopped_early.empty()) {
      std::fprintf(stderr, "[%d/%d] %s: stopped early: %s\n", i + 1, total,
                   name.c_str(), outcome->stopped_early.c_str());
    }
    outcomes.push_back(std::move(outcome).value());
  }
  return outcomes;
}

}  // namespace

int RunCompareCommand(int argc, const char* const* argv) {
  StatusOr<std::optional<config::ParsedCommandLine>> parsed =
      config::ParseCommandLine(config::Role::kCompare, argc, argv);
  if (!parsed.ok()) {
    std::fprintf(stderr, "anchorage compare: %s\n",
                 parsed.status().message().c_str());
    return 2;
  }
  if (!parsed->has_value()) return 0;
  const config::RunConfig& base = (*parsed)->config;
  const StudyPlan plan = PlanStudy(base, (*parsed)->given);
  std::error_code error;
  std::filesystem::create_directories(base.compare.out_dir, error);
  if (error) {
    std::fprintf(stderr, "anchorage compare: cannot create %s: %s\n",
                 base.compare.out_dir.c_str(), error.message().c_str());
    return 1;
  }
  std::fprintf(
      stderr, "anchorage compare: study %s, %zu runs %s; output in %s\n",
      std::string(config::StudyName(plan.study)).c_str(), plan.runs.size(),
      base.compare.real ? "as real processes" : "in the simulator",
      base.compare.out_dir.c_str());
  const std::optional<std::vector<RunOutcome>> outcomes = RunAll(plan, base);
  if (!outcomes) return 1;
  const ReportOptions options{.out_dir = base.compare.out_dir,
                              .command_line = CommandLine(argc, argv),
                              .real = base.compare.real};
  const Status status = WriteReport(plan, *outcomes, options);
  if (!status.ok()) {
    std::fprintf(stderr, "anchorage compare: %s\n", status.message().c_str());
    return 1;
  }
  std::printf("wrote results.csv, summary.md and %zu figures to %s\n",
              plan.trace_figures.size() + plan.sweep_figures.size(),
              base.compare.out_dir.c_str());
  return 0;
}

}  // namespace anchorage::compare
