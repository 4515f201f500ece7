#include "compare/compare_command.h"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <system_error>
#include <thread>
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

// Runs `specs` (their positions in the plan given by `indices`), `jobs` at
// a time, each simulated run in its own runner, with a progress line on
// stderr as each starts and ends. Fills outcomes[index]; returns false
// after printing which run failed and why (the runs under way finish).
bool RunSome(const std::vector<RunSpec>& specs,
             const std::vector<size_t>& indices, const config::RunConfig& base,
             int jobs, std::vector<std::optional<RunOutcome>>* outcomes) {
  const ProcessRunOptions process{
      .executable = launcher::SelfExecutable(),
      .work_dir = base.compare.out_dir + "/real-runs",
      .timeout_seconds = base.demo.timeout_seconds};
  const char* clock = base.compare.real ? "wall" : "virtual";
  const int total = static_cast<int>(specs.size());
  std::mutex mutex;  // guards next, failed, stderr lines and *outcomes
  size_t next = 0;
  bool failed = false;
  auto work = [&] {
    SimulatedRunner simulated;
    for (;;) {
      size_t index = 0;
      {
        std::lock_guard<std::mutex> lock(mutex);
        if (failed || next == indices.size()) return;
        index = indices[next++];
        std::fprintf(stderr, "[%zu/%d] %s: started\n", index + 1, total,
                     RunName(specs[index]).c_str());
      }
      const RunSpec& spec = specs[index];
      const auto start = std::chrono::steady_clock::now();
      StatusOr<RunOutcome> outcome =
          base.compare.real
              ? RunAsProcess(spec, process, static_cast<int>(index) + 1)
              : simulated.Run(spec);
      const double wall = std::chrono::duration<double>(
                              std::chrono::steady_clock::now() - start)
                              .count();
      std::lock_guard<std::mutex> lock(mutex);
      const std::string name = RunName(spec);
      if (!outcome.ok()) {
        std::fprintf(stderr, "anchorage compare: run %zu/%d (%s) failed: %s\n",
                     index + 1, total, name.c_str(),
                     outcome.status().message().c_str());
        failed = true;
        return;
      }
      std::fprintf(stderr,
                   "[%zu/%d] %s: finished: test accuracy %.4f, train loss "
                   "%.4f, %.2f %s s, sync wait %.3f s (%.1f s wall)\n",
                   index + 1, total, name.c_str(),
                   outcome->summary.test_accuracy, outcome->summary.train_loss,
                   outcome->summary.wall_seconds, clock,
                   outcome->summary.sync_wait_seconds_mean, wall);
      if (!outcome->stopped_early.empty()) {
        std::fprintf(stderr, "[%zu/%d] %s: stopped early: %s\n", index + 1,
                     total, name.c_str(), outcome->stopped_early.c_str());
      }
      (*outcomes)[index] = std::move(outcome).value();
    }
  };
  std::vector<std::thread> threads;
  for (int j = 1; j < jobs; ++j) {
    threads.emplace_back(work);
  }
  work();
  for (std::thread& thread : threads) {
    thread.join();
  }
  return !failed;
}

// Every planned run: first those whose step size is set (the tuning runs),
// then, with each label's step size picked in the plan's tuning setting,
// the runs that use it. Returns the outcomes in plan order, or nullopt
// after printing which run failed.
std::optional<std::vector<RunOutcome>> RunAll(const StudyPlan& plan,
                                              const config::RunConfig& base) {
  int jobs = base.compare.jobs > 0
                 ? base.compare.jobs
                 : static_cast<int>(std::thread::hardware_concurrency());
  if (base.compare.real || jobs < 1) jobs = 1;
  std::vector<RunSpec> specs = plan.runs;
  std::vector<std::optional<RunOutcome>> outcomes(specs.size());
  std::vector<size_t> first;
  std::vector<size_t> second;
  for (size_t i = 0; i < specs.size(); ++i) {
    (specs[i].tuned_lr ? second : first).push_back(i);
  }
  if (!RunSome(specs, first, base, jobs, &outcomes)) return std::nullopt;
  if (!second.empty()) {
    std::vector<RunOutcome> tuning;
    for (const size_t i : first) {
      if (outcomes[i]->setting == plan.tuning_setting) {
        tuning.push_back(*outcomes[i]);
      }
    }
    const std::map<std::string, double> picked = TunedLearningRates(tuning);
    for (const size_t i : second) {
      const auto found = picked.find(specs[i].label);
      if (found == picked.end()) {
        std::fprintf(stderr,
                     "anchorage compare: no step size was tuned for %s in "
                     "%s\n",
                     specs[i].label.c_str(), plan.tuning_setting.c_str());
        return std::nullopt;
      }
      specs[i].config.train.lr = found->second;
    }
    if (!RunSome(specs, second, base, jobs, &outcomes)) return std::nullopt;
  }
  std::vector<RunOutcome> all;
  all.reserve(outcomes.size());
  for (std::optional<RunOutcome>& outcome : outcomes) {
    all.push_back(std::move(*outcome));
  }
  return all;
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
