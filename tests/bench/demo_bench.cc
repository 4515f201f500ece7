// The demo against what the machine's cores can compute, in one run.
//
// BM_DemoThroughput: `anchorage demo` with its defaults (seed 1) runs as its
// own processes; then every core runs training steps of the demo's model
// at the demo's batch size (as BM_MlpStep) for 3 s, one thread per core,
// with nothing else running: the cores' compute in samples per second. The
// demo's training throughput (samples over seconds of training, from its
// summary) is printed as a fraction of that.
#include <fcntl.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <benchmark/benchmark.h>

#include "common/base/check.h"
#include "common/model/model.h"
#include "common/optim/sgd.h"
#include "common/summary/run_summary.h"
#include "common/tensor/tensor.h"
#include "tests/bench/bench_summary.h"

namespace anchorage {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int64_t kInputDim = 784;
constexpr int kNumClasses = 10;

// Training steps of `spec` at `batch` on one thread until `stop`; returns
// the samples done.
int64_t StepUntil(const std::string& spec, Eigen::Index batch,
                  const std::atomic<bool>& stop) {
  std::unique_ptr<model::Model> model =
      model::MakeModel(spec, kInputDim, kNumClasses).value();
  std::mt19937_64 random(42);
  std::uniform_real_distribution<float> pixel(0.0F, 1.0F);
  RowMatrix x(batch, kInputDim);
  for (Eigen::Index i = 0; i < x.size(); ++i) {
    x.data()[i] = pixel(random);
  }
  std::vector<int32_t> labels(static_cast<size_t>(batch));
  for (size_t i = 0; i < labels.size(); ++i) {
    labels[i] = static_cast<int32_t>(i % kNumClasses);
  }
  std::vector<float> params(static_cast<size_t>(model->dim()));
  std::vector<float> grad(params.size());
  model->Initialize(1, params);
  optim::SgdOptions options;
  options.lr = 0.01F;
  options.momentum = 0.9F;
  optim::Sgd sgd(options, model->dim());
  int64_t samples = 0;
  while (!stop.load(std::memory_order_relaxed)) {
    benchmark::DoNotOptimize(model->LossAndGradient(params, x, labels, grad));
    sgd.Step(params, grad);
    samples += batch;
  }
  return samples;
}

// Samples per second of `threads` threads stepping for `seconds`.
double CoresCompute(int threads, double seconds, const std::string& spec,
                    Eigen::Index batch) {
  std::atomic<bool> stop{false};
  std::vector<int64_t> samples(static_cast<size_t>(threads), 0);
  std::vector<std::thread> running;
  running.reserve(static_cast<size_t>(threads));
  const auto start = Clock::now();
  for (int t = 0; t < threads; ++t) {
    running.emplace_back([&, t] {
      samples[static_cast<size_t>(t)] = StepUntil(spec, batch, stop);
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop.store(true);
  for (std::thread& thread : running) {
    thread.join();
  }
  const double elapsed =
      std::chrono::duration<double>(Clock::now() - start).count();
  int64_t total = 0;
  for (const int64_t count : samples) {
    total += count;
  }
  return static_cast<double>(total) / elapsed;
}

// Runs `anchorage demo` with its defaults and returns its summary.
summary::RunSummary RunDemo() {
  char pattern[] = "/tmp/anchorage-bench-demo-XXXXXX";
  ANCHORAGE_CHECK(::mkdtemp(pattern) != nullptr, "demo directory");
  const std::string dir = pattern;
  std::vector<std::string> args = {ANCHORAGE_BINARY, "demo",
                                   "--seed",         "1",
                                   "--summary-json", dir + "/summary.json"};
  std::vector<char*> argv;
  argv.reserve(args.size() + 1);
  for (std::string& arg : args) {
    argv.push_back(arg.data());
  }
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO,
                                   (dir + "/demo.out").c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  pid_t pid = 0;
  ANCHORAGE_CHECK(::posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(),
                                environ) == 0,
                  "spawning the demo");
  posix_spawn_file_actions_destroy(&actions);
  int status = 0;
  ANCHORAGE_CHECK(::waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
                      WEXITSTATUS(status) == 0,
                  "the demo did not exit 0");
  StatusOr<summary::RunSummary> summary =
      summary::ReadRunSummary(dir + "/summary.json");
  ANCHORAGE_CHECK(summary.ok(), "the demo's summary");
  std::filesystem::remove_all(dir);
  return std::move(summary).value();
}

void BM_DemoThroughput(benchmark::State& state) {
  const int cores =
      std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  for (auto _ : state) {
    const summary::RunSummary demo = RunDemo();
    const double compute =
        CoresCompute(cores, 3.0, demo.model, demo.batch_size);
    const double rate = demo.samples_per_second();
    state.counters["demo_samples_per_s"] = rate;
    state.counters["cores_samples_per_s"] = compute;
    state.counters["ratio"] = rate / compute;
    char line[400];
    std::snprintf(
        line, sizeof(line),
        "demo (defaults, seed 1, %d workers): %.0f samples/s over %.2f s "
        "of training = %.2f x the %d cores' compute (%.0f samples/s: one "
        "thread of %s steps at batch %d per core, same run); test accuracy "
        "%.4f",
        demo.workers, rate, demo.seconds_of_training(), rate / compute, cores,
        compute, demo.model.c_str(), demo.batch_size, demo.test_accuracy);
    bench::AddSummaryLine(line);
  }
}

BENCHMARK(BM_DemoThroughput)->Unit(benchmark::kSecond)->Iterations(1);

}  // namespace
}  // namespace anchorage
