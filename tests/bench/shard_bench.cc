// Aggregation throughput of a sharded anchor service against one server,
// in one run: S = 1, 2, 4 shards (threads of this process, each a real
// anchorage Server holding its slice) at d = 10^7 on tcp://127.0.0.1.
// Every client pushes its whole model each round, a slice to each shard
// over its own socket, and waits for every shard's answer; a push counts
// once all its slices are answered. The rates as ratios of S = 1 are
// printed at the end: what sharding gains when one server's thread, not
// the wire, is the bottleneck (each shard's thread decodes, folds and
// answers only its slice).
#include <chrono>
#include <cstdio>
#include <cstring>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#include <prometheus/registry.h>
#include <zmq.hpp>
#include <zmq_addon.hpp>

#include "common/algo/model_slice.h"
#include "common/base/check.h"
#include "common/base/log.h"
#include "common/config/run_config.h"
#include "common/transport/protocol.h"
#include "common/transport/socket.h"
#include "server/server.h"
#include "tests/bench/bench_server.h"
#include "tests/bench/bench_summary.h"

namespace anchorage {
namespace {

constexpr int kClients = 4;
// mlp:H on synthetic-gaussian has 43·H + 10 parameters: d = 10,000,004.
constexpr int kHidden = 232558;
constexpr int64_t kDim = 43LL * kHidden + 10;

struct Shard {
  zmq::context_t context{1};
  prometheus::Registry registry;
  std::unique_ptr<server::Server> server;
  std::future<StatusOr<summary::RunSummary>> running;
};

void BM_ShardedAggregation(benchmark::State& state) {
  static double one_shard_rate = 0;
  SetLogLevel(LogLevel::kWarning);
  const int shards = static_cast<int>(state.range(0));
  config::RunConfig config = bench::AggregationServerConfig(kClients, kHidden);
  config.server.shards = shards;
  const std::vector<algo::ModelSlice> slices = algo::Slices(kDim, shards);
  std::vector<std::unique_ptr<Shard>> servers;
  for (int s = 0; s < shards; ++s) {
    config.server.shard = s;
    auto shard = std::make_unique<Shard>();
    shard->server =
        server::Server::Create(config, &shard->context, &shard->registry)
            .value();
    server::Server* raw = shard->server.get();
    shard->running =
        std::async(std::launch::async, [raw] { return raw->Run(); });
    servers.push_back(std::move(shard));
  }
  // Client c's socket to shard s, joined as that shard's worker c.
  zmq::context_t clients(2);
  std::vector<std::vector<zmq::socket_t>> sockets(kClients);
  for (int c = 0; c < kClients; ++c) {
    for (int s = 0; s < shards; ++s) {
      transport::SocketOptions options;
      options.max_message_bytes = -1;
      sockets[c].push_back(
          transport::ConnectDealer(clients, servers[s]->server->endpoint(),
                                   "w" + std::to_string(c), options)
              .value());
      transport::EnvelopeBuilder builder;
      ANCHORAGE_CHECK(
          transport::SendFrames(
              sockets[c].back(),
              transport::MakeJoin(
                  builder,
                  {.worker = static_cast<uint32_t>(c),
                   .incarnation = 1,
                   .model_dim = static_cast<uint64_t>(slices[s].size()),
                   .algorithm = "overlap-local-sgd",
                   .codec = "dense",
                   .server_shard = static_cast<uint32_t>(s),
                   .server_shards = static_cast<uint32_t>(shards)},
                  1))
              .ok(),
          "join");
      std::vector<zmq::message_t> welcome;
      ANCHORAGE_CHECK(
          zmq::recv_multipart(sockets[c].back(), std::back_inserter(welcome)),
          "welcome");
    }
  }
  const std::vector<float> model(static_cast<size_t>(kDim), 0.01F);
  int64_t pushes = 0;
  uint64_t round = 0;
  const auto start = std::chrono::steady_clock::now();
  for (auto _ : state) {
    for (int c = 0; c < kClients; ++c) {
      for (int s = 0; s < shards; ++s) {
        std::vector<uint8_t> payload(static_cast<size_t>(slices[s].size()) *
                                     sizeof(float));
        std::memcpy(payload.data(), model.data() + slices[s].begin,
                    payload.size());
        transport::EnvelopeBuilder builder;
        // Each round's pushes land on the previous round's anchor.
        ANCHORAGE_CHECK(
            transport::SendFrames(
                sockets[c][s],
                transport::MakePush(builder,
                                    {.worker = static_cast<uint32_t>(c),
                                     .round = round,
                                     .base_version = round * kClients,
                                     .codec = "dense"},
                                    std::move(payload)))
                .ok(),
            "push");
      }
    }
    for (int c = 0; c < kClients; ++c) {
      for (int s = 0; s < shards; ++s) {
        std::vector<zmq::message_t> reply;
        ANCHORAGE_CHECK(
            zmq::recv_multipart(sockets[c][s], std::back_inserter(reply)),
            "reply");
      }
      ++pushes;
    }
    ++round;
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  for (const auto& shard : servers) {
    shard->server->RequestStop();
  }
  for (const auto& shard : servers) {
    ANCHORAGE_CHECK(shard->running.get().ok(), "server run");
  }
  state.SetItemsProcessed(pushes);
  state.SetBytesProcessed(pushes * kDim * 4 * 2);
  const double rate = static_cast<double>(pushes) / seconds;
  if (shards == 1) one_shard_rate = rate;
  char line[200];
  std::snprintf(line, sizeof(line),
                "sharded aggregation, d = %lld floats, %d clients, %d "
                "shard(s): %.1f pushes/s = %.2f x one server (%.1f/s)",
                static_cast<long long>(kDim), kClients, shards, rate,
                one_shard_rate > 0 ? rate / one_shard_rate : 0.0,
                one_shard_rate);
  bench::AddSummaryLine(line);
}

// A fixed number of rounds, so the rates compare directly.
BENCHMARK(BM_ShardedAggregation)
    ->Arg(1)
    ->Arg(2)
    ->Arg(4)
    ->Iterations(15)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace anchorage
