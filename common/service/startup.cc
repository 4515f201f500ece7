#include "common/service/startup.h"

#include <unistd.h>

#include <cstdio>
#include <utility>

#include "common/base/log.h"
#include "common/codec/codec.h"
#include "common/data/dataset.h"

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
                      const Service& service, io::JsonObject fields) {
  if (output.ready_file.empty()) return Status::Ok();
  fields.Add("metrics_port", service.exposer->port())
      .Add("pid", static_cast<int64_t>(getpid()));
  return io::WriteFileAtomically(output.ready_file, fields.ToString());
}

void AddRunSettings(const config::RunConfig& config, io::JsonObject* json) {
  const config::TrainOptions& train = config.train;
  json->Add("workers", train.workers)
      .Add("dataset", std::string(data::DatasetName(train.dataset)))
      .Add("model", train.model)
      .Add("codec", train.codec)
      .Add("partition", train.partition)
      .Add("local_steps", train.local_steps)
      .Add("alpha", train.alpha)
      .Add("beta", train.beta)
      .Add("lr", train.lr)
      .Add("batch_size", train.batch_size)
      .Add("seed", train.seed);
}

void AddTraffic(int64_t bytes_up, int64_t bytes_down, int64_t raw_bytes_up,
                io::JsonObject* json) {
  json->Add("bytes_up", bytes_up)
      .Add("bytes_down", bytes_down)
      .Add("raw_bytes_up", raw_bytes_up)
      .Add("compression_ratio",
           codec::CompressionRatio(raw_bytes_up, bytes_up));
}

}  // namespace anchorage::service
