#include "server/server_command.h"

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
#include "common/io/npy.h"
#include "common/metrics/exposer.h"
#include "server/server.h"

namespace anchorage::server {
namespace {

std::atomic<Server*> g_server{nullptr};

void HandleStopSignal(int /*signal*/) {
  Server* server = g_server.load();
  if (server != nullptr) server->RequestStop();
}

LogLevel ParseLevel(const std::string& level) {
  if (level == "debug") return LogLevel::kDebug;
  if (level == "warning") return LogLevel::kWarning;
  if (level == "error") return LogLevel::kError;
  return LogLevel::kInfo;
}

}  // namespace

int RunServerCommand(int argc, const char* const* argv) {
  StatusOr<std::optional<config::RunConfig>> parsed =
      config::ParseCommandLine(config::Role::kServer, argc, argv);
  if (!parsed.ok()) {
    std::fprintf(stderr, "anchorage server: %s\n",
                 parsed.status().message().c_str());
    return 2;
  }
  if (!parsed->has_value()) return 0;
  const config::RunConfig& config = **parsed;
  SetLogRole("server");
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
  StatusOr<std::unique_ptr<Server>> server =
      Server::Create(config, &context, registry.get());
  if (!server.ok()) {
    LOG_ERROR("%s", server.status().message().c_str());
    return 1;
  }
  // Bound: ready for workers.
  (*exposer)->set_ready(true);
  LOG_INFO("metrics on http://%s:%d/metrics",
           config.output.metrics_address.c_str(), (*exposer)->port());
  if (!config.output.ready_file.empty()) {
    io::JsonObject ready;
    ready.Add("endpoint", (*server)->endpoint())
        .Add("metrics_port", (*exposer)->port())
        .Add("pid", static_cast<int64_t>(getpid()));
    Status status =
        io::WriteFileAtomically(config.output.ready_file, ready.ToString());
    if (!status.ok()) {
      LOG_ERROR("%s", status.message().c_str());
      return 1;
    }
  }

  g_server.store(server->get());
  std::signal(SIGINT, HandleStopSignal);
  std::signal(SIGTERM, HandleStopSignal);
  StatusOr<ServerSummary> summary = (*server)->Run();
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
  g_server.store(nullptr);
  if (!summary.ok()) {
    LOG_ERROR("%s", summary.status().message().c_str());
    return 1;
  }
  if (!config.output.summary_json.empty()) {
    Status status =
        WriteSummaryJson(config.output.summary_json, config, *summary);
    if (!status.ok()) {
      LOG_ERROR("%s", status.message().c_str());
      return 1;
    }
  }
  if (!config.output.save_model.empty()) {
    Status status = io::WriteNpy(config.output.save_model, (*server)->anchor());
    if (!status.ok()) {
      LOG_ERROR("%s", status.message().c_str());
      return 1;
    }
    LOG_INFO("final anchor written to %s", config.output.save_model.c_str());
  }
  return 0;
}

}  // namespace anchorage::server
