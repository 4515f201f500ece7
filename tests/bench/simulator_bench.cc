// The simulator at scale: 1,000 simulated workers of softmax regression on
// Fashion-MNIST for 100 rounds of Local SGD (τ = 4), the size the
// simulator is meant to handle in under a minute on 2 cores.
#include <chrono>
#include <cstdio>
#include <string>

#include <benchmark/benchmark.h>

#include "common/algo/algorithm.h"
#include "common/base/check.h"
#include "simulator/run.h"
#include "tests/bench/bench_summary.h"

namespace anchorage::simulator {
namespace {

void BM_Simulate1000Workers(benchmark::State& state) {
  config::RunConfig config;
  config.train.workers = 1000;
  config.train.model = "softmax";
  config.train.algorithm = algo::Algorithm::kLocalSgd;
  config.train.alpha = 1.0;
  config.train.local_steps = 4;
  config.train.epochs = 0;
  config.train.max_versions = 100;
  config.simulate.eval_points = 2;
  double seconds = 0;
  for ([[maybe_unused]] auto _ : state) {
    const auto start = std::chrono::steady_clock::now();
    StatusOr<SimulationResult<float>> result = SimulateRun(config, {});
    ANCHORAGE_CHECK(result.ok(), "simulation failed");
    ANCHORAGE_CHECK(result->summary.anchor_version == 100, "not 100 rounds");
    seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
            .count();
    state.counters["test_accuracy"] = result->trace.back().test_accuracy;
  }
  char line[160];
  std::snprintf(line, sizeof(line),
                "simulator: 1,000 workers x 100 rounds of softmax Local SGD "
                "(tau = 4) in %.1f s (goal < 60 s)",
                seconds);
  bench::AddSummaryLine(line);
}

BENCHMARK(BM_Simulate1000Workers)
    ->Iterations(1)
    ->UseRealTime()
    ->Unit(benchmark::kSecond);

}  // namespace
}  // namespace anchorage::simulator
