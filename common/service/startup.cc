#include "common/service/startup.h"

#include <unistd.h>

#include <cstdio>
#include <string>
#include <utility>

#include "common/base/log.h"
#include "common/io/json.h"

namespace anchorage::service {

std::optional<config::RunConfig> ParseOrExit(config::Role role,
                                             const char* name, int argc,
                                             const char* const* argv,
                                             int* exit_code) {
  StatusOr<std::optional<config::ParsedCommandLine>> parsed =
      config::ParseCommandLine(role, argc, argv);
  if (!parsed.ok()) {
    std::fprintf(stderr, "anchorage %s: %s\n", name,
                 parsed.status().message().c_str());
    *exit_code = 2;
    return std::nullopt;
  }
  *exit_code = 0;
  if (!parsed->has_value()) return std::nullopt;
  return std::move((*parsed)->config);
}

StatusOr<Service> StartService(const std::string& role,
                               const config::OutputOptions& output) {
  SetLogRole(role);
  SetLogLevel(output.log_level);
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
                      const Service& service, const std::string& endpoint) {
  if (output.ready_file.empty()) return Status::Ok();
  // Not synced: the file names a live process, so after a crash of the
  // machine it names nothing whether or not it was on disk, and the sync
  // would delay the start of every process that writes one.
  return io::WriteJsonFile(output.ready_file,
                           ReadyFile{.endpoint = endpoint,
                                     .metrics_port = service.exposer->port(),
                                     .pid = getpid()},
                           io::Durability::kAtomicOnly);
}

StatusOr<ReadyFile> ReadReadyFile(const std::string& path) {
  StatusOr<ReadyFile> ready = io::ReadJsonFile<ReadyFile>(path);
  if (ready.ok() && (ready->metrics_port <= 0 || ready->metrics_port > 65535)) {
    return Status::DataLoss(path + ": bad metrics_port " +
                            std::to_string(ready->metrics_port));
  }
  return ready;
}

void to_json(io::Json& json, const ReadyFile& ready) {
  json = io::Json::object();
  if (!ready.endpoint.empty()) json["endpoint"] = ready.endpoint;
  json["metrics_port"] = ready.metrics_port;
  json["pid"] = ready.pid;
}

void from_json(const io::Json& json, ReadyFile& ready) {
  ready.endpoint = json.value("endpoint", "");
  json.at("metrics_port").get_to(ready.metrics_port);
  json.at("pid").get_to(ready.pid);
}

}  // namespace anchorage::service
