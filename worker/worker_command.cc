#include "worker/worker_command.h"

#include <atomic>
#include <csignal>
#include <memory>

#include <zmq.hpp>

#include "common/base/log.h"
#include "common/service/startup.h"
#include "worker/worker.h"

namespace anchorage::worker {
namespace {

// Signal handlers reach the program only through a global.
// NOLINTNEXTLINE(cppcoreguidelines-avoid-non-const-global-variables)
std::atomic<Worker*> g_worker{nullptr};
// NOLINTNEXTLINE(cppcoreguidelines-avoid-non-const-global-variables)
std::atomic<int> g_signal{0};

void HandleStopSignal(int signal) {
  g_signal.store(signal);
  Worker* worker = g_worker.load();
  if (worker != nullptr) worker->RequestStop();
}

}  // namespace

int RunWorkerCommand(int argc, const char* const* argv) {
  int exit_code = 0;
  const std::optional<config::RunConfig> parsed = service::ParseOrExit(
      config::Role::kWorker, "worker", argc, argv, &exit_code);
  if (!parsed) return exit_code;
  const config::RunConfig& config = *parsed;

  StatusOr<service::Service> service = service::StartService(
      "worker " + std::to_string(config.worker.worker_id), config.output);
  if (!service.ok()) {
    LOG_ERROR("%s", service.status().message().c_str());
    return 1;
  }
  zmq::context_t context(1);
  StatusOr<std::unique_ptr<Worker>> worker =
      Worker::Create(config, &context, service->registry.get());
  if (!worker.ok()) {
    LOG_ERROR("%s", worker.status().message().c_str());
    return 1;
  }
  metrics::MetricsExposer* exposer = service->exposer.get();
  (*worker)->set_on_joined([exposer] { exposer->set_ready(true); });
  Status status =
      service::WriteReadyFile(config.output, *service, /*endpoint=*/"");
  if (!status.ok()) {
    LOG_ERROR("%s", status.message().c_str());
    return 1;
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
  if (g_signal.load() != 0) {
    LOG_INFO("stopped by signal %d before the run completed", g_signal.load());
    return 128 + g_signal.load();
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
