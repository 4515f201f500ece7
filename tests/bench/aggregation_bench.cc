// Server aggregation throughput against raw ZeroMQ, in one run.
//
// BM_RawZeroMqExchange: clients send a d-float frame over tcp://127.0.0.1
// to a ROUTER that answers each with a d-float frame: the least any
// parameter server must move per contribution.
// BM_ServerAggregation: the same clients talk to a real anchorage Server
// (async aggregation, dense codec): each push is verified, decoded, folded
// into the anchor, and answered with the new anchor.
// BM_ServerAggregationCurve: the same with CURVE authentication and
// encryption on every connection.
// The ratios of the rates are printed at the end.
#include <stdlib.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <benchmark/benchmark.h>
#include <prometheus/registry.h>
#include <zmq.hpp>
#include <zmq_addon.hpp>

#include "common/algo/aggregator.h"
#include "common/base/check.h"
#include "common/base/log.h"
#include "common/config/run_config.h"
#include "common/transport/curve.h"
#include "common/transport/protocol.h"
#include "common/transport/socket.h"
#include "common/transport/wire.h"
#include "server/server.h"
#include "tests/bench/bench_server.h"
#include "tests/bench/bench_summary.h"

namespace anchorage {
namespace {

constexpr int kClients = 4;
// mlp:H on synthetic-gaussian (32 features, 10 classes) has 43·H + 10
// parameters; H = 23256 gives d ≈ 1,000,018.
constexpr int kHidden = 23256;
constexpr int64_t kDim = 43LL * kHidden + 10;

// The raw exchanges per second BM_RawZeroMqExchange measured, the baseline
// of BM_ServerAggregation.
double& RawRate() {
  static double rate = 0;
  return rate;
}

// Runs `clients` DEALERs against `endpoint`, each sending `make_message()`
// and waiting for one reply, for the benchmark's iterations in total.
// Returns exchanges completed.
// The plaintext server's rate, the baseline of the CURVE one.
double& PlaintextRate() {
  static double rate = 0;
  return rate;
}

// With `keys`, client c authenticates with worker-<c>.secret.
template <typename MakeFrames>
int64_t RunClients(benchmark::State& state, const std::string& endpoint,
                   MakeFrames make_frames, bool join_first,
                   const std::string& keys = "") {
  std::vector<std::unique_ptr<zmq::context_t>> contexts;
  std::vector<zmq::socket_t> sockets;
  for (int c = 0; c < kClients; ++c) {
    transport::SocketOptions options;
    options.max_message_bytes = -1;
    if (!keys.empty()) {
      options.curve_client =
          transport::ReadCurveClientKeys(
              keys + "/worker-" + std::to_string(c) + ".secret",
              keys + "/server.pub")
              .value();
    }
    contexts.push_back(std::make_unique<zmq::context_t>(1));
    sockets.push_back(transport::ConnectDealer(*contexts.back(), endpoint,
                                               "w" + std::to_string(c), options)
                          .value());
    if (join_first) {
      transport::EnvelopeBuilder builder;
      transport::Frames frames =
          transport::MakeJoin(builder,
                              {.worker = static_cast<uint32_t>(c),
                               .incarnation = 1,
                               .model_dim = static_cast<uint64_t>(kDim),
                               .algorithm = "overlap-local-sgd",
                               .codec = "dense"},
                              1);
      ANCHORAGE_CHECK(
          transport::SendFrames(sockets.back(), std::move(frames)).ok(),
          "join");
      std::vector<zmq::message_t> welcome;
      ANCHORAGE_CHECK(
          zmq::recv_multipart(sockets.back(), std::back_inserter(welcome)),
          "welcome");
    }
  }
  int64_t exchanges = 0;
  uint64_t round = 0;
  for (auto _ : state) {
    for (int c = 0; c < kClients; ++c) {
      ANCHORAGE_CHECK(
          transport::SendFrames(sockets[c], make_frames(c, round)).ok(),
          "send");
    }
    for (int c = 0; c < kClients; ++c) {
      std::vector<zmq::message_t> reply;
      ANCHORAGE_CHECK(
          zmq::recv_multipart(sockets[c], std::back_inserter(reply)), "reply");
      ++exchanges;
    }
    ++round;
  }
  return exchanges;
}

void BM_RawZeroMqExchange(benchmark::State& state) {
  zmq::context_t context(1);
  transport::SocketOptions options;
  options.max_message_bytes = -1;
  options.send_hwm = 1000;
  zmq::socket_t router =
      transport::BindRouter(context, "tcp://127.0.0.1:*", options).value();
  const std::string endpoint = transport::LastEndpoint(router);
  std::atomic<bool> stop{false};
  std::vector<uint8_t> reply_bytes(static_cast<size_t>(kDim) * 4, 1);
  std::thread echo([&] {
    while (!stop.load()) {
      auto readable = transport::Poll({&router}, std::chrono::milliseconds(50));
      if (!readable.ok() || !(*readable)[0]) continue;
      std::vector<zmq::message_t> frames;
      if (!zmq::recv_multipart(router, std::back_inserter(frames))) continue;
      std::vector<zmq::message_t> reply;
      reply.push_back(std::move(frames.front()));
      reply.emplace_back(reply_bytes.data(), reply_bytes.size());
      (void)transport::SendFrames(router, std::move(reply));
    }
  });
  std::vector<uint8_t> push(static_cast<size_t>(kDim) * 4, 2);
  const auto start = std::chrono::steady_clock::now();
  const int64_t exchanges = RunClients(
      state, endpoint,
      [&](int, uint64_t) {
        std::vector<zmq::message_t> frames;
        frames.emplace_back(push.data(), push.size());
        return frames;
      },
      /*join_first=*/false);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  stop.store(true);
  echo.join();
  state.SetItemsProcessed(exchanges);
  state.SetBytesProcessed(exchanges * kDim * 4 * 2);
  RawRate() = static_cast<double>(exchanges) / seconds;
}

// Pushes per second through a real server; with `keys`, over CURVE.
double ServerAggregation(benchmark::State& state, const std::string& keys) {
  SetLogLevel(LogLevel::kWarning);
  config::RunConfig config = bench::AggregationServerConfig(kClients, kHidden);
  if (!keys.empty()) {
    config.security.curve_secret_key = keys + "/server.secret";
    config.security.curve_allowed_keys = keys;
  }
  zmq::context_t context(1);
  prometheus::Registry registry;
  std::unique_ptr<server::Server> server =
      server::Server::Create(config, &context, &registry).value();
  ANCHORAGE_CHECK(server->model_dim() == kDim, "model dimension");
  auto running = std::async(std::launch::async, [&] { return server->Run(); });
  std::vector<float> model(static_cast<size_t>(kDim), 0.01F);
  const auto start = std::chrono::steady_clock::now();
  const int64_t exchanges = RunClients(
      state, server->endpoint(),
      [&](int client, uint64_t round) {
        transport::EnvelopeBuilder builder;
        std::vector<uint8_t> payload(model.size() * sizeof(float));
        std::memcpy(payload.data(), model.data(), payload.size());
        // Each round's pushes land on the anchor of the previous round,
        // as an honest worker's do (staleness below a round, weight 1).
        return transport::MakePush(builder,
                                   {.worker = static_cast<uint32_t>(client),
                                    .round = round,
                                    .base_version = round * kClients,
                                    .codec = "dense"},
                                   std::move(payload));
      },
      /*join_first=*/true, keys);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  server->RequestStop();
  ANCHORAGE_CHECK(running.get().ok(), "server run");
  state.SetItemsProcessed(exchanges);
  state.SetBytesProcessed(exchanges * kDim * 4 * 2);
  return static_cast<double>(exchanges) / seconds;
}

void BM_ServerAggregation(benchmark::State& state) {
  const double rate = ServerAggregation(state, "");
  PlaintextRate() = rate;
  char line[200];
  std::snprintf(line, sizeof(line),
                "server aggregation, d = %lld floats, %d clients: %.0f "
                "pushes/s = %.2f x raw ZeroMQ exchange (%.0f/s); goal >= 0.70",
                static_cast<long long>(kDim), kClients, rate,
                RawRate() > 0 ? rate / RawRate() : 0.0, RawRate());
  bench::AddSummaryLine(line);
}

void BM_ServerAggregationCurve(benchmark::State& state) {
  char pattern[] = "/tmp/anchorage-bench-keys-XXXXXX";
  ANCHORAGE_CHECK(::mkdtemp(pattern) != nullptr, "key directory");
  const std::string keys = pattern;
  ANCHORAGE_CHECK(transport::WriteCurveKeys(keys, kClients).ok(), "keygen");
  const double rate = ServerAggregation(state, keys);
  std::filesystem::remove_all(keys);
  char line[200];
  std::snprintf(line, sizeof(line),
                "server aggregation over CURVE: %.0f pushes/s = %.2f x the "
                "plaintext server (%.0f/s)",
                rate, PlaintextRate() > 0 ? rate / PlaintextRate() : 0.0,
                PlaintextRate());
  bench::AddSummaryLine(line);
}

// The close of a sync round of 16 contributions at d = 10^6 under each
// combine rule; the ratios to the mean are printed at the end.
void BM_SyncCombine(benchmark::State& state) {
  static const char* const kRules[] = {"mean", "trimmed-mean:0.1", "median"};
  static double mean_seconds = 0;
  const std::string rule = kRules[state.range(0)];
  constexpr int kWorkers = 16;
  algo::AggregatorOptions options;
  options.mode = algo::AggregationMode::kSync;
  options.outer.algorithm = algo::Algorithm::kLocalSgd;
  ANCHORAGE_CHECK(algo::ParseCombineRule(rule, &options).ok(), "rule");
  algo::Aggregator aggregator(options,
                              std::vector<float>(static_cast<size_t>(kDim)));
  std::vector<std::vector<float>> contributions;
  for (int w = 0; w < kWorkers; ++w) {
    ANCHORAGE_CHECK(aggregator.AddWorker(w).ok(), "add");
    contributions.emplace_back(static_cast<size_t>(kDim),
                               0.001F * static_cast<float>(w * 7 % 16));
  }
  double seconds = 0;
  for (auto _ : state) {
    state.PauseTiming();
    for (int w = 0; w < kWorkers; ++w) {
      ANCHORAGE_CHECK(
          aggregator.Submit(w, aggregator.round(), &contributions[w]).ok(),
          "submit");
    }
    state.ResumeTiming();
    const auto start = std::chrono::steady_clock::now();
    benchmark::DoNotOptimize(aggregator.CloseRound());
    seconds +=
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
            .count();
  }
  seconds /= static_cast<double>(state.iterations());
  if (rule == "mean") mean_seconds = seconds;
  char line[200];
  std::snprintf(line, sizeof(line),
                "sync close, %d workers, d = %lld, %s: %.1f ms = %.1f x mean",
                kWorkers, static_cast<long long>(kDim), rule.c_str(),
                seconds * 1e3, mean_seconds > 0 ? seconds / mean_seconds : 0.0);
  bench::AddSummaryLine(line);
}

// Both use a fixed number of exchanges so their rates compare directly.
BENCHMARK(BM_RawZeroMqExchange)
    ->Iterations(150)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ServerAggregation)
    ->Iterations(150)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SyncCombine)
    ->DenseRange(0, 2)
    ->Iterations(5)
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ServerAggregationCurve)
    ->Iterations(150)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace

}  // namespace anchorage
