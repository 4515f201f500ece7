#include "worker/worker_command.h"

#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <memory>

#include <prometheus/registry.h>
#include <zmq.hpp>

#include "common/base/log.h"
#include "common/config/flags.h"
#include "common/io/json.h"
#include "common/metrics/exposer.h"
#include "worker/worker.h"

namespace anchorage::worker {
namespace {

std::atomic<Worker*> g_worker{nullptr};

void HandleStopSignal(int /*signal*/) {
  Worker* worker = g_worker.load();
  if (worker != nullptr) worker->RequestStop();
}

LogLevel ParseLevel(const std::string& level) {
  if (level == "debug") return LogLevel::kDebug;
  if (level == "warning") return LogLevel::kWarning;
  if (level == "error") return LogLevel::kError;
  return LogLevel::kInfo;
}

}  // namespace

int RunWorkerCommand(int argc, const char* const* argv) {
  StatusOr<std::optional<config::RunConfig>> parsed =
      config::ParseCommandLine(config::Role::kWorker, argc, argv);
  if (!parsed.ok()) {
    std::fprintf(stderr, "anchorage worker: %s\n",
                 parsed.status().message().c_str());
    return 2;
  }
  if (!parsed->has_value()) return 0;
  const config::RunConfig& config = **parsed;
  SetLogRole("worker " + std::to_string(config.worker.worker_id));
  SetLogLevel(ParseLevel(config.output.log_level));

  zmq::context_t context(1);
  auto registry = std::make_shared<prometheus::Registry>();
  metrics::AddBuildInfo(*registry);
  StatusOr<std::unique_ptr<metrics::MetricsExposer>> exposer =
      metrics::MetricsExposer::Create(config.output.metrics_address,
                                      config.output.metrics_port, registry);
  if (!exposer.ok()) {
    LOG_ERROR("%s", exposer.status().message().c_str());
    return 1;
  }
  StatusOr<std::unique_ptr<Worker>> worker =
      Worker::Create(config, &context, registry.get());
  if (!worker.ok()) {
    LOG_ERROR("%s", worker.status().message().c_str());
    return 1;
  }
  metrics::MetricsExposer* exposer_ptr = exposer->get();
  (*worker)->set_on_joined([exposer_ptr] { exposer_ptr->set_ready(true); });
  LOG_INFO("metrics on http://%s:%d/metrics",
           config.output.metrics_address.c_str(), (*exposer)->port());
  if (!config.output.ready_file.empty()) {
    io::JsonObject ready;
    ready.Add("metrics_port", (*exposer)->port())
        .Add("pid", static_cast<int64_t>(getpid()));
    Status status =
        io::WriteFileAtomically(config.output.ready_file, ready.ToString());
    if (!status.ok()) {
      LOG_ERROR("%s", status.message().c_str());
      return 1;
    }
  }

  g_worker.store(worker->get());
  std::signal(SIGINT, HandleStopSignal);
  std::signal(SIGTERM, HandleStopSignal);
  StatusOr<WorkerResult> result = (*worker)->Run();
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
  g_worker.store(nullptr);
  if (!result.ok()) {
    LOG_ERROR("%s", result.status().message().c_str());
    return 1;
  }
  LOG_INFO(
      "finished (%s): %lld local steps in %lld rounds, compute %.1f s, "
      "sync wait %.2f s",
      result->end_reason.c_str(), static_cast<long long>(result->local_steps),
      static_cast<long long>(result->rounds), result->compute_seconds,
      result->sync_wait_seconds);
  return 0;
}

}  // namespace anchorage::worker
