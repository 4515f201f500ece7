#include "common/service/startup.h"

#include <unistd.h>

#include <cstdio>
#include <utility>

#include "common/base/log.h"

namespace anchorage::service {
namespace {

LogLevel ParseLevel(const std::string& level) {
  if (level == "debug") return LogLevel::kDebug;
  if (level == "warning") return LogLevel::kWarning;
  if (level == "error") return LogLevel::kError;
  return LogLevel::kInfo;
}

}  // namespace

std::optional<config::RunConfig> ParseOrExit(config::Role role,
                                             const char* name, int argc,
                                             const char* const* argv,
                                             int* exit_code) {
  StatusOr<std::optional<config::RunConfig>> parsed =
      config::ParseCommandLine(role, argc, argv);
  if (!parsed.ok()) {
    std::fprintf(stderr, "anchorage %s: %s\n", name,
                 parsed.status().message().c_str());
    *exit_code = 2;
    return std::nullopt;
  }
  *exit_code = 0;
  return std::move(parsed).value();
}

StatusOr<Service> StartService(const std::string& role,
                               const config::OutputOptions& output) {
  SetLogRole(role);
  SetLogLevel(ParseLevel(output.log_level));
  Service service;
  service.registry = std::make_shared<prometheus::Registry>();
  metrics::AddBuildInfo(*service.registry);
  StatusOr<std::unique_ptr<metrics::MetricsExposer>> exposer =
      metrics::MetricsExposer::Create(output.metrics_address,
                                      output.metrics_port, service.registry);
  if (!exposer.ok()) return exposer.status();
  service.exposer = std::move(exposer).value();
  LOG_INFO("metrics on http://%s:%d/metrics", output.metrics_address.c_str(),
           service.exposer->port());
  return service;
}

Status WriteReadyFile(const config::OutputOptions& output,
                      const Service& service, io::JsonObject fields) {
  if (output.ready_file.empty()) return Status::Ok();
  fields.Add("metrics_port", service.exposer->port())
      .Add("pid", static_cast<int64_t>(getpid()));
  return io::WriteFileAtomically(output.ready_file, fields.ToString());
}

}  // namespace anchorage::service
