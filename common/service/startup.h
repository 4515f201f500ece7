// The start-up every subcommand shares: parsing its flags into a RunConfig
// (printing help or the one-line error), and for the long-running services
// the log role and level, a metrics registry with build info, the /metrics
// endpoint and the ready file.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json_fwd.hpp>
#include <prometheus/registry.h>

#include "common/base/status.h"
#include "common/config/flags.h"
#include "common/config/run_config.h"
#include "common/metrics/exposer.h"

namespace anchorage::service {

// Parses `argv` for `role`. On --help returns nullopt and sets *exit_code
// to 0; on a bad flag prints "anchorage <name>: <problem>" to stderr,
// returns nullopt and sets *exit_code to 2.
std::optional<config::RunConfig> ParseOrExit(config::Role role,
                                             const char* name, int argc,
                                             const char* const* argv,
                                             int* exit_code);

struct Service {
  std::shared_ptr<prometheus::Registry> registry;
  std::unique_ptr<metrics::MetricsExposer> exposer;
};

// Sets the log role and level, builds the registry (with
// anchorage_build_info) and serves it on --metrics-address/--metrics-port.
// Returns Unavailable when the port cannot be bound.
StatusOr<Service> StartService(const std::string& role,
                               const config::OutputOptions& output);

// What --ready-file holds once a service is ready: the server's bound
// endpoint (workers have none: empty, and then not written), the port of
// its /metrics endpoint and its process id. One JSON object.
struct ReadyFile {
  std::string endpoint;
  int metrics_port = 0;
  int64_t pid = 0;
};

// Writes --ready-file (if set) for this process: `endpoint` (empty for
// none), the service's metrics port and the pid.
Status WriteReadyFile(const config::OutputOptions& output,
                      const Service& service, const std::string& endpoint);

// Reads a ready file. Returns DataLoss naming `path` and the problem: a
// missing file, text that is not JSON, a missing or mistyped metrics_port
// or pid, or a metrics_port outside 1..65535.
StatusOr<ReadyFile> ReadReadyFile(const std::string& path);

// nlohmann-json conversions of the format above.
void to_json(nlohmann::ordered_json& json, const ReadyFile& ready);
void from_json(const nlohmann::ordered_json& json, ReadyFile& ready);

}  // namespace anchorage::service
