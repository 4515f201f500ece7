#include "server/server_command.h"

#include <atomic>
#include <csignal>
#include <memory>

#include <zmq.hpp>

#include "common/base/log.h"
#include "common/io/npy.h"
#include "common/service/startup.h"
#include "common/summary/run_summary.h"
#include "server/server.h"

namespace anchorage::server {
namespace {

// Signal handlers reach the program only through a global.
// NOLINTNEXTLINE(cppcoreguidelines-avoid-non-const-global-variables)
std::atomic<Server*> g_server{nullptr};
// NOLINTNEXTLINE(cppcoreguidelines-avoid-non-const-global-variables)
std::atomic<int> g_signal{0};

void HandleStopSignal(int signal) {
  g_signal.store(signal);
  Server* server = g_server.load();
  if (server != nullptr) server->RequestStop();
}

}  // namespace

int RunServerCommand(int argc, const char* const* argv) {
  int exit_code = 0;
  const std::optional<config::RunConfig> parsed = service::ParseOrExit(
      config::Role::kServer, "server", argc, argv, &exit_code);
  if (!parsed) return exit_code;
  const config::RunConfig& config = *parsed;

  StatusOr<service::Service> service =
      service::StartService("server", config.output);
  if (!service.ok()) {
    LOG_ERROR("%s", service.status().message().c_str());
    return 1;
  }
  zmq::context_t context(1);
  StatusOr<std::unique_ptr<Server>> server =
      Server::Create(config, &context, service->registry.get());
  if (!server.ok()) {
    LOG_ERROR("%s", server.status().message().c_str());
    return 1;
  }
  // Bound: ready for workers.
  service->exposer->set_ready(true);
  Status status =
      service::WriteReadyFile(config.output, *service, (*server)->endpoint());
  if (!status.ok()) {
    LOG_ERROR("%s", status.message().c_str());
    return 1;
  }

  g_server.store(server->get());
  std::signal(SIGINT, HandleStopSignal);
  std::signal(SIGTERM, HandleStopSignal);
  StatusOr<summary::RunSummary> result = (*server)->Run();
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
  g_server.store(nullptr);
  if (!result.ok()) {
    LOG_ERROR("%s", result.status().message().c_str());
    return 1;
  }
  if (!config.output.summary_json.empty()) {
    status = summary::WriteRunSummary(config.output.summary_json, *result);
  }
  // Exit codes (DESIGN.md section 10): only a completed run writes the
  // final model and exits 0; an interrupted one leaves its checkpoint.
  const bool completed = (*server)->completed();
  if (status.ok() && completed && !config.output.save_model.empty()) {
    status = io::WriteNpy(config.output.save_model, (*server)->anchor());
    if (status.ok()) {
      LOG_INFO("final anchor written to %s", config.output.save_model.c_str());
    }
  }
  if (!status.ok()) {
    LOG_ERROR("%s", status.message().c_str());
    return 1;
  }
  if (completed) return 0;
  if (g_signal.load() != 0) return 128 + g_signal.load();
  return 1;
}

}  // namespace anchorage::server
