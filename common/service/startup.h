// The start-up every subcommand shares: parsing its flags into a RunConfig
// (printing help or the one-line error), and for the long-running services
// the log role and level, a metrics registry with build info, the /metrics
// endpoint and the ready file.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include <prometheus/registry.h>

#include "common/base/status.h"
#include "common/config/flags.h"
#include "common/config/run_config.h"
#include "common/io/json.h"
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

// Writes --ready-file (if set): `fields` plus metrics_port and pid.
Status WriteReadyFile(const config::OutputOptions& output,
                      const Service& service, io::JsonObject fields);

}  // namespace anchorage::service
