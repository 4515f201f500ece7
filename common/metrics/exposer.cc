#include "common/metrics/exposer.h"

#include <exception>
#include <utility>

#include <prometheus/exposer.h>
#include <prometheus/gauge.h>

namespace anchorage::metrics {

StatusOr<std::unique_ptr<MetricsExposer>> MetricsExposer::Create(
    const std::string& address, int port,
    std::shared_ptr<prometheus::Registry> registry) {
  const std::string bind = address + ":" + std::to_string(port);
  std::unique_ptr<prometheus::Exposer> exposer;
  try {
    exposer = std::make_unique<prometheus::Exposer>(bind, 2);
  } catch (const std::exception& e) {
    return Status::Unavailable("cannot serve metrics on " + bind + ": " +
                               e.what());
  }
  const std::vector<int> ports = exposer->GetListeningPorts();
  if (ports.empty()) {
    return Status::Unavailable("cannot serve metrics on " + bind);
  }
  exposer->RegisterCollectable(registry);
  return std::unique_ptr<MetricsExposer>(
      new MetricsExposer(std::move(exposer), ports.front(), std::move(registry)));
}

MetricsExposer::MetricsExposer(std::unique_ptr<prometheus::Exposer> exposer,
                               int port,
                               std::shared_ptr<prometheus::Registry> registry)
    : registry_(std::move(registry)), exposer_(std::move(exposer)), port_(port) {}

MetricsExposer::~MetricsExposer() = default;

void AddBuildInfo(prometheus::Registry& registry) {
  prometheus::BuildGauge()
      .Name("anchorage_build_info")
      .Help("Build information; always 1")
      .Register(registry)
      .Add({{"version", ANCHORAGE_VERSION}})
      .Set(1);
}

}  // namespace anchorage::metrics
