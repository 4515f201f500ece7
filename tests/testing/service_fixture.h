// Runs a Server and Workers as threads, each with its own ZeroMQ context
// and metrics registry, over tcp://127.0.0.1 with an ephemeral port. Every
// wait has a deadline: past it, everything is asked to stop and the run
// reports a timeout.
#pragma once

#include <chrono>
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

  // Starts the server thread; returns false (with a gtest failure) on error.
  bool StartServer();
  // Starts worker `id` in a thread.
  bool StartWorker(int id);
  // Waits for the server to finish; nullopt on timeout.
  std::optional<summary::RunSummary> WaitForServer(
      std::chrono::seconds timeout);
  // Waits for every worker; returns their results (nullopt on timeout).
  std::vector<std::optional<StatusOr<worker::WorkerResult>>> WaitForWorkers(
      std::chrono::seconds timeout);

  server::Server& server() { return *server_; }
  const prometheus::Registry& server_registry() const {
    return server_registry_;
  }
  // The metrics of the `index`-th started worker.
  const prometheus::Registry& worker_registry(size_t index) const {
    return workers_.at(index)->registry;
  }
  const std::string& endpoint() const { return server_->endpoint(); }
  config::RunConfig& config() { return config_; }

 private:
  config::RunConfig config_;
  zmq::context_t server_context_;
  prometheus::Registry server_registry_;
  std::unique_ptr<server::Server> server_;
  std::future<StatusOr<summary::RunSummary>> server_future_;

  struct RunningWorker {
    zmq::context_t context;
    prometheus::Registry registry;
    std::unique_ptr<worker::Worker> worker;
    std::future<StatusOr<worker::WorkerResult>> future;
  };
  std::vector<std::unique_ptr<RunningWorker>> workers_;
};

}  // namespace anchorage::testing
