#include "tests/testing/service_fixture.h"

#include <gtest/gtest.h>

#include "common/data/dataset.h"

namespace anchorage::testing {

std::string RunName(algo::Algorithm algorithm, std::string_view codec) {
  std::string name =
      std::string(algo::AlgorithmName(algorithm)) + "_" + std::string(codec);
  for (char& c : name) {
    if (c == '-') c = '_';
  }
  return name;
}

config::RunConfig SmallRunConfig() {
  config::RunConfig config;
  config.train.workers = 2;
  config.train.dataset = data::DatasetKind::kSyntheticGaussian;
  config.train.model = "mlp:16";
  config.train.local_steps = 4;
  config.train.batch_size = 16;
  config.train.lr = 0.05;
  config.train.epochs = 5;
  config.server.bind = "tcp://127.0.0.1:*";
  config.server.heartbeat_interval_ms = 20;
  config.server.heartbeat_liveness = 25;
  config.server.eval_interval_seconds = 0.05;
  config.server.eval_examples = 500;
  config.worker.server_timeout_seconds = 20;
  return config;
}

ServiceFixture::ServiceFixture(const config::RunConfig& config)
    : config_(config) {}

ServiceFixture::~ServiceFixture() {
  for (auto& running : servers_) {
    if (running->server != nullptr) running->server->RequestStop();
  }
  for (auto& running : workers_) {
    running->worker->RequestStop();
  }
  for (auto& running : servers_) {
    if (running->future.valid()) running->future.wait();
  }
  for (auto& running : workers_) {
    if (running->future.valid()) running->future.wait();
  }
}

bool ServiceFixture::StartServer() {
  for (int shard = 0; shard < config_.server.shards; ++shard) {
    config::RunConfig config = config_;
    config.server.shard = shard;
    if (shard_config_) shard_config_(shard, &config);
    auto running = std::make_unique<RunningServer>();
    StatusOr<std::unique_ptr<server::Server>> server =
        server::Server::Create(config, &running->context, &running->registry);
    if (!server.ok()) {
      ADD_FAILURE() << server.status().ToString();
      return false;
    }
    running->server = std::move(server).value();
    server::Server* raw = running->server.get();
    running->future =
        std::async(std::launch::async, [raw] { return raw->Run(); });
    servers_.push_back(std::move(running));
  }
  return true;
}

bool ServiceFixture::StartWorker(int id) {
  config::RunConfig config = config_;
  config.worker.server = endpoint();
  if (servers_.size() > 1) {
    for (const auto& running : servers_) {
      config.worker.servers.push_back(running->server->endpoint());
    }
  }
  config.worker.worker_id = id;
  auto running = std::make_unique<RunningWorker>();
  StatusOr<std::unique_ptr<worker::Worker>> worker =
      worker::Worker::Create(config, &running->context, &running->registry);
  if (!worker.ok()) {
    ADD_FAILURE() << worker.status().ToString();
    return false;
  }
  running->worker = std::move(worker).value();
  worker::Worker* raw = running->worker.get();
  running->future =
      std::async(std::launch::async, [raw] { return raw->Run(); });
  workers_.push_back(std::move(running));
  return true;
}

std::optional<summary::RunSummary> ServiceFixture::WaitForServer(
    std::chrono::seconds timeout) {
  std::optional<std::vector<summary::RunSummary>> shards =
      WaitForShards(timeout);
  if (!shards) return std::nullopt;
  return shards->front();
}

std::optional<std::vector<summary::RunSummary>> ServiceFixture::WaitForShards(
    std::chrono::seconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::vector<summary::RunSummary> summaries;
  for (auto& running : servers_) {
    if (running->future.wait_until(deadline) != std::future_status::ready) {
      ADD_FAILURE() << "server did not finish within " << timeout.count()
                    << " s";
      for (auto& other : servers_) {
        other->server->RequestStop();
      }
      return std::nullopt;
    }
    StatusOr<summary::RunSummary> summary = running->future.get();
    if (!summary.ok()) {
      ADD_FAILURE() << summary.status().ToString();
      return std::nullopt;
    }
    summaries.push_back(*std::move(summary));
  }
  return summaries;
}

std::vector<std::optional<StatusOr<worker::WorkerResult>>>
ServiceFixture::WaitForWorkers(std::chrono::seconds timeout) {
  std::vector<std::optional<StatusOr<worker::WorkerResult>>> results;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (auto& running : workers_) {
    if (running->future.wait_until(deadline) != std::future_status::ready) {
      ADD_FAILURE() << "worker did not finish in time";
      running->worker->RequestStop();
      results.emplace_back(std::nullopt);
      continue;
    }
    results.emplace_back(running->future.get());
  }
  return results;
}

}  // namespace anchorage::testing
