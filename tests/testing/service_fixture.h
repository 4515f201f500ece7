// Runs a Server (or, with config.server.shards > 1, every shard of a
// sharded one) and Workers as threads, each with its own ZeroMQ context
// and metrics registry, over tcp://127.0.0.1 with ephemeral ports. Every
// wait has a deadline: past it, everything is asked to stop and the run
// reports a timeout.
#pragma once

#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <prometheus/registry.h>
#include <zmq.hpp>

#include "common/algo/algorithm.h"
#include "common/config/run_config.h"
#include "server/server.h"
#include "worker/worker.h"

namespace anchorage::testing {

// A small, fast run: synthetic data, softmax, short heartbeats.
config::RunConfig SmallRunConfig();

// A gtest parameter name for a run of `algorithm` with `codec`:
// "local_sgd_topk".
std::string RunName(algo::Algorithm algorithm, std::string_view codec);

class ServiceFixture {
 public:
  explicit ServiceFixture(const config::RunConfig& config);
  ~ServiceFixture();
  ServiceFixture(const ServiceFixture&) = delete;
  ServiceFixture& operator=(const ServiceFixture&) = delete;
  ServiceFixture(ServiceFixture&&) = delete;
  ServiceFixture& operator=(ServiceFixture&&) = delete;

  // Starts the server thread (a thread per shard); returns false (with a
  // gtest failure) on error.
  bool StartServer();
  // Changes shard `shard`'s own config before StartServer() creates it.
  void set_shard_config(
      std::function<void(int shard, config::RunConfig* config)> edit) {
    shard_config_ = std::move(edit);
  }
  // Starts worker `id` in a thread.
  bool StartWorker(int id);
  // Waits for the server (every shard) to finish; nullopt on timeout or
  // error. Its summary (shard 0's), or every shard's.
  std::optional<summary::RunSummary> WaitForServer(
      std::chrono::seconds timeout);
  std::optional<std::vector<summary::RunSummary>> WaitForShards(
      std::chrono::seconds timeout);
  // Waits for every worker; returns their results (nullopt on timeout).
  std::vector<std::optional<StatusOr<worker::WorkerResult>>> WaitForWorkers(
      std::chrono::seconds timeout);

  server::Server& server(size_t shard = 0) {
    return *servers_.at(shard)->server;
  }
  const prometheus::Registry& server_registry(size_t shard = 0) const {
    return servers_.at(shard)->registry;
  }
  // The metrics of the `index`-th started worker.
  const prometheus::Registry& worker_registry(size_t index) const {
    return workers_.at(index)->registry;
  }
  const std::string& endpoint() const {
    return servers_.front()->server->endpoint();
  }
  config::RunConfig& config() { return config_; }

 private:
  config::RunConfig config_;
  struct RunningServer {
    zmq::context_t context;
    prometheus::Registry registry;
    std::unique_ptr<server::Server> server;
    std::future<StatusOr<summary::RunSummary>> future;
  };
  std::vector<std::unique_ptr<RunningServer>> servers_;
  std::function<void(int, config::RunConfig*)> shard_config_;

  struct RunningWorker {
    zmq::context_t context;
    prometheus::Registry registry;
    std::unique_ptr<worker::Worker> worker;
    std::future<StatusOr<worker::WorkerResult>> future;
  };
  std::vector<std::unique_ptr<RunningWorker>> workers_;
};

}  // namespace anchorage::testing
