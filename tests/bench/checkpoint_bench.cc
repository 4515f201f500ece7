// What a checkpoint costs the server, at d = 1,000,018 with 4 workers, as a
// ratio of one aggregation measured in the same run.
//
// BM_AggregateOnePush: the round core folds one dense async push into the
// anchor (decode, finiteness, the outer rule): the unit of the serving
// loop's work. BM_CheckpointSnapshot: AnchorRound::Save, the one copy of
// the state the serving loop makes — the whole stall a checkpoint causes.
// BM_CheckpointWrite: encoding, checksum and the durable write (fsync of
// file and directory) that run on the writer thread, off the loop.
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "common/algo/anchor_round.h"
#include "common/base/check.h"
#include "common/codec/codec.h"
#include "common/io/checkpoint.h"
#include "tests/bench/bench_summary.h"

namespace anchorage {
namespace {

constexpr int64_t kDim = 1000018;
constexpr int kWorkers = 4;

using Clock = std::chrono::steady_clock;

// Seconds per iteration of the earlier benchmarks, for the summary line.
struct Measured {
  double aggregate = 0;
  double snapshot = 0;
  size_t state_bytes = 0;
};

Measured& Baselines() {
  static Measured measured;
  return measured;
}

double SecondsPerIteration(Clock::time_point start,
                           const benchmark::State& state) {
  return std::chrono::duration<double>(Clock::now() - start).count() /
         static_cast<double>(state.iterations());
}

// A round of kWorkers joined workers, each with one push applied, so every
// slot and kept base holds a model.
std::unique_ptr<algo::AnchorRound> MakeRound() {
  algo::AnchorRoundOptions options;
  options.algorithm = algo::Algorithm::kOverlapLocalSgd;
  options.aggregator.mode = algo::AggregationMode::kAsync;
  options.workers = kWorkers;
  options.max_versions = int64_t{1} << 40;
  const std::vector<float> initial(kDim, 0.5F);
  auto round =
      algo::AnchorRound::Create(
          options, initial,
          codec::MakeCodec("dense", kDim, codec::CodecOptions{}).value())
          .value();
  for (uint32_t id = 0; id < kWorkers; ++id) {
    round->OnJoin(0, {.worker = id,
                      .incarnation = 1,
                      .model_dim = static_cast<uint64_t>(kDim),
                      .algorithm = "overlap-local-sgd",
                      .codec = "dense",
                      .codec_settings = round->codec().settings()});
  }
  return round;
}

algo::PushRequest Push(uint32_t worker, uint64_t round, uint64_t base,
                       const std::vector<uint8_t>& payload) {
  return {.worker = worker,
          .round = round,
          .base_version = base,
          .codec = "dense",
          .report = {.samples = 32, .local_steps = 8},
          .payloads = {payload}};
}

std::vector<uint8_t> Payload(float value) {
  const std::vector<float> model(kDim, value);
  std::vector<uint8_t> bytes(model.size() * sizeof(float));
  std::memcpy(bytes.data(), model.data(), bytes.size());
  return bytes;
}

void BM_AggregateOnePush(benchmark::State& state) {
  std::unique_ptr<algo::AnchorRound> round = MakeRound();
  const std::vector<uint8_t> payload = Payload(0.25F);
  uint64_t pushes = 0;
  const Clock::time_point start = Clock::now();
  for ([[maybe_unused]] auto _ : state) {
    const auto worker = static_cast<uint32_t>(pushes % kWorkers);
    benchmark::DoNotOptimize(round->OnPush(
        0, Push(worker, pushes / kWorkers, round->version(), payload)));
    ++pushes;
  }
  Baselines().aggregate = SecondsPerIteration(start, state);
  ANCHORAGE_CHECK(round->stats().pushes_applied == static_cast<int64_t>(pushes),
                  "a benchmark push was refused");
  state.SetItemsProcessed(state.iterations());
}

void BM_CheckpointSnapshot(benchmark::State& state) {
  std::unique_ptr<algo::AnchorRound> round = MakeRound();
  const std::vector<uint8_t> payload = Payload(0.25F);
  for (uint32_t id = 0; id < kWorkers; ++id) {
    round->OnPush(0, Push(id, 0, round->version(), payload));
  }
  size_t bytes = 0;
  const Clock::time_point start = Clock::now();
  for ([[maybe_unused]] auto _ : state) {
    std::vector<uint8_t> state_bytes = round->Save();
    bytes = state_bytes.size();
    benchmark::DoNotOptimize(state_bytes.data());
  }
  Baselines().snapshot = SecondsPerIteration(start, state);
  Baselines().state_bytes = bytes;
  state.counters["state_MB"] = static_cast<double>(bytes) / 1e6;
}

void BM_CheckpointWrite(benchmark::State& state) {
  std::unique_ptr<algo::AnchorRound> round = MakeRound();
  const std::vector<uint8_t> payload = Payload(0.25F);
  for (uint32_t id = 0; id < kWorkers; ++id) {
    round->OnPush(0, Push(id, 0, round->version(), payload));
  }
  const io::Checkpoint checkpoint{.version = round->version(),
                                  .fingerprint = {{"--workers", "4"}},
                                  .state = round->Save()};
  const std::string dir = (std::filesystem::temp_directory_path() /
                           ("anchorage-bench-" + std::to_string(::getpid())))
                              .string();
  const Clock::time_point start = Clock::now();
  for ([[maybe_unused]] auto _ : state) {
    const StatusOr<std::string> written = io::WriteCheckpoint(dir, checkpoint);
    ANCHORAGE_CHECK(written.ok(), "the benchmark checkpoint was not written");
  }
  const double write = SecondsPerIteration(start, state);
  std::filesystem::remove_all(dir);
  const Measured& measured = Baselines();
  if (measured.aggregate <= 0 || measured.snapshot <= 0) return;
  char line[320];
  std::snprintf(line, sizeof(line),
                "checkpoint, d = %lld, %d workers (%.1f MB of state): the "
                "serving loop's snapshot %.2f ms = %.2f aggregations of one "
                "push (%.2f ms); the write off the loop, with fsync, %.1f ms "
                "= %.1f aggregations",
                static_cast<long long>(kDim), kWorkers,
                static_cast<double>(measured.state_bytes) / 1e6,
                measured.snapshot * 1e3, measured.snapshot / measured.aggregate,
                measured.aggregate * 1e3, write * 1e3,
                write / measured.aggregate);
  bench::AddSummaryLine(line);
}

// Fixed iterations: each runs once, so the summary line is written once.
BENCHMARK(BM_AggregateOnePush)->Unit(benchmark::kMillisecond)->Iterations(400);
BENCHMARK(BM_CheckpointSnapshot)->Unit(benchmark::kMillisecond)->Iterations(40);
BENCHMARK(BM_CheckpointWrite)->Unit(benchmark::kMillisecond)->Iterations(20);

}  // namespace
}  // namespace anchorage
